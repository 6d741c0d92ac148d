# The login rule of issue 21: SCIM moves a login only from one the team gave
# inside a domain it had verified at that moment (SCIMUser.login_domain), and
# refuses to turn a site-deactivated manager back on (a refusal reason of its
# own; SCIMUser.deactivated_by_site remembers who switched a membership off).
#
# Records the team's SCIM created before this migration get the domain of their
# address when it was verified then: a DNS-proven domain verified no later than
# the record was created, or a staff-set domain (staff-set domains keep no date;
# the site's staff vouched for them). Others stay empty: their login moves only
# while nobody has used the account.

from django.db import migrations, models


def _domain(email):
    local, at, domain = (email or "").rpartition("@")
    return domain.lower() if at and local and "@" not in local else ""


def backfill_login_domains(apps, schema_editor):
    SCIMUser = apps.get_model("scim_provisioning", "SCIMUser")
    SCIMTeamConfig = apps.get_model("scim_provisioning", "SCIMTeamConfig")
    SCIMTeamDomain = apps.get_model("scim_provisioning", "SCIMTeamDomain")
    staff_set = {
        team_id: {str(d).strip().lower().lstrip("@").rstrip(".") for d in domains or []}
        for team_id, domains in SCIMTeamConfig.objects.values_list("team_id", "verified_domains")
    }
    proven = {}
    for team_id, domain, verified_at in SCIMTeamDomain.objects.filter(
        verified_at__isnull=False
    ).values_list("team_id", "domain", "verified_at"):
        proven[(team_id, domain)] = verified_at
    if not any(staff_set.values()) and not proven:
        return
    records = SCIMUser.objects.filter(created_account=True).values_list(
        "pk", "team_id", "email", "created"
    )
    by_domain = {}
    for pk, team_id, email, created in records.iterator(chunk_size=2000):
        domain = _domain(email)
        if not domain:
            continue
        verified_at = proven.get((team_id, domain))
        if domain in staff_set.get(team_id, ()) or (
            verified_at is not None and verified_at <= created
        ):
            by_domain.setdefault(domain, []).append(pk)
    for domain, pks in by_domain.items():
        for start in range(0, len(pks), 500):
            SCIMUser.objects.filter(pk__in=pks[start : start + 500]).update(login_domain=domain)


class Migration(migrations.Migration):
    dependencies = [
        ("scim_provisioning", "0016_oauth"),
    ]

    operations = [
        migrations.AddField(
            model_name="scimuser",
            name="login_domain",
            field=models.CharField(
                blank=True,
                default="",
                help_text=(
                    "The verified domain of the team in which this record's provisioning gave "
                    "the account its login email (on create, or on a later move of it): SCIM "
                    "moves a login only from there. Empty: the team never gave it one inside a "
                    "verified domain, and a domain verified later hands over nothing."
                ),
                max_length=253,
            ),
        ),
        migrations.AddField(
            model_name="scimuser",
            name="deactivated_by_site",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "The site had switched the membership off before the IdP deactivated the "
                    "person: SCIM's reactivation does not switch a manager role back on."
                ),
            ),
        ),
        migrations.AlterField(
            model_name="scimlinkrefusal",
            name="reason",
            field=models.CharField(
                choices=[
                    ("unverified", "its owner has not proven the address"),
                    ("staff", "a staff account"),
                    ("seat", "the site refused a seat"),
                    ("host", "the site's rules refused the change"),
                    ("deactivated", "a manager the site deactivated"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(backfill_login_domains, migrations.RunPython.noop, elidable=True),
    ]
