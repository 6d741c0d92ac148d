"""Typed settings of the app, read live so that ``override_settings`` works.

Every setting is a Django setting named ``SCIM_PROVISIONING_<NAME>``. Read them
through :data:`app_settings`, never from ``django.conf.settings`` directly, so
that defaults live in one place.

Each value is remembered once read, until Django's ``setting_changed`` signal
says a setting changed (``override_settings``, pytest-django's ``settings``
fixture): a request reads 12 to 30 settings, and a setting left at its default
costs a raised and caught ``AttributeError`` on every ``django.conf.settings``
read (about 1.5 µs). Settings changed at run time without the signal (Django
advises against it) are not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from .durations import parse_lifetime

PREFIX = "SCIM_PROVISIONING_"
#: Every way an IdP may authenticate (``SCIM_PROVISIONING_AUTHENTICATION_SCHEMES``).
AUTHENTICATION_SCHEME_NAMES = ("bearer", "header", "basic", "oauth")


@dataclass(frozen=True)
class GuardThreshold:
    """The deprovisioning guard's threshold (``SCIM_PROVISIONING_DEPROVISION_GUARD``).

    Deactivations and DELETEs of a team are held once, within ``window``, more
    than ``percent`` % of the team's active members *and* more than
    ``minimum`` people were deprovisioned.
    """

    percent: int = 30
    minimum: int = 5
    window: timedelta = timedelta(hours=1)

    def allowed(self, active: int) -> int:
        """How many deprovisionings a team of ``active`` members may have per window."""
        return max(self.minimum, active * self.percent // 100)


#: The site default: on, as the issue asks ("more than 30 %, at least 5 people, within an hour").
DEFAULT_DEPROVISION_GUARD = {"percent": 30, "minimum": 5, "window": "1h"}


def parse_guard(value: Any) -> GuardThreshold | None:
    """``SCIM_PROVISIONING_DEPROVISION_GUARD`` as a threshold; ``None`` (off) for ``None``.

    Raises ``ValueError`` with a message for people (system check E011).
    """
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        raise ValueError(
            "must be a dict such as {'percent': 30, 'minimum': 5, 'window': '1h'}, or None (off)."
        )
    unknown = set(value) - {"percent", "minimum", "window"}
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}.")
    percent, minimum = value.get("percent", 30), value.get("minimum", 5)
    for name, number, top in (("percent", percent, 100), ("minimum", minimum, 1_000_000)):
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= top:
            raise ValueError(f"'{name}' must be a whole number from 1 to {top}, not {number!r}.")
    window = parse_lifetime(value.get("window", "1h"))
    if window is None:
        raise ValueError("'window' cannot be 'never'.")
    return GuardThreshold(percent=percent, minimum=minimum, window=window)


#: Stands for a setting the site does not set.
_UNSET = object()
#: ``django.conf.settings`` values read so far, by name (``_UNSET`` when not set).
_read: dict[str, Any] = {}


@receiver(setting_changed)
def _forget_settings(**kwargs: Any) -> None:
    _read.clear()


class AppSettings:
    """One documented property per setting; each read goes to ``django.conf.settings``
    (remembered until a ``setting_changed`` signal)."""

    def _get(self, name: str, default: Any) -> Any:
        value = _read.get(name, _read)  # the dict itself: not read yet
        if value is _read:
            value = _read[name] = getattr(settings, PREFIX + name, _UNSET)
        return default if value is _UNSET else value

    @property
    def TEAM_MODEL(self) -> str:  # noqa: N802 - settings are upper case
        """``"app_label.ModelName"`` of the host's team model. Required."""
        value = self._get("TEAM_MODEL", None)
        if not value:
            raise ImproperlyConfigured(f"Set {PREFIX}TEAM_MODEL to the host's team model.")
        return value

    @property
    def TEAM_SLUG_FIELD(self) -> str:  # noqa: N802
        """Field of the team model that management commands look teams up by."""
        return self._get("TEAM_SLUG_FIELD", "slug")

    @property
    def ADAPTER(self) -> str:  # noqa: N802
        """Dotted path of the host adapter class (see :mod:`scim_provisioning.adapters`)."""
        return self._get("ADAPTER", "scim_provisioning.adapters.DefaultAdapter")

    @property
    def MEMBERSHIP_MODEL(self) -> str | None:  # noqa: N802
        """``"app_label.ModelName"`` of the team membership model (default adapter)."""
        return self._get("MEMBERSHIP_MODEL", None)

    @property
    def MEMBERSHIP_TEAM_FIELD(self) -> str:  # noqa: N802
        """Foreign key from the membership to the team (default adapter)."""
        return self._get("MEMBERSHIP_TEAM_FIELD", "team")

    @property
    def MEMBERSHIP_USER_FIELD(self) -> str:  # noqa: N802
        """Foreign key from the membership to the user (default adapter)."""
        return self._get("MEMBERSHIP_USER_FIELD", "user")

    @property
    def MEMBERSHIP_ACTIVE_FIELD(self) -> str | None:  # noqa: N802
        """Boolean field of the membership that ``active`` maps onto (default adapter).

        ``None``: the host has no such field, a membership row exists while the
        person belongs to the team; deactivation deletes it.
        """
        return self._get("MEMBERSHIP_ACTIVE_FIELD", "is_active")

    @property
    def MEMBERSHIP_ROLE_FIELD(self) -> str | None:  # noqa: N802
        """Field of the membership holding the team role, for ``SCIMTeamConfig.group_roles``
        and ``user_roles``.

        ``None`` (the default): IdP groups and ``roles`` grant no roles.
        """
        return self._get("MEMBERSHIP_ROLE_FIELD", None)

    @property
    def MANAGER_ROLES(self) -> tuple[Any, ...]:  # noqa: N802
        """Roles (values of ``MEMBERSHIP_ROLE_FIELD``) whose members manage the team's SCIM.

        They see the team's SCIM page and API: base URL, tokens, recent requests.
        Values of the role field's type: ``("owner", "admin")``, ``(True,)`` for a
        boolean admin flag, levels for an integer (see ``role_values``).
        """
        value = self._get("MANAGER_ROLES", ("owner", "admin"))
        return tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,)

    @property
    def MEMBERSHIP_DEFAULTS(self) -> dict[str, Any]:  # noqa: N802
        """Extra field values for memberships the app creates, e.g. ``{"role": "member"}``.

        The role, under the role field's name or ``MEMBERSHIP_ROLE_FIELD``, is a
        role as ``MEMBERSHIP_ROLE_FIELD`` names it (``{"role": "member"}`` with
        ``"role__name"`` is the ``Role`` named ``member``).
        """
        return dict(self._get("MEMBERSHIP_DEFAULTS", {}))

    @property
    def MEMBERSHIP_BULK_UPDATE_FIELDS(self) -> frozenset[str]:  # noqa: N802
        """Membership fields the host's ``save()`` and save receivers have nothing to do with.

        SCIM writes memberships through the model (``save()`` per row) when it has
        a ``save()`` or save receivers of its own; a change of only these fields
        is one UPDATE for all rows instead, as for a model without them. For the
        role field, say, when ``save()`` only counts seats: a group of 10,000
        mapped to a role is then one statement, not 10,000. Empty by default.
        """
        value = self._get("MEMBERSHIP_BULK_UPDATE_FIELDS", ())
        return frozenset((value,) if isinstance(value, str) else value)

    @property
    def MEMBERSHIP_GUARD_EXCEPTIONS(self) -> tuple[str, ...]:  # noqa: N802
        """Dotted paths of the exceptions the host's models raise to refuse a membership change.

        e.g. ``["organizations.exceptions.OwnershipRequired"]``: raised by the
        membership's ``save()``/``delete()`` or a receiver, such an exception is a
        409 with its message and changes nothing. ``ValidationError``,
        ``PermissionDenied``, ``ProtectedError`` and ``RestrictedError`` always are.
        """
        value = self._get("MEMBERSHIP_GUARD_EXCEPTIONS", ())
        return (value,) if isinstance(value, str) else tuple(value)

    @property
    def TRUST_HOST_EMAILS(self) -> bool:  # noqa: N802
        """The host verifies every account's address at sign-up: any account that signed up
        counts as proven (not one another team's SCIM created: it never signed up).

        ``False`` (the default): linking an existing account to a team needs the
        adapter's ``email_verified`` (no usable password and no other team holding
        the account, or a verified django-allauth address).
        """
        return bool(self._get("TRUST_HOST_EMAILS", False))

    @property
    def DOMAIN_CHECK_TIMEOUT(self) -> float:  # noqa: N802
        """Seconds a DNS TXT lookup for domain verification may take in all."""
        return float(self._get("DOMAIN_CHECK_TIMEOUT", 5.0))

    @property
    def BASE_URL(self) -> str | None:  # noqa: N802
        """Absolute SCIM base URL (``https://site/scim/v2``), the one the IdP uses.

        Used in ``meta.location`` and ``Location`` (built from each request when
        unset), and the only URL the "Check connection" buttons call: a URL built
        from the request's ``Host`` header could be pointed anywhere by its sender,
        so without this setting they refuse (see :mod:`.connection_check`, system
        check W003). ``scim_doctor`` checks it by default.
        """
        value = self._get("BASE_URL", None)
        return value.rstrip("/") if value else None

    @property
    def DEFAULT_PAGE_SIZE(self) -> int:  # noqa: N802
        """``count`` used when a list request gives none."""
        return int(self._get("DEFAULT_PAGE_SIZE", 100))

    @property
    def MAX_PAGE_SIZE(self) -> int:  # noqa: N802
        """Largest ``count`` honoured; larger values are clamped (published as ``maxResults``)."""
        return int(self._get("MAX_PAGE_SIZE", 1000))

    @property
    def MAX_FILTER_LENGTH(self) -> int:  # noqa: N802
        """Longest ``filter`` accepted, in characters; longer ones are a 400 ``invalidFilter``."""
        return int(self._get("MAX_FILTER_LENGTH", 4096))

    @property
    def MAX_BODY_SIZE(self) -> int:  # noqa: N802
        """Largest request body accepted, in bytes; larger ones are a 413."""
        return int(self._get("MAX_BODY_SIZE", 2 * 1024 * 1024))

    @property
    def MAX_JSON_DEPTH(self) -> int:  # noqa: N802
        """Deepest nesting of arrays and objects a body may have; deeper ones are a 400.

        Checked on the raw bytes before parsing, so a deeply nested body never reaches
        a recursive parser. SCIM documents nest five or six levels at most.
        """
        return int(self._get("MAX_JSON_DEPTH", 32))

    @property
    def MAX_ITEMS_PER_ATTRIBUTE(self) -> int:  # noqa: N802
        """Values a multi-valued user attribute (``emails``, ``phoneNumbers``…) may hold.

        More is a 400 ``invalidValue``, in a POST, a PUT or the result of a PATCH.
        """
        return int(self._get("MAX_ITEMS_PER_ATTRIBUTE", 100))

    @property
    def MAX_MEMBERS_PER_REQUEST(self) -> int:  # noqa: N802
        """Group members one request may name (added, removed or replaced), in all its operations.

        Members are applied as set operations in the database, so this may be large;
        SQLite's limit on query parameters (32,766) caps what one lookup can name.
        """
        return int(self._get("MAX_MEMBERS_PER_REQUEST", 10_000))

    @property
    def MAX_PATCH_OPERATIONS(self) -> int:  # noqa: N802
        """Operations one PATCH may carry; more is a 400 ``invalidValue``."""
        return int(self._get("MAX_PATCH_OPERATIONS", 1_000))

    @property
    def BULK_MAX_OPERATIONS(self) -> int:  # noqa: N802
        """Operations one ``/Bulk`` request may carry (``bulk.maxOperations``); more is a 413.

        A token's rate-limit burst (rate x window) lowers it for that token: each
        operation counts as one request. ``0`` turns ``/Bulk`` off (``bulk.supported:
        false``, a 501). The body is bounded by ``MAX_BODY_SIZE`` (``maxPayloadSize``).
        """
        return int(self._get("BULK_MAX_OPERATIONS", 1_000))

    @property
    def MAX_STRING_LENGTH(self) -> int:  # noqa: N802
        """Characters a string value may have; longer is a 400 ``invalidValue``."""
        return int(self._get("MAX_STRING_LENGTH", 2_048))

    @property
    def TOKEN_LAST_USED_INTERVAL(self) -> int:  # noqa: N802
        """Seconds between two writes of a token's ``last_used_at``."""
        return int(self._get("TOKEN_LAST_USED_INTERVAL", 60))

    @property
    def TOKEN_CACHE_SECONDS(self) -> float:  # noqa: N802
        """Seconds a worker remembers which team a token belongs to (``0``: never).

        Saves the token query on reads; revocation, expiry and the team's switch are
        still checked on every request (see ``token_cache``). A changed team
        ``rate_limit`` takes effect within this time.
        """
        return float(self._get("TOKEN_CACHE_SECONDS", 60))

    @property
    def COMPILED_QUERIES(self) -> bool:  # noqa: N802
        """Run the hottest reads from SQL compiled once per process (:mod:`.reads`).

        ``True`` (the default) saves each read's query building; ``False`` builds
        every query with the ORM and touches no compiler internal: the same SQL
        and the same number of statements, for a Django release whose internals
        the compiled reads do not follow yet.
        """
        return bool(self._get("COMPILED_QUERIES", True))

    @property
    def TOKEN_DEFAULT_TTL(self) -> timedelta | None:  # noqa: N802
        """Lifetime of a token issued without one: ``"90d"``, a timedelta, seconds, or ``None``.

        ``None`` (the default): tokens do not expire unless their issuer says so.
        """
        return parse_lifetime(self._get("TOKEN_DEFAULT_TTL", None))

    @property
    def TOKEN_ROTATION_OVERLAP_HOURS(self) -> int:  # noqa: N802
        """Hours the previous tokens stay valid after a rotation, by default."""
        return int(self._get("TOKEN_ROTATION_OVERLAP_HOURS", 24))

    @property
    def AUTHENTICATION_SCHEMES(self) -> tuple[str, ...]:  # noqa: N802
        """How an IdP may present its credential, of ``AUTHENTICATION_SCHEME_NAMES``.

        ``bearer``: ``Authorization: Bearer <token>``; ``header``: the token alone
        (Okta's Header mode); ``basic``: HTTP Basic with the token as the password;
        ``oauth``: the OAuth 2.0 token and authorize endpoints. All on by default;
        discovery's ``authenticationSchemes`` lists those that are.
        """
        value = tuple(self._get("AUTHENTICATION_SCHEMES", AUTHENTICATION_SCHEME_NAMES))
        unknown = set(value) - set(AUTHENTICATION_SCHEME_NAMES)
        if unknown:
            raise ImproperlyConfigured(
                f"{PREFIX}AUTHENTICATION_SCHEMES: unknown {sorted(unknown)}; "
                f"choose from {list(AUTHENTICATION_SCHEME_NAMES)}."
            )
        return value

    @property
    def SETUP_LINK_TTL(self) -> timedelta:  # noqa: N802
        """How long a setup link lives unless its creator says otherwise (``7d``).

        Written like a token's lifetime (:mod:`.durations`); a setup link always
        expires, so ``never`` is refused.
        """
        lifetime = parse_lifetime(self._get("SETUP_LINK_TTL", "7d"))
        if lifetime is None:
            raise ImproperlyConfigured("SCIM_PROVISIONING_SETUP_LINK_TTL cannot be 'never'.")
        return lifetime

    @property
    def DEPROVISION_GUARD(self) -> GuardThreshold | None:  # noqa: N802
        """The deprovisioning guard's site threshold (:class:`GuardThreshold`); ``None``: off.

        A dict ``{"percent": 30, "minimum": 5, "window": "1h"}`` (the default);
        ``None`` switches the guard off for every team. A team may override
        ``percent`` and ``minimum`` (``SCIMTeamConfig.guard_*``), not switch it off.
        See docs/deprovision-guard.md.
        """
        return parse_guard(self._get("DEPROVISION_GUARD", DEFAULT_DEPROVISION_GUARD))

    @property
    def SETUP_LINK_RATE_LIMIT(self) -> int:  # noqa: N802
        """Setup links one client address may open per ``RATE_LIMIT_WINDOW`` (``0``: no limit).

        Counted before the link is looked up, so a burst of guessed links is a 429.
        """
        return int(self._get("SETUP_LINK_RATE_LIMIT", 20) or 0)

    @property
    def RATE_LIMIT(self) -> int:  # noqa: N802
        """Requests per second each token may make, unless its team sets ``rate_limit``.

        Averaged over ``RATE_LIMIT_WINDOW`` seconds, so a token may spend a whole
        window's allowance in a burst. ``0`` or ``None``: no limit.
        """
        return int(self._get("RATE_LIMIT", 50) or 0)

    @property
    def RATE_LIMIT_WINDOW(self) -> int:  # noqa: N802
        """Seconds the rate limit is averaged over (``RATE_LIMIT`` x this is the burst)."""
        return max(1, int(self._get("RATE_LIMIT_WINDOW", 60)))

    @property
    def THROTTLE_CACHE(self) -> str:  # noqa: N802
        """Alias in ``CACHES`` holding the rate-limit counters.

        A cache shared by every worker process (Redis, Memcached) makes the limit
        hold across them; the local-memory cache counts per process.
        """
        return self._get("THROTTLE_CACHE", "default")

    @property
    def REQUEST_LOG(self) -> bool:  # noqa: N802
        """Record every SCIM request in SCIMRequestLog (never a token or a password)."""
        return bool(self._get("REQUEST_LOG", True))

    @property
    def REQUEST_LOG_BUFFER_SIZE(self) -> int:  # noqa: N802
        """Request-log rows a process holds before they are written; beyond it, rows are dropped.

        Rows are written by a thread of their own (see ``request_log_writer``), so a
        full buffer means the database cannot keep up; the IdP is never made to wait.
        """
        return int(self._get("REQUEST_LOG_BUFFER_SIZE", 10_000))

    @property
    def REQUEST_LOG_FLUSH_INTERVAL(self) -> float:  # noqa: N802
        """Seconds the request-log writer gathers rows before one INSERT of them.

        Also what a crash of the process can lose of the log (never of the SCIM data).
        """
        return float(self._get("REQUEST_LOG_FLUSH_INTERVAL", 0.5))

    @property
    def UNAUTHENTICATED_LOG_LIMIT(self) -> int | None:  # noqa: N802
        """Request-log rows per client address per minute for requests without a valid token.

        Such rows are compact (no query, no body). ``None``: no limit; ``0``: none recorded.
        """
        value = self._get("UNAUTHENTICATED_LOG_LIMIT", 20)
        return None if value is None else int(value)

    @property
    def REQUEST_LOG_RETENTION_DAYS(self) -> int:  # noqa: N802
        """Days ``manage.py scim_prune_request_log`` keeps."""
        return int(self._get("REQUEST_LOG_RETENTION_DAYS", 90))

    @property
    def TIMELINE_RETENTION_DAYS(self) -> int:  # noqa: N802
        """Days ``manage.py scim_prune_timeline`` keeps of the people's provisioning timeline.

        Longer than the request log by default: "why did Jane lose access?" is
        often asked months later.
        """
        return int(self._get("TIMELINE_RETENTION_DAYS", 365))

    @property
    def HEALTH_STALE_AFTER_HOURS(self) -> float:  # noqa: N802
        """Hours without a request from a connected team's IdP before it is unhealthy.

        IdPs sync at least daily; two days of silence usually means a revoked token,
        a disabled app or a broken proxy.
        """
        return float(self._get("HEALTH_STALE_AFTER_HOURS", 48))

    @property
    def HEALTH_MAX_ERROR_RATE(self) -> float:  # noqa: N802
        """Share of the last day's requests (0-1) that may fail before a team is unhealthy."""
        return float(self._get("HEALTH_MAX_ERROR_RATE", 0.25))

    @property
    def USER_EXTENSION(self) -> dict[str, Any] | None:  # noqa: N802
        """The host's own User schema extension: its URN, name and attributes.

        ``{"urn": "urn:ietf:params:scim:schemas:extension:<name>:2.0:User",
        "name": "AcmeUser", "attributes": [{"name": "costCode", "type": "string",
        "multiValued": False, "caseExact": False, "field": "cost_code"}, ...]}``;
        see :mod:`scim_provisioning.schemas.custom`. ``None`` (the default): none.
        """
        return self._get("USER_EXTENSION", None) or None


app_settings = AppSettings()
