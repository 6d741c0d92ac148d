"""The SCIM base URL, as an IdP admin pastes it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .conf import app_settings


def scim_base_url(request: Any) -> str:
    """``https://<site>/scim/v2``: ``SCIM_PROVISIONING_BASE_URL``, else built from ``request``.

    Set the setting behind a proxy that hides the public host or scheme.
    """
    configured = app_settings.BASE_URL
    if configured:
        return configured
    return request.build_absolute_uri(reverse("scim_provisioning:root")).rstrip("/")


def oauth_endpoint_url(name: str, request: Any | None = None) -> str:
    """The absolute URL of an OAuth 2.0 endpoint (``"token"`` or ``"authorize"``).

    Beside the SCIM base URL (both are mounted with it): from
    ``SCIM_PROVISIONING_BASE_URL`` when set, else from ``request``; without
    either (a management command), ``http://localhost:8000`` stands for the site.
    """
    if app_settings.BASE_URL or request is not None:
        return f"{scim_base_url(request)}/oauth/{name}"
    return f"http://localhost:8000{reverse(f'scim_provisioning:oauth-{name}')}"
