"""What a team role is on the host: the membership field that holds it, and its values.

``SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD`` names the role (DESIGN promise 3:
role fields of any type, by settings alone):

- a field of the membership: string choices (``"role"``), a boolean admin flag
  (``"is_admin"``, as django-organizations' ``OrganizationUser``), an integer
  level;
- a foreign key to a role model, by a field of the related row
  (``"role__name"``: roles are names) or by the row's key (``"role"``: roles
  are primary keys).

Every role the settings and the teams' mappings name (``MANAGER_ROLES``,
``MEMBERSHIP_DEFAULTS``, ``SCIMTeamConfig.group_roles`` and ``user_roles``) is
a value of what ``ROLE_FIELD`` names, checked against that field's type and
choices (:meth:`RoleField.clean`) before it reaches a query: a string on a
boolean or a foreign key was a silent no-op or a 500 on every write (issue 22).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from .conf import app_settings


class RoleFieldError(ValueError):
    """``MEMBERSHIP_ROLE_FIELD`` names no field (or no path through foreign keys) of the model."""


@dataclass(frozen=True)
class RoleField:
    """The membership's role as ``MEMBERSHIP_ROLE_FIELD`` names it.

    ``lookup`` is the setting itself, what queries filter and read roles by
    (``role``, ``is_admin``, ``role__name``); ``field`` the membership's own
    field (the foreign key, for a role model); ``target`` the field whose
    values roles are (``Role.name``; the related primary key for ``"role"``).
    """

    lookup: str
    field: models.Field[Any, Any]
    target: models.Field[Any, Any]

    @property
    def through_related_rows(self) -> bool:
        """Roles are values of a related model's field (``role__name``), not of a column here."""
        return "__" in self.lookup

    @property
    def default_keys(self) -> tuple[str, ...]:
        """The ``MEMBERSHIP_DEFAULTS`` keys that give the role (its lookup, or the field)."""
        return tuple(dict.fromkeys((self.lookup, self.field.name)))

    def clean(self, value: Any) -> Any:
        """``value`` as the role field holds it; :class:`ValidationError` when it cannot.

        The field's own conversion and validation (type, choices, length),
        without its coercions across kinds: ``True`` is no integer level and no
        text, a number no text.
        """
        target = self.target
        if isinstance(value, bool) and not isinstance(target, models.BooleanField):
            raise ValidationError(f"{value!r} is not a role of {self.describe()}.")
        if not isinstance(value, str) and isinstance(target, (models.CharField, models.TextField)):
            raise ValidationError(f"{value!r} is not a role of {self.describe()}: roles are text.")
        if value is None:
            raise ValidationError(f"None is not a role of {self.describe()}.")
        if isinstance(value, str) and not _storable(value):
            # PostgreSQL refuses NUL in text and every driver a lone surrogate: a 500 later.
            raise ValidationError(f"{value!r} is not a role: it holds NUL or a lone surrogate.")
        try:
            return target.clean(value, None)
        except ValidationError as error:
            raise ValidationError(
                f"{value!r} is not a role of {self.describe()}: {' '.join(error.messages)}"
            ) from error

    def clean_many(self, values: Iterable[Any]) -> list[Any]:
        """The roles among ``values`` the field can hold, in order (others are checks' errors)."""
        cleaned = []
        for value in values:
            try:
                cleaned.append(self.clean(value))
            except ValidationError:
                continue
        return list(dict.fromkeys(cleaned))

    def describe(self) -> str:
        """The field, for messages: ``teams.Membership.role`` or ``Seat.role → Role.name``."""
        own = f"{self.field.model._meta.label}.{self.field.name}"
        if self.target is self.field:
            return f"{own} ({type(self.field).__name__})"
        related = self.target.model._meta.label
        return f"{own} → {related}.{self.target.name} ({type(self.target).__name__})"

    def values_for_rows(self, roles: Iterable[Any]) -> dict[Any, Any]:
        """``{role: what to assign to the membership's field}`` for these roles.

        A role named through a related row (``role__name``) is that row: one
        query for all of them. A role the related table lacks is left out.
        """
        roles = list(dict.fromkeys(roles))
        if not self.through_related_rows:
            return {role: role for role in roles}
        related = self.field.related_model
        assert related is not None  # a path through "__" starts at a relation
        path = self.lookup.split("__", 1)[1]
        rows = related._default_manager.filter(**{f"{path}__in": roles})
        found: dict[Any, Any] = {}
        for row, value in ((row, _follow(row, path)) for row in rows):
            found.setdefault(value, row)
        return {role: found[role] for role in roles if role in found}

    def assign(self, membership: models.Model, value: Any) -> None:
        """Set the role on ``membership`` (``value`` from :meth:`values_for_rows`)."""
        if self.field.is_relation and not self.through_related_rows:
            setattr(membership, self.field.attname, value)  # the related row's key
        else:
            setattr(membership, self.field.name, value)


def _storable(text: str) -> bool:
    """Whether ``text`` can be stored and compared in every database (no NUL, valid UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _follow(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = getattr(row, part)
    return row


def role_field_of(model: type[models.Model], lookup: str) -> RoleField:
    """The :class:`RoleField` ``lookup`` names on ``model``; :class:`RoleFieldError` if none."""
    parts = lookup.split("__")
    try:
        field = model._meta.get_field(parts[0])
    except FieldDoesNotExist as missing:
        raise RoleFieldError(f"{model._meta.label} has no such field.") from missing
    if not isinstance(field, models.Field):
        raise RoleFieldError(f"{parts[0]!r} is a reverse relation of {model._meta.label}.")
    target: Any = field
    for part in parts[1:]:
        related = target.related_model if target.is_relation else None
        if related is None or not (target.many_to_one or target.one_to_one):
            raise RoleFieldError(
                f"{lookup!r} goes through {target.name!r}, which is no foreign key of "
                f"{target.model._meta.label}."
            )
        try:
            target = related._meta.get_field(part)
        except FieldDoesNotExist as missing:
            raise RoleFieldError(
                f"{related._meta.label}, which it points to, has no field {part!r}."
            ) from missing
    if target.is_relation:
        if not (target.many_to_one or target.one_to_one):
            raise RoleFieldError(f"{lookup!r} names a relation that holds more than one row.")
        target = target.target_field  # roles are the related rows' keys
    return RoleField(lookup=lookup, field=field, target=target)


def role_field(model: type[models.Model]) -> RoleField | None:
    """The role of ``model``'s memberships per the settings; ``None`` without a role field."""
    lookup = app_settings.MEMBERSHIP_ROLE_FIELD
    if not lookup:
        return None
    return role_field_of(model, lookup)


def manager_roles(field: RoleField) -> list[Any]:
    """``MANAGER_ROLES`` as the field holds them (values it cannot hold are check E007's)."""
    return field.clean_many(app_settings.MANAGER_ROLES)


def default_role(field: RoleField) -> Any:
    """The role of a membership the app creates: ``MEMBERSHIP_DEFAULTS``, else the field's default.

    ``None`` when neither gives one (for a role of a related row, only the
    settings do).
    """
    defaults = app_settings.MEMBERSHIP_DEFAULTS
    for key in field.default_keys:
        if key in defaults:
            try:
                return field.clean(defaults[key])
            except ValidationError:
                return None  # check E007 names it
    if field.target is field.field and field.field.has_default():
        return field.field.get_default()
    return None


def split_defaults(field: RoleField | None) -> tuple[dict[str, Any], Any]:
    """``MEMBERSHIP_DEFAULTS`` without the role, and the default role (see :func:`default_role`)."""
    defaults = app_settings.MEMBERSHIP_DEFAULTS
    if field is None:
        return defaults, None
    others = {k: v for k, v in defaults.items() if k not in field.default_keys}
    return others, default_role(field)
