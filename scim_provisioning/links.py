"""The SCIM base URL, as an IdP admin pastes it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.encoding import iri_to_uri

from .conf import app_settings


def scim_base_url(request: Any) -> str:
    """``https://<site>/scim/v2``: ``SCIM_PROVISIONING_BASE_URL``, else built from ``request``.

    Set the setting behind a proxy that hides the public host or scheme.
    """
    configured = app_settings.BASE_URL
    if configured:
        return configured
    root = _root_path()
    if "/./" in root or "/../" in root:  # a mount no URLconf has: Django's join resolves it
        return request.build_absolute_uri(root).rstrip("/")
    return _absolute(request.scheme, request.get_host(), root)


@lru_cache(maxsize=64)
def _absolute(scheme: str, host: str, path: str) -> str:
    """What ``request.build_absolute_uri(path)`` gives for an absolute ``path``, without
    its trailing slash: once per scheme, host and path, not per request.

    ``host`` is ``request.get_host()``, validated by Django against ``ALLOWED_HOSTS``
    on every request; the cache is bounded, whatever hosts a client names.
    """
    return iri_to_uri(f"{scheme}://{host}{path}").rstrip("/")


def _root_path() -> str:
    """The SCIM root's path, reversed once per URLconf and script prefix.

    Every SCIM response needs it (each resource's ``location``), and reversing
    costs more than a GET's query: about 80 µs on the benchmark's machine.
    """
    return _reversed_root(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@lru_cache(maxsize=16)
def _reversed_root(urlconf: Any, script_prefix: str) -> str:
    # The script prefix is a key, not an argument: reverse() reads it itself.
    return reverse("scim_provisioning:root", urlconf=urlconf)


@receiver(setting_changed)
def _forget_root(*, setting: str, **kwargs: Any) -> None:
    # Tests swap URLconfs (a host's shape); Django forgets its own caches then, and so do we.
    if setting == "ROOT_URLCONF":
        _reversed_root.cache_clear()


def oauth_endpoint_url(name: str, request: Any | None = None) -> str:
    """The absolute URL of an OAuth 2.0 endpoint (``"token"`` or ``"authorize"``).

    Beside the SCIM base URL (both are mounted with it): from
    ``SCIM_PROVISIONING_BASE_URL`` when set, else from ``request``; without
    either (a management command), ``http://localhost:8000`` stands for the site.
    """
    if app_settings.BASE_URL or request is not None:
        return f"{scim_base_url(request)}/oauth/{name}"
    return f"http://localhost:8000{reverse(f'scim_provisioning:oauth-{name}')}"
