"""Secrets never reach the database or the logs (DESIGN promise 6; issue 8, reproduction 4).

Every form in which an IdP can send a password, and every place a bearer token
could slip into (a query parameter, the Authorization header), is sent for
real; then the whole database (the SQLite file's bytes, or every PostgreSQL
table's text) and everything logged are searched for the secrets.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from scim_provisioning.models import SCIMRequestLog
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient, patch_op

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _password(n: int) -> str:
    return f"Sekr1t-Pa55word-{n:02d}-xyzzy"


def _patches(secret):
    """(name, PatchOp operation) for every way a PATCH can carry a password."""
    return [
        ("path password", {"op": "replace", "path": "password", "value": secret(1)}),
        ("path PASSWORD", {"op": "Replace", "path": "PASSWORD", "value": secret(2)}),
        ("core URN path", {"op": "replace", "path": f"{CORE}:password", "value": secret(3)}),
        (
            "URN path, odd case",
            {"op": "replace", "path": f"{CORE.upper()}:PassWord", "value": secret(4)},
        ),
        (
            "capitalised keys",
            {"Op": "Replace", "Path": "password", "Value": secret(5)},
        ),
        (
            "value-filter path",
            {"op": "replace", "path": 'emails[type eq "work"].password', "value": secret(6)},
        ),
        (
            "secret inside the path's filter",
            {"op": "replace", "path": f'password[value eq "{secret(7)}"]', "value": secret(8)},
        ),
        (
            "secret in an ignored path",
            {"op": "add", "path": f'emails[value eq "{secret(12)}"].password', "value": "x"},
        ),
        ("no path", {"op": "replace", "value": {"password": secret(9)}}),
        ("no path, URN key", {"op": "replace", "value": {f"{CORE}:password": secret(10)}}),
        (
            "no path, nested",
            {"op": "add", "value": {ENTERPRISE: {"x": [{"Password": secret(11)}]}}},
        ),
    ]


def _database_bytes(tmp_path: Path) -> bytes:
    """Everything the database holds, as bytes.

    SQLite: a byte copy of the database file (the online backup API copies the
    pages, free ones included). PostgreSQL: every table's rows as text.
    """
    if connection.vendor == "sqlite":
        target = sqlite3.connect(tmp_path / "copy.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        return (tmp_path / "copy.sqlite3").read_bytes()
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT t::text FROM {table} t")  # noqa: S608 - our own table names
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks).encode()


@pytest.mark.django_db(transaction=True)
def test_no_password_or_token_reaches_the_database_or_the_logs(team, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    token = issue_token(team).plaintext
    idp = IdPClient(token)
    secrets = [token]

    def secret(n: int) -> str:
        value = _password(n)
        secrets.append(value)
        return value

    # POST and PUT bodies.
    created = idp.post(
        "/Users",
        {
            "schemas": [CORE],
            "userName": "ada@acme.com",
            "emails": [{"value": "ada@acme.com", "primary": True}],
            "password": secret(20),
        },
    )
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    put = idp.put(
        f"/Users/{user_id}",
        {"schemas": [CORE], "userName": "ada@acme.com", "password": secret(21)},
    )
    assert put.status_code == 200, put.content
    # Every PATCH form, one request each.
    for name, operation in _patches(secret):
        response = idp.patch(f"/Users/{user_id}", patch_op(operation))
        assert response.status_code in (200, 400), (name, response.content)
    # A token in the query string, a password in a rejected body, and an
    # unauthenticated request carrying both.
    assert idp.get(f"/Users?access_token={token}").status_code == 200
    assert idp.get(f"/Users?filter=userName+eq+%22{token}%22").status_code == 200
    assert idp.post("/Users", {"userName": "", "password": secret(22)}).status_code == 400
    stranger = IdPClient("scim_" + "B" * 43)
    assert stranger.post(f"/Users?password={secret(23)}", {"password": secret(24)}).status_code == (
        401
    )

    assert writer.flush()  # the request log is written off the request path
    stored = _database_bytes(tmp_path)
    logged = caplog.text
    assert SCIMRequestLog.objects.count() >= 15
    assert b"ada@acme.com" in stored  # the search does find what is stored
    for value in secrets:
        assert value.encode() not in stored, value
        assert value not in logged, value
