"""A site that ran django-scim2 as its documentation says: its mixin on the user model.

``AbstractSCIMUserMixin`` gives ``scim_id`` (set to the primary key on the first
save), ``scim_external_id`` and ``scim_username``; the teams are organizations
with a membership row carrying an active flag.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMUserMixin


class User(AbstractSCIMUserMixin, AbstractUser):
    pass


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    def __str__(self) -> str:
        return self.name


class OrgMembership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, default="member")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="ds2host_one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id}"
