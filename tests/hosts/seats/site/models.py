"""A workspace site of the second shape issue 22 met.

Accounts keyed by email (signed in through django-allauth), workspaces with an
owner, and a seat per (workspace, person) whose role is a **foreign key** to a
``Role`` row. The site's own rules live in its model: a seat of the
workspace's owner can be neither deactivated, demoted nor deleted
(``Seat.save()``/``delete()`` raise ``ValidationError``), and every change of a
seat is written to an audit trail by ``post_save``/``post_delete`` receivers
(``receivers.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self) -> str:
        return self.email


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """The site's roles: rows made by its data migration (owner, admin, member)."""

    name = models.CharField(max_length=30, unique=True)

    def __str__(self) -> str:
        return self.name


class Seat(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.ForeignKey(Role, on_delete=models.PROTECT)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_seat_per_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._is_owners() and (not self.is_active or self.role.name != "owner"):
            raise ValidationError(
                "The workspace owner's seat cannot be deactivated or demoted: "
                "transfer the ownership first."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._is_owners():
            raise ValidationError(
                "The workspace owner's seat cannot be removed: transfer the ownership first."
            )
        return super().delete(*args, **kwargs)

    def _is_owners(self) -> bool:
        return self.user_id is not None and self.user_id == self.workspace.owner_id


class AuditEntry(models.Model):
    """What happened to a seat, written by the site's receivers (never by SCIM itself)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    action = models.CharField(max_length=20)
    role = models.CharField(max_length=30, blank=True)
    is_active = models.BooleanField(null=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.action} {self.user_id} in {self.workspace_id}"
