"""System checks: a misconfigured host fails ``manage.py check`` with a stable id and a hint.

=========================== =====================================================
``scim_provisioning.E001``  ``SCIM_PROVISIONING_TEAM_MODEL`` is not set.
``scim_provisioning.E002``  It is not ``"app_label.ModelName"`` of an installed model.
``scim_provisioning.E003``  ``SCIM_PROVISIONING_ADAPTER`` cannot be imported, or is not
                            a class.
``scim_provisioning.E004``  Django REST framework is not installed, or
                            ``"rest_framework"`` is not in ``INSTALLED_APPS``.
``scim_provisioning.E005``  The default adapter's membership model is missing, lacks a
                            configured field (``SCIM_PROVISIONING_MEMBERSHIP_*``), or its
                            active field is no ``BooleanField``.
``scim_provisioning.E006``  ``SCIM_PROVISIONING_USER_EXTENSION`` is malformed: a URN that is
                            no User extension's, an unknown type, a name declared twice or
                            taken by the User or enterprise schema, a ``field`` the user
                            model lacks.
``scim_provisioning.E007``  A role of ``MANAGER_ROLES`` or ``MEMBERSHIP_DEFAULTS`` is no value
                            the role field (``MEMBERSHIP_ROLE_FIELD``) can hold: its type,
                            its choices (a string on a boolean flag or a foreign key).
``scim_provisioning.E008``  A team's stored ``group_roles`` or ``user_roles`` maps to a role
                            the role field cannot hold (``check --database``; tagged
                            ``database``).
``scim_provisioning.E009``  ``MEMBERSHIP_GUARD_EXCEPTIONS`` names something that is no
                            importable exception class.
``scim_provisioning.E010``  ``SCIM_PROVISIONING_SETUP_LINK_TTL`` is no lifetime, or
                            ``never`` (a setup link always expires).
``scim_provisioning.E011``  ``SCIM_PROVISIONING_DEPROVISION_GUARD`` is neither ``None`` nor a
                            threshold dict (``percent``, ``minimum``, ``window``).
``scim_provisioning.W001``  The SCIM URLs are not mounted in ``ROOT_URLCONF``.
``scim_provisioning.W002``  A SQLite database is not set up for concurrent writers
                            (``"transaction_mode": "IMMEDIATE"`` missing).
``scim_provisioning.W003``  ``SCIM_PROVISIONING_BASE_URL`` is not set: the "Check
                            connection" buttons cannot know the site's own URL and are
                            off, and SCIM links follow each request's ``Host``.
=========================== =====================================================

Ids are never reused: a retired check keeps its number. ``scim_provisioning.models``
reads the team model setting on import, so when it is unset Django stops at
start-up with ``ImproperlyConfigured`` before any check runs; E001 still serves
callers that run the checks without the models (and says the same thing).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connections, models
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .conf import PREFIX, app_settings

MOUNT_HINT = 'Add path("scim/v2/", include("scim_provisioning.urls")) to the site\'s urls.py.'


def _label_error(
    setting: str, value: Any, *, id: str, what: str, example: str
) -> checks.Error | None:
    """An error when ``value`` is not ``"app_label.ModelName"`` of an installed model."""
    if not isinstance(value, str) or value.count(".") != 1:
        return checks.Error(
            f"{setting} must be of the form 'app_label.ModelName', not {value!r}.",
            hint=f"Name the {what} by its app label and class name, e.g. {example!r}.",
            id=id,
        )
    try:
        apps.get_model(value)
    except LookupError:
        return checks.Error(
            f"{setting} refers to {value!r}, which is not an installed model.",
            hint=f"Check the spelling and that the app defining the {what} is in INSTALLED_APPS.",
            id=id,
        )
    return None


def check_team_model(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E001: the team model setting is missing; E002: it names no installed model."""
    try:
        label = app_settings.TEAM_MODEL
    except ImproperlyConfigured:
        return [
            checks.Error(
                f"{PREFIX}TEAM_MODEL is not set.",
                hint=(
                    f"Set {PREFIX}TEAM_MODEL to the host's team model, e.g. 'teams.Team': "
                    "SCIM tokens and users belong to a team."
                ),
                id="scim_provisioning.E001",
            )
        ]
    error = _label_error(
        f"{PREFIX}TEAM_MODEL",
        label,
        id="scim_provisioning.E002",
        what="team model",
        example="teams.Team",
    )
    return [error] if error else []


def check_adapter(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E003: the adapter named by ``SCIM_PROVISIONING_ADAPTER`` is not an importable class."""
    path = app_settings.ADAPTER
    try:
        adapter = import_string(path)
    except ImportError as exc:
        return [
            checks.Error(
                f"{PREFIX}ADAPTER {path!r} cannot be imported: {exc}",
                hint=(
                    "Give the dotted path of an adapter class, e.g. "
                    "'myproject.scim.TeamAdapter' (a subclass of "
                    "scim_provisioning.adapters.DefaultAdapter)."
                ),
                id="scim_provisioning.E003",
            )
        ]
    if not inspect.isclass(adapter):
        return [
            checks.Error(
                f"{PREFIX}ADAPTER {path!r} is a {type(adapter).__name__}, not a class.",
                hint="Name the adapter class itself; the app creates an instance per request.",
                id="scim_provisioning.E003",
            )
        ]
    return []


def check_rest_framework(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E004: Django REST framework, which serves the SCIM views, is missing."""
    if importlib.util.find_spec("rest_framework") is None:
        return [
            checks.Error(
                "Django REST framework is not installed.",
                hint="pip install djangorestframework, and add 'rest_framework' to INSTALLED_APPS.",
                id="scim_provisioning.E004",
            )
        ]
    if not apps.is_installed("rest_framework"):
        return [
            checks.Error(
                "'rest_framework' is not in INSTALLED_APPS.",
                hint="Add 'rest_framework' to INSTALLED_APPS: the SCIM views are DRF views.",
                id="scim_provisioning.E004",
            )
        ]
    return []


def check_urls_mounted(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """W001: ``ROOT_URLCONF`` does not include ``scim_provisioning.urls``.

    A warning, not an error: a site may serve SCIM from another URLconf (per host, say).
    """
    if not getattr(settings, "ROOT_URLCONF", None):
        return []
    try:
        reverse("scim_provisioning:root")
    except NoReverseMatch:
        return [
            checks.Warning(
                "The SCIM endpoints are not mounted: "
                "reverse('scim_provisioning:root') finds no URL.",
                hint=MOUNT_HINT,
                id="scim_provisioning.W001",
            )
        ]
    return []


def _inherited_membership_hooks(adapter: type) -> list[str]:
    """The membership hooks the adapter keeps from DefaultAdapter (they read the settings)."""
    from .adapters import MEMBERSHIP_HOOKS, DefaultAdapter

    if not issubclass(adapter, DefaultAdapter):
        return []
    return [
        hook for hook in MEMBERSHIP_HOOKS if getattr(adapter, hook) is getattr(DefaultAdapter, hook)
    ]


def _field_error(
    model: type[models.Model], name: str, setting: str, related_to: str | None = None
) -> checks.Error | None:
    """An error when ``model`` has no field ``name`` (or it is no foreign key to ``related_to``)."""
    label = model._meta.label
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return checks.Error(
            f"{PREFIX}{setting} is {name!r}, but {label} has no such field.",
            hint=f"Set {PREFIX}{setting} to the name of a field of {label}.",
            obj=model,
            id="scim_provisioning.E005",
        )
    if related_to is None:
        return None
    target = field.related_model if field.many_to_one else None
    if target is None or target._meta.label_lower != related_to.lower():
        return checks.Error(
            f"{PREFIX}{setting} is {name!r}, but {label}.{name} is not a foreign key "
            f"to {related_to}.",
            hint=f"Set {PREFIX}{setting} to the foreign key from {label} to {related_to}.",
            obj=model,
            id="scim_provisioning.E005",
        )
    return None


def check_membership_model(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E005: the default adapter's membership model or one of its fields is misconfigured.

    Only while the adapter keeps some of DefaultAdapter's membership hooks (they
    read ``MEMBERSHIP_*``): an adapter that overrides them all steps aside, and
    one that overrides ``memberships()`` names its own model (its fields are
    still checked when the model can be read without the database).
    """
    try:
        adapter = import_string(app_settings.ADAPTER)
    except ImportError:
        return []  # E003
    if not inspect.isclass(adapter):
        return []  # E003
    inherited = _inherited_membership_hooks(adapter)
    if not inherited or inherited == ["memberships"]:
        return []
    if "memberships" in inherited:
        model, error = _membership_model_from_settings()
        if error:
            return [error]
    else:
        try:
            model = adapter().memberships().model
        except Exception:  # noqa: BLE001 - the host's own code; its fields cannot be checked
            return []
    # The team foreign key is only compared with a valid team model (E001/E002 otherwise).
    team_model = None if check_team_model() else app_settings.TEAM_MODEL
    wanted: list[tuple[str, str, str | None]] = [
        ("MEMBERSHIP_TEAM_FIELD", app_settings.MEMBERSHIP_TEAM_FIELD, team_model),
        ("MEMBERSHIP_USER_FIELD", app_settings.MEMBERSHIP_USER_FIELD, settings.AUTH_USER_MODEL),
    ]
    active = app_settings.MEMBERSHIP_ACTIVE_FIELD
    if active is not None:
        wanted.append(("MEMBERSHIP_ACTIVE_FIELD", active, None))
    errors = [_field_error(model, name, setting, related) for setting, name, related in wanted]
    if active is not None and not errors[2]:
        errors.append(_boolean_error(model, active))
    errors.append(_role_field_error(model))
    return [error for error in errors if error]


def _role_field_error(model: type[models.Model]) -> checks.Error | None:
    """An E005 when ``MEMBERSHIP_ROLE_FIELD`` names no field, or no path through foreign keys."""
    from .role_values import RoleFieldError, role_field

    try:
        role_field(model)
    except RoleFieldError as error:
        return checks.Error(
            f"{PREFIX}MEMBERSHIP_ROLE_FIELD is {app_settings.MEMBERSHIP_ROLE_FIELD!r}, but {error}",
            hint=(
                f"Name a field of {model._meta.label} ('role', 'is_admin'), or a field of the "
                "model a foreign key of it points to ('role__name')."
            ),
            obj=model,
            id="scim_provisioning.E005",
        )
    return None


def _role_field_for_checks() -> Any:
    """The role field the default hooks read, or ``None`` (no role field, or E003/E005's case)."""
    from .role_values import RoleFieldError, role_field

    if not app_settings.MEMBERSHIP_ROLE_FIELD:
        return None
    try:
        adapter = import_string(app_settings.ADAPTER)
        model = adapter().memberships().model
        return role_field(model)
    except (ImportError, LookupError, ImproperlyConfigured, RoleFieldError, TypeError):
        return None
    except Exception:  # noqa: BLE001 - the host's own memberships(); E005 says what it can
        return None


def _role_hint(field: Any) -> str:
    if field.field.is_relation and not field.through_related_rows:
        return (
            f"{field.describe()} holds the related rows' keys: name roles by a field of "
            f"{field.target.model._meta.label} instead, e.g. {PREFIX}MEMBERSHIP_ROLE_FIELD = "
            f"'{field.field.name}__name'."
        )
    choices = [value for value, _ in field.target.flatchoices] if field.target.choices else []
    if choices:
        return f"Give one of {field.describe()}'s choices: {choices!r}."
    return f"Give values of {field.describe()}, e.g. (True,) for a boolean admin flag."


def check_membership_roles(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E007: a role the settings name is no value the role field can hold.

    A string role on a boolean flag granted nothing, silently; on a foreign
    key it was a 500 on every create (issue 22).
    """
    from django.core.exceptions import ValidationError

    field = _role_field_for_checks()
    if field is None:
        return []
    named = [("MANAGER_ROLES", role) for role in app_settings.MANAGER_ROLES]
    defaults = app_settings.MEMBERSHIP_DEFAULTS
    named += [
        (f"MEMBERSHIP_DEFAULTS[{key!r}]", defaults[key])
        for key in field.default_keys
        if key in defaults
    ]
    errors = []
    for setting, role in named:
        try:
            field.clean(role)
        except ValidationError as error:
            errors.append(
                checks.Error(
                    f"{PREFIX}{setting} gives the role {role!r}: {' '.join(error.messages)}",
                    hint=_role_hint(field),
                    id="scim_provisioning.E007",
                )
            )
    return errors


def check_team_role_mappings(
    app_configs: Iterable[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list:
    """E008: a team's stored role mapping gives a role the role field cannot hold.

    Reads the teams' configurations, so only with ``check --database``. The
    admin refuses such a mapping; this finds those stored before the role
    field changed. At run time the role rule ignores them (and logs it).
    """
    from .models import SCIMTeamConfig

    if not databases:
        return []
    field = _role_field_for_checks()
    if field is None:
        return []
    errors = []
    for alias in databases:
        # ``migrate`` runs the database checks before it creates a table: on a new
        # site (or before this app's migrations) there is nothing stored to check.
        if SCIMTeamConfig._meta.db_table not in connections[alias].introspection.table_names():
            continue
        errors += _stored_mapping_errors(field, alias)
    return errors


def _stored_mapping_errors(field: Any, alias: str) -> list:
    from django.core.exceptions import ValidationError

    from .models import SCIMTeamConfig

    errors = []
    # Every team's mappings, the empty ones skipped here: they are ``json`` columns on
    # PostgreSQL (kept in the order staff wrote them), which have no "=" to filter by.
    configs = SCIMTeamConfig.objects.using(alias).only("team_id", "group_roles", "user_roles")
    for config in configs.order_by("pk").iterator():
        for name in ("group_roles", "user_roles"):
            for key, role in (getattr(config, name) or {}).items():
                try:
                    field.clean(role)
                except ValidationError as error:
                    errors.append(
                        checks.Error(
                            f"The {name} of team {config.team_id} maps {key!r} to {role!r}: "
                            f"{' '.join(error.messages)}",
                            hint="Fix the mapping in the admin (SCIM team configurations). "
                            + _role_hint(field),
                            id="scim_provisioning.E008",
                        )
                    )
    return errors


def check_guard_exceptions(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E009: ``MEMBERSHIP_GUARD_EXCEPTIONS`` names something that is no exception class."""
    errors = []
    for path in app_settings.MEMBERSHIP_GUARD_EXCEPTIONS:
        try:
            found = import_string(path)
        except ImportError as error:
            problem = f"cannot be imported: {error}"
        else:
            if inspect.isclass(found) and issubclass(found, BaseException):
                continue
            problem = "is no exception class"
        errors.append(
            checks.Error(
                f"{PREFIX}MEMBERSHIP_GUARD_EXCEPTIONS names {path!r}, which {problem}.",
                hint=(
                    "Give the dotted path of the exception the host's membership model raises "
                    "to refuse a change, e.g. 'organizations.exceptions.OwnershipRequired'."
                ),
                id="scim_provisioning.E009",
            )
        )
    return errors


def _membership_model_from_settings() -> tuple[Any, checks.Error | None]:
    """The model ``MEMBERSHIP_MODEL`` names, or the E005 saying why there is none."""
    label = app_settings.MEMBERSHIP_MODEL
    if not label:
        return None, checks.Error(
            f"{PREFIX}MEMBERSHIP_MODEL is not set, and the adapter "
            f"{app_settings.ADAPTER!r} keeps its memberships there.",
            hint=(
                f"Set {PREFIX}MEMBERSHIP_MODEL to the model joining users to teams "
                "(e.g. 'teams.Membership'), or name an adapter that overrides memberships()."
            ),
            id="scim_provisioning.E005",
        )
    error = _label_error(
        f"{PREFIX}MEMBERSHIP_MODEL",
        label,
        id="scim_provisioning.E005",
        what="membership model",
        example="teams.Membership",
    )
    if error:
        return None, error
    return apps.get_model(label), None


def _boolean_error(model: type[models.Model], name: str) -> checks.Error | None:
    """An error when the active field is no BooleanField: SCIM writes True and False to it.

    A timestamp such as ``deactivated_at`` passed the old check, then every
    ``POST /Users`` was a 500.
    """
    field = model._meta.get_field(name)
    if isinstance(field, models.BooleanField):
        return None
    return checks.Error(
        f"{PREFIX}MEMBERSHIP_ACTIVE_FIELD is {name!r}, but {model._meta.label}.{name} is a "
        f"{type(field).__name__}, not a BooleanField.",
        hint=(
            f"Name a BooleanField, or set {PREFIX}MEMBERSHIP_ACTIVE_FIELD = None when a "
            "membership row exists only while the person belongs to the team (deactivation "
            "then deletes it), or override the adapter's membership hooks."
        ),
        obj=model,
        id="scim_provisioning.E005",
    )


#: What W002 asks a SQLite site to set, word for word as the README's SQLite section:
#: the write lock taken when a transaction begins, a wait for it instead of failing,
#: and WAL so that readers never wait for a writer.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}


def check_sqlite_concurrency(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """W002: SQLite without IMMEDIATE transactions fails parallel IdP requests.

    IdPs send requests in parallel and servers run them in threads. In SQLite's
    default (DEFERRED) mode a transaction that reads before it writes cannot
    upgrade its lock while another connection writes, and SQLite fails it at
    once with "database is locked" instead of waiting: every SCIM write reads
    first. Only the settings are read, no database is touched.
    """
    messages = []
    for alias, database in settings.DATABASES.items():
        if not str(database.get("ENGINE", "")).endswith("sqlite3"):
            continue
        options = database.get("OPTIONS") or {}
        if str(options.get("transaction_mode") or "").upper() in ("IMMEDIATE", "EXCLUSIVE"):
            continue
        messages.append(
            checks.Warning(
                f"The SQLite database {alias!r} is not set up for concurrent SCIM requests: "
                "parallel IdP requests will fail with 'database is locked'.",
                hint=(
                    f'Set DATABASES[{json.dumps(alias)}]["OPTIONS"] = {json.dumps(SQLITE_OPTIONS)} '
                    "(Django 5.1+), or use PostgreSQL."
                ),
                id="scim_provisioning.W002",
            )
        )
    return messages


def check_base_url(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """W003: without ``SCIM_PROVISIONING_BASE_URL`` the site does not know its own SCIM URL.

    The "Check connection" buttons call only that setting (a URL built from the
    request's ``Host`` header would let the sender steer the server's requests and a
    fresh token: issue 21), so they are off without it; and ``meta.location`` and
    ``Location`` are built from each request's ``Host``. A warning: SCIM itself works.
    """
    if app_settings.BASE_URL:
        return []
    return [
        checks.Warning(
            f"{PREFIX}BASE_URL is not set: the Check connection buttons are off, and SCIM "
            "links (meta.location, Location) are built from each request's Host header.",
            hint=(
                f'Set {PREFIX}BASE_URL = "https://<site>/scim/v2", the SCIM base URL the IdP uses.'
            ),
            id="scim_provisioning.W003",
        )
    ]


def check_user_extension(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list:
    """E006: ``SCIM_PROVISIONING_USER_EXTENSION`` declares a valid schema onto existing fields."""
    from .schemas import ENTERPRISE_USER_SCHEMA, USER_SCHEMA
    from .schemas.custom import problems

    declared = app_settings.USER_EXTENSION
    if declared is None:
        return []
    setting = f"{PREFIX}USER_EXTENSION"
    taken = {a.name.lower() for a in (*USER_SCHEMA.attributes, *ENTERPRISE_USER_SCHEMA.attributes)}
    taken |= {"id", "externalid", "meta", "schemas"}
    found = problems(declared, taken)
    if not found:
        user_model = get_user_model()
        for item in declared["attributes"]:
            field = item.get("field")
            if field is None:
                continue
            try:
                user_model._meta.get_field(field)
            except FieldDoesNotExist:
                found.append(
                    (
                        f"maps {item['name']!r} to {field!r}, which is no field of "
                        f"{user_model._meta.label}.",
                        "Name a field of the user model, or leave out 'field' and override "
                        "the adapter's set_custom_attributes().",
                    )
                )
    return [
        checks.Error(f"{setting} {message}", hint=hint, id="scim_provisioning.E006")
        for message, hint in found
    ]


def check_setup_link_ttl(**kwargs: Any) -> list[checks.CheckMessage]:
    """E010: ``SCIM_PROVISIONING_SETUP_LINK_TTL`` is a lifetime a link can have.

    Read when a link is made: a typo would be a 500 on the team page then, not here.
    """
    try:
        app_settings.SETUP_LINK_TTL  # noqa: B018 - reading the setting parses it
    except (ValueError, ImproperlyConfigured) as exc:
        return [
            checks.Error(
                f"{PREFIX}SETUP_LINK_TTL: {exc}",
                hint="Write a lifetime such as 7d, 48h or 2w (see docs/setup-links.md).",
                id="scim_provisioning.E010",
            )
        ]
    return []


def check_deprovision_guard(**kwargs: Any) -> list[checks.CheckMessage]:
    """E011: ``SCIM_PROVISIONING_DEPROVISION_GUARD`` is a threshold or ``None``.

    Read on every deprovisioning: a typo would be a 500 to the IdP then, not here.
    """
    try:
        app_settings.DEPROVISION_GUARD  # noqa: B018 - reading the setting parses it
    except ValueError as exc:
        return [
            checks.Error(
                f"{PREFIX}DEPROVISION_GUARD {exc}",
                hint=(
                    "Write {'percent': 30, 'minimum': 5, 'window': '1h'}, or None to switch "
                    "the guard off (see docs/deprovision-guard.md)."
                ),
                id="scim_provisioning.E011",
            )
        ]
    return []


ALL_CHECKS = (
    check_team_model,
    check_adapter,
    check_rest_framework,
    check_membership_model,
    check_sqlite_concurrency,
    check_base_url,
    check_user_extension,
    check_membership_roles,
    check_guard_exceptions,
    check_setup_link_ttl,
    check_deprovision_guard,
)
"""Configuration checks, registered untagged; :func:`check_urls_mounted` goes under ``urls``."""


def register() -> None:
    """Register every check with Django (called from ``SCIMProvisioningConfig.ready``)."""
    for check in ALL_CHECKS:
        checks.register(check)
    checks.register(check_urls_mounted, checks.Tags.urls)
    checks.register(check_team_role_mappings, checks.Tags.database)
