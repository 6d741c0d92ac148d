"""What the three setups share: the database settings, from ``BENCH_DATABASE_URL``.

Persistent connections (``CONN_MAX_AGE=None``) for all three: with the
example's default (0) every request would open a new connection, which on
PostgreSQL costs more than the requests being compared. On SQLite all three
use the example site's options for concurrent writers (IMMEDIATE transactions,
a busy timeout, WAL with ``synchronous=NORMAL``): this project writes its
request log from a thread of its own, which SQLite's defaults would refuse. On
PostgreSQL all three use the example site's prepared statements
(``POSTGRES_OPTIONS``: server-side binding, a statement prepared on a connection
after five runs), unless ``DATABASE_PREPARED_STATEMENTS=0``: Django's default,
each statement parsed and planned anew.
"""

import os

import dj_database_url


def bench_databases() -> dict:
    from example_project.settings import POSTGRES_OPTIONS, SQLITE_OPTIONS, _env_bool

    url = os.environ.get("BENCH_DATABASE_URL", "sqlite:///:memory:")
    database = dj_database_url.parse(url, conn_max_age=None)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["OPTIONS"] = dict(SQLITE_OPTIONS)
    elif database["ENGINE"] == "django.db.backends.postgresql" and _env_bool(
        "DATABASE_PREPARED_STATEMENTS", True
    ):
        database["OPTIONS"] = dict(POSTGRES_OPTIONS)
    return {"default": database}
