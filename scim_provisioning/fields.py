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
    """A role mapping is a JSON object of names to team roles, both non-empty strings.

    Checked where staff edit it (the admin): the adapter reads it on every
    group or ``roles`` change, and a list there would fail each of them.
    """
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and key.strip() and isinstance(role, str) and role.strip()
        for key, role in value.items()
    ):
        raise ValidationError(
            'Enter a JSON object of names to team roles, e.g. {"Admin": "admin"}.',
            code="invalid_role_mapping",
        )
