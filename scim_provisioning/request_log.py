"""Recording SCIM requests for the operators: one INSERT, never a secret, never a failure.

What an IdP sent is the first thing anyone asks for when provisioning goes
wrong, so every request is recorded with its outcome. The body is reduced to
a redacted summary: passwords and anything named like a secret are replaced,
strings are cut at 200 characters, lists after 10 items, the whole at 2,000.
Recording runs after the response is built; if it fails, the failure is
logged and the IdP still gets its answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from .conf import app_settings
from .models import IdentityProvider, SCIMRequestLog

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


def record(request: Any, response: Any, *, view: Any, started: float) -> None:
    """Write one SCIMRequestLog row for a finished request; never raises."""
    if not app_settings.REQUEST_LOG:
        return
    try:
        client = getattr(request, "_user", None)
        token = getattr(client, "token", None)
        kind = getattr(view, "kind", None)
        resource_id = (view.kwargs or {}).get("pk", "")
        data = getattr(request, "_full_data", None)
        if not resource_id and response.status_code == 201 and isinstance(response.data, dict):
            resource_id = str(response.data.get("id", ""))
        SCIMRequestLog.objects.create(
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
        logger.exception("Could not record a SCIM request in the request log")
