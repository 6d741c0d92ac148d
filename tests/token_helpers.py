"""What the token-fold tests share: ending a token between two requests, and finding
the statements that looked a token up on its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from scim_provisioning.models import SCIMToken
from scim_provisioning.tokens import revoke_tokens

TOKEN_TABLE = SCIMToken._meta.db_table


def token_reads(queries: Any) -> list[str]:
    """The statements among ``queries`` (a ``CaptureQueriesContext``) that read the token table."""
    return [q["sql"] for q in queries if q["sql"].lstrip().startswith(f'SELECT "{TOKEN_TABLE}"')]


def revoke(team: Any, issued: Any) -> None:
    """End every token of ``team`` (the IT admin's emergency stop)."""
    revoke_tokens(team)


def expire(team: Any, issued: Any) -> None:
    """Make the token ``issued`` expired a second ago."""
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
