"""What the three setups share: the database settings, from ``BENCH_DATABASE_URL``.

Persistent connections (``CONN_MAX_AGE=None``) for all three: with the
example's default (0) every request would open a new connection, which on
PostgreSQL costs more than the requests being compared.
"""

import os

import dj_database_url


def bench_databases() -> dict:
    url = os.environ.get("BENCH_DATABASE_URL", "sqlite:///:memory:")
    return {"default": dj_database_url.parse(url, conn_max_age=None)}
