"""The user and group models django-scim2 asks for: Django's own, plus its SCIM mixins.

As its documentation and demo app do: ``AbstractSCIMUserMixin`` on the custom
user model (``scim_id``, ``scim_external_id``, ``scim_username``) and
``AbstractSCIMGroupMixin`` on a group model named by ``GROUP_MODEL``. The
default adapters read ``user.scim_groups`` and ``group.user_set``, so that is
the many-to-many relation between them.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class Group(AbstractSCIMGroupMixin):
    name = models.CharField(max_length=150)

    def __str__(self):
        return self.name


class User(AbstractSCIMUserMixin, AbstractUser):
    scim_groups = models.ManyToManyField(Group, related_name="user_set", blank=True)

    def __str__(self):
        return self.username
