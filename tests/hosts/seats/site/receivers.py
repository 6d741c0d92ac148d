"""The site's audit trail: a row for every seat saved or deleted, however it changed."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import AuditEntry, Seat


@receiver(post_save, sender=Seat, dispatch_uid="seathost_audit_saved")
def audit_saved(sender: Any, instance: Seat, created: bool, **kwargs: Any) -> None:
    AuditEntry.objects.create(
        workspace_id=instance.workspace_id,
        user_id=instance.user_id,
        action="created" if created else "changed",
        role=instance.role.name,
        is_active=instance.is_active,
    )


@receiver(post_delete, sender=Seat, dispatch_uid="seathost_audit_deleted")
def audit_deleted(sender: Any, instance: Seat, **kwargs: Any) -> None:
    AuditEntry.objects.create(
        workspace_id=instance.workspace_id, user_id=instance.user_id, action="deleted"
    )
