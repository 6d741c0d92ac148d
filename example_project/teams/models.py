"""Teams and who belongs to them. scim_provisioning reaches these through its adapter."""

from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    seats_used = models.PositiveIntegerField(
        default=0, help_text="Active members, counted as they change (see teams/seats.py)."
    )
    max_seats = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The most active members the team may have; empty for no limit. "
        "The team's IdP is refused a seat past it; staff may still add members here.",
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
        indexes = [
            # seats.recount counts a team's active members on this index alone.
            models.Index(fields=["team", "is_active"], name="teams_membership_seats"),
            # Before a deactivation, SCIM locks the team's active owners and admins
            # (is the last one leaving?): a few rows found here, not every member read.
            models.Index(fields=["team", "role"], name="teams_membership_roles"),
        ]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    def save(self, *args, count_seat=True, **kwargs):
        """Save, and count the seat if the membership was switched on or off.

        ``count_seat=False``: the caller counted it already (the SCIM adapter
        takes the seat before it switches the membership on). A deletion is
        counted by receivers.release_seat, whatever deletes the row.
        """
        from . import seats

        was_active = getattr(self, "_saved_active", False) and not self._state.adding
        super().save(*args, **kwargs)
        self._saved_active = self.is_active
        if count_seat and self.is_active != was_active:
            (seats.add if self.is_active else seats.release)(self.team_id)

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        # What the row says, so that save() can tell a switch from a re-save.
        # **kwargs: Django 6.1 passes fetch_mode and deprecates signatures without it.
        membership = super().from_db(db, field_names, values, **kwargs)
        membership._saved_active = membership.__dict__.get("is_active", False)
        return membership
