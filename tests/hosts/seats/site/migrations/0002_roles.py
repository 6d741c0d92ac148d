"""The site's roles, as its own data migration would make them."""

from django.db import migrations

ROLES = ("owner", "admin", "member")


def add_roles(apps, schema_editor):
    Role = apps.get_model("seathost", "Role")
    for name in ROLES:
        Role.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("seathost", "0001_initial")]
    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
