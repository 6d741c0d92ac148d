"""Recording SCIM requests for the operators: one INSERT, never a secret, never a failure.

What an IdP sent is the first thing anyone asks for when provisioning goes
wrong, so every request is recorded with its outcome. The body is reduced to
a redacted summary: passwords and anything named like a secret are replaced,
strings are cut at 200 characters, lists after 10 items, the whole at 2,000.
The row is built once the response has been sent (WSGI servers call the
response's ``close()`` after the last byte) and handed to
:mod:`.request_log_writer`, which saves rows in batches on a thread of its
own: no request waits for a log write, its own or another's. If saving fails,
the failure is logged; the IdP has its answer already.

Secrets never reach the row (DESIGN promise 6, rules in
:mod:`scim_provisioning.redaction`): a password is dropped whatever the form
(a body key ``password`` at any depth and in any case, a PATCH operation
whose ``path`` names it, with or without the core URN or inside a value
filter); credential-like query parameters (``access_token``) and anything
shaped like a bearer token are replaced. A request without a valid token is
recorded compactly (no query, no body, the path cut) and at most
``SCIM_PROVISIONING_UNAUTHENTICATED_LOG_LIMIT`` times per client address per
minute, so that a scanner cannot fill the table.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from functools import lru_cache
from typing import Any

from django.core.cache import caches

from .conf import app_settings
from .models import DOCTOR_USER_AGENT, IdentityProvider, SCIMRequestLog
from .redaction import (
    REDACTED,
    SETUP_LINK_PREFIX,
    TOKEN_PREFIX,
    is_secret_name,
    redact_path,
    redact_query,
    scrub_tokens,
)
from .request_log_writer import writer
from .storable_text import clean
from .throttling import increment

logger = logging.getLogger("scim_provisioning")

__all__ = [
    "REDACTED",
    "build_entry",
    "detect_idp",
    "record_after_response",
    "redact",
    "request_idp",
    "summarize",
]

_MAX_STRING, _MAX_ITEMS, _MAX_SUMMARY, _MAX_ERROR = 200, 10, 2000, 500
#: What is kept of an unauthenticated request's path and User-Agent.
_MAX_ANONYMOUS_PATH, _MAX_ANONYMOUS_AGENT = 128, 64
_ANONYMOUS_KEY = "scim_provisioning:anonymous-log"
#: The connection doctor's User-Agent, up to its version (see :mod:`.doctor`).
DOCTOR_AGENT = DOCTOR_USER_AGENT.split("/")[0] + "/"
#: Seconds since the epoch, for the per-minute budget (tests replace it).
clock = time.time


def detect_idp(headers: Any) -> str:
    """Which IdP is calling, from what it says about itself (``headers``: a request's)."""
    return _idp(headers.get("User-Agent") or "", bool(headers.get("ADSCIMVersion")))


def request_idp(request: Any) -> str:
    """Which IdP sent ``request``: :func:`detect_idp` of its headers.

    Read from ``request.META``: ``request.headers`` would build a mapping of every
    header of the request for two of them.
    """
    meta = request.META
    return _idp(meta.get("HTTP_USER_AGENT") or "", bool(meta.get("HTTP_ADSCIMVERSION")))


def _idp(user_agent: str, entra_version: bool) -> str:
    agent = user_agent.lower()
    if agent.startswith(DOCTOR_AGENT):
        return IdentityProvider.DOCTOR
    if agent.startswith("okta"):
        return IdentityProvider.OKTA
    if entra_version or "azure" in agent or "microsoft" in agent:
        return IdentityProvider.ENTRA
    if "onelogin" in agent:
        return IdentityProvider.ONELOGIN
    if "jumpcloud" in agent:
        return IdentityProvider.JUMPCLOUD
    return IdentityProvider.OTHER


def redact(value: Any, key: str = "") -> Any:
    """``value`` with secrets replaced and long strings and lists cut.

    A key named like a secret loses its value at any depth. A dict with a
    ``path`` (a PATCH operation, keys in any case) that names a secret loses
    its ``value`` and the path's value filter.
    """
    if is_secret_name(key):
        return REDACTED
    if isinstance(value, dict):
        secret_path = any(
            str(k).lower() == "path" and isinstance(v, str) and is_secret_name(v)
            for k, v in value.items()
        )
        redacted = {}
        for k, v in value.items():
            name = str(k)
            if name.lower() == "path" and isinstance(v, str):
                redacted[name] = redact_path(v)[:_MAX_STRING]
            elif secret_path and name.lower() == "value":
                redacted[name] = REDACTED
            else:
                redacted[name] = redact(v, name)
        return redacted
    if isinstance(value, list):
        kept = [redact(item, key) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            kept.append(f"… {len(value) - _MAX_ITEMS} more")
        return kept
    if isinstance(value, str):
        value = scrub_tokens(value)
        return value[:_MAX_STRING] + "…" if len(value) > _MAX_STRING else value
    return value


def summarize(data: Any) -> str:
    """The redacted JSON summary of a request body, at most 2,000 characters."""
    if data in (None, {}, [], ""):
        return ""
    text = json.dumps(redact(data), ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def record_after_response(request: Any, response: Any, *, view: Any, started: float) -> None:
    """Record the request once ``response`` has been sent to the client.

    Its duration ends now, as the view returns. The entry is built when the
    server closes the response, after the last byte (the request's facts, no
    database: the IdP does not wait for it), and handed to the writer before
    the response's own ``close()``, which may close the database connection at
    the end of the request.
    """
    if not app_settings.REQUEST_LOG:
        return
    finished = time.perf_counter()
    close = response.close

    def save_then_close() -> None:
        try:
            entry = build_entry(request, response, view=view, started=started, finished=finished)
            if entry is not None:
                save(entry)
        finally:
            close()

    response.close = save_then_close


def save(entry: SCIMRequestLog) -> None:
    """Hand ``entry`` to the request-log writer; never raises, never waits for the database."""
    writer.submit(entry)


def build_entry(
    request: Any, response: Any, *, view: Any, started: float, finished: float | None = None
) -> SCIMRequestLog | None:
    """The unsaved SCIMRequestLog row of a finished request, or ``None`` if it cannot be built.

    Its duration runs from ``started`` to ``finished`` (now, if not given).
    """
    try:
        client = getattr(request, "_user", None)
        token = getattr(client, "token", None)
        client_ip = _address(request.META.get("REMOTE_ADDR"))
        ended = time.perf_counter() if finished is None else finished
        duration_ms = round((ended - started) * 1000, 3)
        if token is None:
            return _anonymous_entry(request, response, client_ip, duration_ms)
        kind = getattr(view, "kind", None)
        resource_id = (view.kwargs or {}).get("pk", "")
        data = getattr(request, "_full_data", None)
        if not resource_id and response.status_code == 201 and isinstance(response.data, dict):
            resource_id = str(response.data.get("id", ""))
        return SCIMRequestLog(
            team_id=token.team_id,
            token_prefix=token.prefix,
            method=_kept(request.method, 8),
            path=_kept(request.path, 512),
            query=_kept(redact_query(request.META.get("QUERY_STRING", "")), 2000),
            status=response.status_code,
            resource_type=kind.name if kind is not None else "",
            resource_id=_kept(str(resource_id), 64),
            summary=_kept(summarize(data if isinstance(data, (dict, list)) else None), None),
            error=_kept(error_text(response), _MAX_ERROR),
            duration_ms=duration_ms,
            client_ip=client_ip,
            user_agent=user_agent(request),
            idp=request_idp(request),
            request_id=getattr(view, "request_id", None),
        )
    except Exception:
        logger.exception("Could not describe a SCIM request for the request log")
        return None


def error_text(response: Any) -> str:
    """``scimType: detail`` of a SCIM error response (``detail`` alone without a type).

    Kept so that "why did it fail?" is answered with what the IdP was told
    (issue 24), not guessed from the status. Redacted as the body is.
    """
    if response.status_code < 400 or not isinstance(getattr(response, "data", None), dict):
        return ""
    detail = str(redact(str(response.data.get("detail") or "")))
    scim_type = str(response.data.get("scimType") or "")
    return f"{scim_type}: {detail}" if scim_type else detail


def _kept(text: str, limit: int | None) -> str:
    """``text`` as a row may keep it: no token, nothing no database stores, cut to ``limit``.

    Every text field of a row goes through here (issue 21): a token pasted
    into an id, a parameter name or the User-Agent is a secret all the same,
    and one NUL or lone surrogate (a refused request is recorded too) made the
    row, and once its whole batch, fail to save.
    """
    kept = clean(scrub_tokens(text))
    return kept if limit is None else kept[:limit]


def client_address(request: Any) -> str | None:
    """The client's address as the request log stores it (``REMOTE_ADDR``, or ``None``)."""
    return _address(request.META.get("REMOTE_ADDR"))


def user_agent(request: Any) -> str:
    """The ``User-Agent`` as the request log stores it: secrets scrubbed, at most 256 characters."""
    return _kept_agent(request.META.get("HTTP_USER_AGENT") or "")


def _kept_agent(agent: str) -> str:
    if TOKEN_PREFIX in agent or SETUP_LINK_PREFIX in agent:
        return _kept(agent, 256)  # may hold a secret: not kept in memory as a cache key
    return _kept_plain_agent(agent)


@lru_cache(maxsize=64)
def _kept_plain_agent(agent: str) -> str:
    # An IdP sends the same User-Agent on every request: cleaned once per process.
    return _kept(agent, 256)


@lru_cache(maxsize=1024)
def _address(remote_addr: str | None) -> str | None:
    """``REMOTE_ADDR`` when it is an IP address, else ``None`` (a proxy or test server
    may set anything; PostgreSQL's ``inet`` column would refuse the row)."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return None
    # An IPv6 zone (``fe80::1%eth0``) is no part of what ``inet`` stores.
    # (Remembered per address: an IdP calls from a few, and parsing one costs ~10 µs.)
    return str(address).split("%", 1)[0]


def _anonymous_entry(
    request: Any, response: Any, client_ip: str | None, duration_ms: float
) -> SCIMRequestLog | None:
    """A compact row for a request without a valid token, within the per-address budget.

    Whoever sends it is not known to be an IdP of this site: nothing it
    chose beyond the method and a short path is kept, and ``None`` is
    returned once its address has used up this minute's rows.
    """
    if not _anonymous_allowed(client_ip):
        return None
    return SCIMRequestLog(
        team_id=None,
        token_prefix="",
        method=_kept(request.method, 8),
        path=_kept(request.path, _MAX_ANONYMOUS_PATH),
        query="",
        status=response.status_code,
        summary="",
        duration_ms=duration_ms,
        client_ip=client_ip,
        user_agent=_kept(request.META.get("HTTP_USER_AGENT") or "", _MAX_ANONYMOUS_AGENT),
        idp=request_idp(request),
    )


def _anonymous_allowed(client_ip: str | None) -> bool:
    """Whether ``client_ip`` may have one more unauthenticated row this minute.

    Counted in ``THROTTLE_CACHE`` with an atomic add/incr, so every worker
    sharing the cache shares the budget. If the cache fails the row is
    written (fail open): losing the record of an attack is worse than a row.
    """
    limit = app_settings.UNAUTHENTICATED_LOG_LIMIT
    if limit is None:
        return True
    if limit <= 0:
        return False
    minute = int(clock() // 60)
    key = f"{_ANONYMOUS_KEY}:{client_ip or '-'}:{minute}"
    try:
        return increment(caches[app_settings.THROTTLE_CACHE], key, timeout=120) <= limit
    except Exception:
        logger.warning(
            "SCIM request log: the cache failed; unauthenticated row kept", exc_info=True
        )
        return True
