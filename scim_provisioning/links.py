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
