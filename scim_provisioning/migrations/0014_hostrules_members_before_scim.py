# The team model is the host's (SCIM_PROVISIONING_TEAM_MODEL), referenced like AUTH_USER_MODEL.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def remember_members_before_scim(apps, schema_editor):
    """The records that say so today become the (team, account) fact."""
    SCIMUser = apps.get_model("scim_provisioning", "SCIMUser")
    Fact = apps.get_model("scim_provisioning", "SCIMMemberBeforeSCIM")
    pairs = SCIMUser.objects.filter(membership_existed=True).values_list("team_id", "user_id")
    Fact.objects.bulk_create(
        [Fact(team_id=team, user_id=user) for team, user in pairs.iterator()],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('scim_provisioning', '0013_user_by_id_within_team'),
        migrations.swappable_dependency(settings.SCIM_PROVISIONING_TEAM_MODEL),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='scimlinkrefusal',
            name='reason',
            field=models.CharField(choices=[('unverified', 'its owner has not proven the address'), ('staff', 'a staff account'), ('seat', 'the site refused a seat'), ('host', "the site's rules refused the change")], max_length=16),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='membership_existed',
            field=models.BooleanField(default=False, help_text='The account already belonged to the team when SCIM first linked it (SCIMMemberBeforeSCIM): its role stays its own, whatever IdP groups say.'),
        ),
        migrations.CreateModel(
            name='SCIMMemberBeforeSCIM',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('recorded', models.DateTimeField(default=django.utils.timezone.now)),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.SCIM_PROVISIONING_TEAM_MODEL)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'SCIM member from before SCIM',
                'verbose_name_plural': 'SCIM members from before SCIM',
                'constraints': [models.UniqueConstraint(fields=('team', 'user'), name='scim_member_before_scim_unique')],
            },
        ),
        migrations.RunPython(remember_members_before_scim, migrations.RunPython.noop),
    ]
