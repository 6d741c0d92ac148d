"""The example site counts a seat off whenever an active membership row goes, however it goes.

SCIM's DELETE, the admin, a bulk delete and the cascade of a deleted account
all send ``post_delete`` for each row (Django fetches the rows first when a
receiver listens), so the count follows every one of them.
"""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from . import seats
from .models import Membership


@receiver(post_delete, sender=Membership)
def release_seat(sender, instance, **kwargs):
    if instance.is_active:
        seats.release(instance.team_id)
