"""The guided setup's live status: has the IdP made its first request with the new token?

The status follows one token, the team's newest live one (the token the
setup page just issued), through the request log: nothing yet (*waiting*),
requests that succeed (*connected*: "Connected: Okta, first request 14:02,
3 people provisioned"), or a latest request that failed (*failing*: the first
failure since the last success, with what it means and how to fix it, from
:data:`~scim_provisioning.setup.guides.FAILURES`). A request with a wrong token
names no team, so it cannot show here; the waiting status says what to look for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from django.db.models import Q
from django.utils import timezone

from ..dates import format_moment
from ..health import failed_requests, idp_requests
from ..models import IdentityProvider, SCIMRequestLog, SCIMToken, SCIMUser
from ..scope import TeamScope
from .guides import Failure, IdentityProviderGuide, failures_for


class ConnectionState(str, Enum):
    WAITING = "waiting"
    CONNECTED = "connected"
    FAILING = "failing"


@dataclass(frozen=True)
class FailedRequest:
    """A request of the IdP that failed, and the rows of the failure table that explain it."""

    when: datetime
    method: str
    path: str
    status: int
    explanations: tuple[Failure, ...]
    #: What the request was answered (``scimType: detail``), from the request log.
    error: str = ""


@dataclass(frozen=True)
class ConnectionStatus:
    """What the setup page shows while it waits for the IdP."""

    state: ConnectionState
    headline: str
    detail: str
    first_request: datetime | None = None
    people: int = 0
    failure: FailedRequest | None = None

    def as_json(self) -> dict[str, Any]:
        """For the page's script: plain text only (the script sets ``textContent``)."""
        failure = None
        if self.failure is not None:
            failure = {
                "status": self.failure.status,
                "request": f"{self.failure.method} {self.failure.path}",
                "when": self.failure.when.isoformat(),
                "error": self.failure.error,
                "explanations": [
                    {"meaning": plain(f.meaning), "fix": plain(f.fix)}
                    for f in self.failure.explanations
                ],
            }
        return {
            "state": self.state.value,
            "headline": self.headline,
            "detail": self.detail,
            "first_request": self.first_request.isoformat() if self.first_request else None,
            "people": self.people,
            "failure": failure,
        }


def plain(markdown: str) -> str:
    """A guide's inline Markdown as plain text (code spans and bold unmarked)."""
    text = re.sub(r"\[([^\]]+)\]\([^)\s]+\)", r"\1", markdown)
    return text.replace("**", "").replace("*", "").replace("`", "")


def _clock(when: datetime) -> str:
    # The app's one format, with the zone: the IdP's own log is what it is compared with.
    return format_moment(when)


def _idp_name(entry: SCIMRequestLog, chosen: IdentityProviderGuide | None) -> str:
    if entry.idp != IdentityProvider.OTHER:
        return IdentityProvider(entry.idp).label
    return chosen.name if chosen and chosen.log_idp != "other" else "your identity provider"


def _newest_live_token(scope: TeamScope) -> SCIMToken | None:
    now = timezone.now()
    return (
        scope.filter(SCIMToken.objects.for_idp())
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
        .first()
    )


def connection_status(team: Any, idp: IdentityProviderGuide | None = None) -> ConnectionStatus:
    """The status of ``team``'s newest live token; ``idp`` is the one the admin chose."""
    scope = TeamScope.of(team)
    token = _newest_live_token(scope)
    waiting_for = idp.name if idp else "your identity provider"
    if token is None:
        return ConnectionStatus(
            ConnectionState.WAITING,
            "No live token yet.",
            "Issue a token above and paste it into the identity provider.",
        )
    requests = idp_requests(scope).filter(token_prefix=token.prefix)
    first = requests.order_by("created", "pk").first()
    if first is None:
        return ConnectionStatus(
            ConnectionState.WAITING,
            f"Waiting for the first request from {waiting_for}…",
            f"Nothing has arrived with the token {token.prefix}… yet. When the identity "
            "provider tests the connection and reports 401, the token was pasted wrongly "
            "(paste it alone, without 'Bearer'); when nothing arrives at all, use "
            "Check connection below.",
        )
    name = _idp_name(first, idp)
    people = scope.filter(SCIMUser.objects.filter(active=True)).count()
    latest = requests.order_by("-created", "-pk").first()
    assert latest is not None
    failing = requests.filter(failed_requests())
    if not failing.filter(pk=latest.pk).exists():
        return ConnectionStatus(
            ConnectionState.CONNECTED,
            f"Connected: {name}, first request {_clock(first.created)}, "
            f"{people} {'person' if people == 1 else 'people'} provisioned.",
            f"Latest request {_clock(latest.created)}: {latest.method} {latest.path} "
            f"({latest.status}).",
            first_request=first.created,
            people=people,
        )
    last_success = requests.exclude(failed_requests()).order_by("-created", "-pk").first()
    if last_success is not None:
        failing = failing.filter(created__gte=last_success.created).exclude(pk=last_success.pk)
    entry = failing.order_by("created", "pk").first() or latest
    failure = FailedRequest(
        when=entry.created,
        method=entry.method,
        path=entry.path,
        status=entry.status,
        explanations=tuple(failures_for(entry.status, entry.error)),
        error=entry.error,
    )
    what = "first request" if last_success is None else "requests"
    return ConnectionStatus(
        ConnectionState.FAILING,
        f"{name}'s {what} failed: {entry.status} for {entry.method} {entry.path} "
        f"at {_clock(entry.created)}.",
        "What it means and how to fix it is below; the identity provider's own log shows "
        "the site's message.",
        first_request=first.created,
        people=people,
        failure=failure,
    )
