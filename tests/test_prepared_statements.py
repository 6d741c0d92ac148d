"""The example site's PostgreSQL connection prepares the statements SCIM repeats.

``example_project.settings.POSTGRES_OPTIONS`` (server-side binding, psycopg's
``prepare_threshold``) makes a statement run five times on a connection a
prepared one there, so that PostgreSQL stops parsing and planning it on each
request (docs/scaling.md). ``DATABASE_PREPARED_STATEMENTS=0`` gives Django's
default back: client-side binding, nothing prepared. CI runs the PostgreSQL
suite both ways; this test says which way each run went, so that neither is
quietly lost.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

from .conftest import load_payload

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PREPARED_WANTED = os.environ.get("DATABASE_PREPARED_STATEMENTS", "1").strip().lower() in {
    "1",
    "true",
    "yes",
    "on",
}


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_read_repeated_on_a_connection_is_prepared_there_as_the_settings_say(idp):
    created = idp.post("/Users", load_payload("okta/create_user.json"))
    assert created.status_code == 201, created.content
    location = f"/Users/{created.json()['id']}"

    for _ in range(6):
        response = idp.get(location)
        assert response.status_code == 200, response.content

    user_reads = [s for s in _prepared_statements() if "scim_provisioning_scimuser" in s]
    if PREPARED_WANTED:
        assert user_reads, _prepared_statements()
    else:
        assert _prepared_statements() == []
