"""Teams and who belongs to them. scim_provisioning reaches these through its adapter."""

from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    seats_used = models.PositiveIntegerField(
        default=0, help_text="Active members; kept up to date from scim_provisioning's signals."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(
        default=True, help_text="Inactive members keep their record but cannot use the team."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"], name="teams_membership_unique_team_user"
            )
        ]
        # The seat count (receivers.recount_seats) counts a team's active members
        # on this index alone, without reading the rows.
        indexes = [models.Index(fields=["team", "is_active"], name="teams_membership_seats")]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"
