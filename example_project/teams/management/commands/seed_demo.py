"""Create the demo data: two teams, their owners, a superuser, SCIM enabled for both.

Idempotent: running it again changes nothing. It never issues SCIM tokens
(use ``python manage.py scim_token issue --team SLUG``).

The owners get a known password so that ``make demo`` can say how to sign in as one
(issue 24: they had none, so the team page could not be reached). That password lives
here only: never in a migration, a fixture or the app.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from example_project.teams.models import Membership, Team
from scim_provisioning.models import SCIMTeamConfig

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "demo-password-change-me"
#: The seeded team owners' password (the demo's only; see the module's docstring).
OWNER_PASSWORD = "demo-owner-password"

TEAMS = [
    # slug, name, owner email, owner first/last name
    ("acme", "Acme Corp", "owner@acme.example", "Ada", "Acme"),
    ("globex", "Globex", "owner@globex.example", "Hank", "Scorpio"),
]
#: Members of the IdP group "<Name> Admins" become team admins.
ADMIN_GROUP = "{name} Admins"


class Command(BaseCommand):
    help = "Seed the example site with demo teams, owners and an admin; enable SCIM for the teams."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()

        admin = User.objects.filter(email=ADMIN_EMAIL).first()
        if admin is None:
            User.objects.create_superuser(ADMIN_EMAIL, ADMIN_PASSWORD)
            self.stdout.write(f"Created superuser {ADMIN_EMAIL}")

        for slug, name, owner_email, first_name, last_name in TEAMS:
            team, created = Team.objects.get_or_create(slug=slug, defaults={"name": name})
            if created:
                self.stdout.write(f"Created team {slug} ({name})")

            owner = User.objects.filter(email=owner_email).first()
            if owner is None:
                owner = User.objects.create_user(
                    owner_email,
                    password=OWNER_PASSWORD,
                    first_name=first_name,
                    last_name=last_name,
                )
                self.stdout.write(f"Created user {owner_email}")
            elif not owner.has_usable_password():
                # A demo database seeded before owners had a password.
                owner.set_password(OWNER_PASSWORD)
                owner.save(update_fields=["password"])

            _, created = Membership.objects.get_or_create(
                team=team, user=owner, defaults={"role": Membership.Role.OWNER}
            )
            if created:
                self.stdout.write(f"Made {owner_email} owner of {slug}")

            # update_or_create(team=team, defaults={"enabled": True}), minus the
            # write (and new "updated" time) when SCIM is already enabled.
            admin_group = ADMIN_GROUP.format(name=name.split()[0])
            config, _ = SCIMTeamConfig.objects.get_or_create(
                team=team,
                defaults={"enabled": True, "group_roles": {admin_group: Membership.Role.ADMIN}},
            )
            if not config.enabled:
                config.enabled = True
                config.save()
                self.stdout.write(f"Enabled SCIM for {slug}")
            if not config.group_roles:
                config.group_roles = {admin_group: Membership.Role.ADMIN}
                config.save()
            self.stdout.write(f"Members of the IdP group {admin_group!r} become {slug} admins")

        self.stdout.write(f"SCIM enabled for: {', '.join(slug for slug, *_ in TEAMS)}")
        self.stdout.write(f"Demo admin: {ADMIN_EMAIL} / {ADMIN_PASSWORD}")
        for slug, _name, owner_email, *_ in TEAMS:
            self.stdout.write(f"Owner of {slug}: {owner_email} / {OWNER_PASSWORD}")
