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
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from .conf import app_settings
from .models import IdentityProvider, SCIMRequestLog
from .request_log_writer import writer

logger = logging.getLogger("scim_provisioning")

REDACTED = "[redacted]"
_SECRET = re.compile(r"pass|secret|token|credential|authorization", re.IGNORECASE)
_MAX_STRING, _MAX_ITEMS, _MAX_SUMMARY = 200, 10, 2000


def detect_idp(headers: Any) -> str:
    """Which IdP is calling, from what it says about itself."""
    agent = (headers.get("User-Agent") or "").lower()
    if agent.startswith("okta"):
        return IdentityProvider.OKTA
    if headers.get("ADSCIMVersion") or "azure" in agent or "microsoft" in agent:
        return IdentityProvider.ENTRA
    if "onelogin" in agent:
        return IdentityProvider.ONELOGIN
    if "jumpcloud" in agent:
        return IdentityProvider.JUMPCLOUD
    return IdentityProvider.OTHER


def redact(value: Any, key: str = "") -> Any:
    """``value`` with secrets replaced and long strings and lists cut."""
    if _SECRET.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        kept = [redact(item, key) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            kept.append(f"… {len(value) - _MAX_ITEMS} more")
        return kept
    if isinstance(value, str) and len(value) > _MAX_STRING:
        return value[:_MAX_STRING] + "…"
    return value


def summarize(data: Any) -> str:
    if data in (None, {}, [], ""):
        return ""
    text = json.dumps(redact(data), ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def record_after_response(request: Any, response: Any, *, view: Any, started: float) -> None:
    """Record the request once ``response`` has been sent to the client.

    The entry is built now (the request's facts, no database) and handed to
    the writer before the response's own ``close()``, which may close the
    database connection at the end of the request.
    """
    if not app_settings.REQUEST_LOG:
        return
    entry = build_entry(request, response, view=view, started=started)
    if entry is None:
        return
    close = response.close

    def save_then_close() -> None:
        try:
            save(entry)
        finally:
            close()

    response.close = save_then_close


def save(entry: SCIMRequestLog) -> None:
    """Hand ``entry`` to the request-log writer; never raises, never waits for the database."""
    writer.submit(entry)


def build_entry(request: Any, response: Any, *, view: Any, started: float) -> SCIMRequestLog | None:
    """The unsaved SCIMRequestLog row of a finished request, or ``None`` if it cannot be built."""
    try:
        client = getattr(request, "_user", None)
        token = getattr(client, "token", None)
        kind = getattr(view, "kind", None)
        resource_id = (view.kwargs or {}).get("pk", "")
        data = getattr(request, "_full_data", None)
        if not resource_id and response.status_code == 201 and isinstance(response.data, dict):
            resource_id = str(response.data.get("id", ""))
        return SCIMRequestLog(
            team_id=token.team_id if token is not None else None,
            token_prefix=token.prefix if token is not None else "",
            method=request.method[:8],
            path=request.path[:512],
            query=request.META.get("QUERY_STRING", "")[:2000],
            status=response.status_code,
            resource_type=kind.name if kind is not None else "",
            resource_id=str(resource_id)[:64],
            summary=summarize(data if isinstance(data, (dict, list)) else None),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            client_ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=(request.headers.get("User-Agent") or "")[:256],
            idp=detect_idp(request.headers),
        )
    except Exception:
        logger.exception("Could not describe a SCIM request for the request log")
        return None
