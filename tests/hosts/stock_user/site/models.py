"""Organizations and who belongs to them: a membership row while the person belongs.

No active flag: leaving the organization deletes the row. The accounts are
Django's stock ``auth.User`` (username-keyed, email not unique).
"""

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    def __str__(self) -> str:
        return self.name


class OrgMembership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships"
    )
    role = models.CharField(max_length=20, default="member")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


# -- Test-only shapes of other hosts (issue 22), switched on by settings in the tests. --


class OwnerRequired(Exception):  # noqa: N818 - named as django-organizations' OwnershipRequired
    """A host's own guard: its models raise it to refuse to lose an organization's owner.

    A plain ``Exception``, as django-organizations' ``OwnershipRequired``: the app
    takes it as a refusal only because the settings name it.
    """


class OrgUser(models.Model):
    """django-organizations' shape: a boolean admin flag, a row while the person belongs.

    Deleting the owner's row is refused by ``delete()``, as
    ``OrganizationUser.delete()`` does; a queryset delete would skip it and
    cascade to :class:`OrgOwner`.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="org_users"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_users"
    )
    is_admin = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_org_user_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"

    def delete(self, *args, **kwargs):
        if OrgOwner.objects.filter(organization_user=self).exists():
            raise OwnerRequired(
                "Cannot delete organization owner before organization or transferring ownership."
            )
        return super().delete(*args, **kwargs)


class OrgOwner(models.Model):
    """The organization's owner, one of its :class:`OrgUser` rows (cascades with it)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="owner"
    )
    organization_user = models.OneToOneField(OrgUser, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"owner of {self.organization}"


class Role(models.Model):
    """A seat's role, as a row: roles by foreign key (the ``Seat`` host of issue 22)."""

    name = models.CharField(max_length=20, unique=True)

    def __str__(self) -> str:
        return self.name


class Seat(models.Model):
    """A membership with an active flag and its role a foreign key, guarding its owner.

    ``save()`` refuses to deactivate the owner and ``delete()`` to delete them;
    every save and deletion writes a :class:`SeatAudit` row (receivers below).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seats"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="seats")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_seat_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role_id})"

    def save(self, *args, **kwargs):
        if self.pk and not self.is_active and self.role.name == "owner":
            raise OwnerRequired("The workspace's owner keeps their seat: transfer ownership first.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.role.name == "owner":
            raise OwnerRequired(
                "The workspace's owner cannot be removed: transfer ownership first."
            )
        return super().delete(*args, **kwargs)


class SeatAudit(models.Model):
    """What happened to seats, written by receivers: proof that the host's signals ran."""

    seat_pk = models.BigIntegerField()
    action = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"seat {self.seat_pk}: {self.action}"


@receiver(post_save, sender=Seat)
def _audit_save(sender, instance, created, **kwargs):
    action = "created" if created else ("active" if instance.is_active else "inactive")
    SeatAudit.objects.create(seat_pk=instance.pk, action=action)


@receiver(post_delete, sender=Seat)
def _audit_delete(sender, instance, **kwargs):
    SeatAudit.objects.create(seat_pk=instance.pk, action="deleted")
