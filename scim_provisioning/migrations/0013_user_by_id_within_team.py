# People by id within their team: a group's members named by the IdP are looked
# up this way, and SQLite without statistics otherwise walks the team's whole index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scim_provisioning", "0012_user_value_extension_columns"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="scimuser",
            index=models.Index(fields=["team", "id"], name="scim_user_team_id"),
        ),
    ]
