"""Model fields of the app's own, and their validators."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class OrderedJSONField(models.JSONField):
    """A JSON field whose objects keep their keys in the order they were written.

    The role mappings of :class:`~scim_provisioning.models.SCIMTeamConfig` rank
    by order ("the first listed role wins"), and PostgreSQL's ``jsonb``, what
    ``JSONField`` uses there, stores an object's keys shortest first. Its
    ``json`` type keeps the text as written: this field uses it. Nothing
    filters on these columns (``json`` has no operators of its own); other
    databases keep the order with ``JSONField``'s own type.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        # The text itself: the driver's JSON adapter would send jsonb, sorting the keys.
        return json.dumps(value, cls=self.encoder)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        # psycopg decodes ``json`` itself (it hands Django ``jsonb`` as text).
        if isinstance(value, (dict, list)):
            return value
        return super().from_db_value(value, expression, connection)


def validate_role_mapping(value: object) -> None:
    """A role mapping is a JSON object of names to team roles the host's role field can hold.

    Checked where staff edit it (the admin): the role rule reads it on every
    group or ``roles`` change, and a list there would fail each of them. Names
    are non-empty strings; roles are values of ``MEMBERSHIP_ROLE_FIELD``'s
    field, of its type and among its choices (``"admin"``, ``true`` for a
    boolean admin flag, a level, a ``Role`` name: see ``role_values``).
    """
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and key.strip() and role is not None and str(role).strip()
        for key, role in value.items()
    ):
        raise ValidationError(
            'Enter a JSON object of names to team roles, e.g. {"Admin": "admin"}.',
            code="invalid_role_mapping",
        )
    field = _host_role_field()
    if field is None:
        if not all(isinstance(role, str) for role in value.values()):
            raise ValidationError(
                'Enter a JSON object of names to team roles, e.g. {"Admin": "admin"}.',
                code="invalid_role_mapping",
            )
        return
    problems = []
    for key, role in value.items():
        try:
            field.clean(role)
        except ValidationError as error:
            problems.append(f"{key!r}: {' '.join(error.messages)}")
    if problems:
        raise ValidationError(
            "Map each name to a role the site's memberships can hold. " + " ".join(problems),
            code="invalid_role",
        )


def _host_role_field() -> Any:
    """The host's role field (``role_values.RoleField``), or ``None`` when there is none."""
    from .adapters import get_adapter
    from .conf import app_settings
    from .role_values import role_field

    if not app_settings.MEMBERSHIP_ROLE_FIELD:
        return None
    try:
        return role_field(get_adapter().memberships().model)
    except Exception:  # noqa: BLE001 - a misconfigured host: check E005 says why
        return None
