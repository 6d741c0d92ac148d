# The connection doctor's throwaway tokens are marked as its own (kept out of the team's
# token lists), and its requests get their own label in the request log (issue 24).
# Rows logged before keep "other": the log is pruned within REQUEST_LOG_RETENTION_DAYS.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scim_provisioning', '0013_user_by_id_within_team'),
    ]

    operations = [
        migrations.AddField(
            model_name='scimtoken',
            name='is_doctor',
            field=models.BooleanField(default=False, editable=False, help_text='Issued by the connection doctor for one check, and revoked after it.', verbose_name='connection check'),
        ),
        migrations.AlterField(
            model_name='scimrequestlog',
            name='idp',
            field=models.CharField(choices=[('okta', 'Okta'), ('entra', 'Microsoft Entra ID'), ('onelogin', 'OneLogin'), ('jumpcloud', 'JumpCloud'), ('doctor', 'Connection check'), ('other', 'Other')], default='other', max_length=16, verbose_name='identity provider'),
        ),
    ]
