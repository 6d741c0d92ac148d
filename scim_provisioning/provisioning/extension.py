"""Writes of the host's own User extension: its indexed rows, and the hand-off to the adapter."""

from __future__ import annotations

from typing import Any

from ..adapters import get_adapter
from ..extension_values import extension_values, write_rows
from ..models import SCIMTeamConfig, SCIMUser
from ..schemas import user_extension


def before_change(record: SCIMUser) -> dict[str, Any] | None:
    """The record's extension values before a write; ``None`` when the host declares none."""
    custom = user_extension()
    return extension_values(custom, record) if custom is not None else None


def after_change(
    config: SCIMTeamConfig, record: SCIMUser, before: dict[str, Any] | None, *, created: bool
) -> None:
    """Mirror the record's extension values into rows and hand them to the adapter.

    On an update, only when they changed: a write that leaves them as they were
    costs no query and no adapter call.
    """
    custom = user_extension()
    if custom is None:
        return
    values = extension_values(custom, record)
    if values == (before or {}):
        return  # a create without them, or an update leaving them as they were
    write_rows(custom, record, replace=not created)
    # Every declared attribute, None for one without a value: the host clears its field.
    handed = {**dict.fromkeys(custom.fields), **values}
    adapter = get_adapter()
    account = record.user
    # A just-created account is the team's own; otherwise ask, as names do (DESIGN promise 6).
    managed = record.created_account and (
        created or adapter.is_managed_by_team(config, account, record)
    )
    adapter.set_custom_attributes(config, account, handed, managed=managed)
