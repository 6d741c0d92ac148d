"""The request-log writer: rows saved off the request path, in batches, bounded.

A request hands its log row to a per-process buffer; a thread of the writer's
own saves rows in batches. The request never waits for a log write, a full
buffer drops rows (counted) instead of growing, and inside a transaction the
row is written on the caller's connection, which alone can see what that
transaction has not committed.
"""

from __future__ import annotations

import threading
import time

import pytest

from scim_provisioning import request_log_writer
from scim_provisioning.models import SCIMRequestLog
from scim_provisioning.request_log_writer import RequestLogWriter, writer
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient


def _entry(team, path: str = "/scim/v2/Users") -> SCIMRequestLog:
    return SCIMRequestLog(team=team, method="GET", path=path, status=200, duration_ms=1.0)


@pytest.mark.django_db(transaction=True)
def test_a_request_outside_a_transaction_is_logged_by_the_writer_thread(team, monkeypatch):
    threads = []
    write = request_log_writer.write_rows

    def spy(rows):
        threads.append(threading.current_thread().name)
        write(rows)

    monkeypatch.setattr(request_log_writer, "write_rows", spy)

    response = IdPClient(issue_token(team).plaintext).get("/Users")
    assert response.status_code == 200

    assert writer.flush()
    assert threads == ["scim-request-log"]
    assert list(SCIMRequestLog.objects.values_list("path", "status")) == [("/scim/v2/Users", 200)]


@pytest.mark.django_db(transaction=True)
def test_rows_that_arrive_together_are_written_in_one_batch(team, monkeypatch, settings):
    settings.SCIM_PROVISIONING_REQUEST_LOG_FLUSH_INTERVAL = 0.3
    batches = []
    write = request_log_writer.write_rows
    monkeypatch.setattr(
        request_log_writer, "write_rows", lambda rows: (batches.append(len(rows)), write(rows))
    )
    own = RequestLogWriter()

    for i in range(25):
        own.submit(_entry(team, f"/scim/v2/Users/{i}"))

    assert own.flush()
    assert batches == [25]
    assert SCIMRequestLog.objects.count() == 25


@pytest.mark.django_db(transaction=True)
def test_a_full_buffer_drops_rows_instead_of_growing_or_blocking(team, monkeypatch, settings):
    settings.SCIM_PROVISIONING_REQUEST_LOG_BUFFER_SIZE = 3
    settings.SCIM_PROVISIONING_REQUEST_LOG_FLUSH_INTERVAL = 0
    release = threading.Event()
    write = request_log_writer.write_rows

    def slow(rows):
        assert release.wait(10)  # the database is slow: the writer is stuck here
        write(rows)

    monkeypatch.setattr(request_log_writer, "write_rows", slow)
    own = RequestLogWriter()

    own.submit(_entry(team))  # taken by the writer thread, which now waits
    deadline = time.monotonic() + 10
    while not own._queue.empty() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the writer thread has taken the first row
    for _ in range(10):
        own.submit(_entry(team))  # 3 fit into the buffer, 7 do not
    release.set()

    assert own.flush()
    assert own.dropped == 7
    assert SCIMRequestLog.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_is_reported_and_the_writer_goes_on(team, monkeypatch, caplog):
    calls = []
    write = request_log_writer.write_rows

    def flaky(rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        write(rows)

    monkeypatch.setattr(request_log_writer, "write_rows", flaky)
    own = RequestLogWriter()

    own.submit(_entry(team, "/scim/v2/lost"))
    assert own.flush()
    own.submit(_entry(team, "/scim/v2/kept"))
    assert own.flush()

    assert list(SCIMRequestLog.objects.values_list("path", flat=True)) == ["/scim/v2/kept"]
    assert "Could not write 1 SCIM request-log rows" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_idle_writer_holds_no_connection_even_after_a_failed_batch(team, monkeypatch):
    """A connection left open keeps a database from being dropped (a test run's teardown,
    a migration that needs it alone) and holds a server slot for nothing."""
    from django.db import connections

    open_after_write: list[bool] = []

    def failing(rows):
        connections["default"].ensure_connection()  # the failed batch had opened one
        raise RuntimeError("insert or update violates foreign key constraint")

    close_all = connections.close_all

    def spy_close_all():
        close_all()
        open_after_write.append(connections["default"].connection is not None)

    monkeypatch.setattr(request_log_writer, "write_rows", failing)
    monkeypatch.setattr(request_log_writer.connections, "close_all", spy_close_all)
    own = RequestLogWriter()

    own.submit(_entry(team))
    assert own.flush()

    assert open_after_write == [False]  # closed once, in the writer's own thread


def test_inside_a_transaction_the_row_is_written_on_the_callers_connection(team):
    """The test's transaction holds the team; another connection could not see it."""
    own = RequestLogWriter()

    own.submit(_entry(team))

    assert own._queue is None  # no thread, no buffer: written here and now
    assert SCIMRequestLog.objects.filter(team=team).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_unstorable_row_loses_no_other_row_of_its_batch(team, other_team, settings):
    """Issue 21, item 4: a row no database stores (a lone surrogate) made the batch's one
    INSERT fail, and every other row of that half second went with it, other teams' too."""
    settings.SCIM_PROVISIONING_REQUEST_LOG_FLUSH_INTERVAL = 0.3
    own = RequestLogWriter()
    poisoned = _entry(team, "/scim/v2/Users/poisoned")
    poisoned.user_agent = "Okta \udc00"  # no UTF-8 encoder takes it: SQLite and PostgreSQL refuse

    for entry in (
        _entry(team, "/scim/v2/Users/a1"),
        _entry(other_team, "/scim/v2/Users/b1"),
        poisoned,
        _entry(other_team, "/scim/v2/Users/b2"),
        _entry(team, "/scim/v2/Users/a2"),
    ):
        own.submit(entry)
    assert own.flush()

    stored = set(SCIMRequestLog.objects.values_list("team__slug", "path"))
    assert stored == {
        ("acme", "/scim/v2/Users/a1"),
        ("acme", "/scim/v2/Users/a2"),
        ("globex", "/scim/v2/Users/b1"),
        ("globex", "/scim/v2/Users/b2"),
    }


def test_a_row_that_fails_inside_a_transaction_leaves_the_transaction_usable(team):
    """Written on the caller's connection, a failing row must not break the caller's
    transaction (PostgreSQL aborts a transaction at its first failed statement)."""
    own = RequestLogWriter()
    poisoned = _entry(team, "/scim/v2/Users/poisoned")
    poisoned.user_agent = "\udc00"

    own.submit(poisoned)
    own.submit(_entry(team, "/scim/v2/Users/kept"))

    assert list(SCIMRequestLog.objects.values_list("path", flat=True)) == ["/scim/v2/Users/kept"]


@pytest.mark.django_db(transaction=True)
def test_a_flush_writes_what_has_gathered_without_waiting_out_the_interval(team, settings):
    """At shutdown (``atexit``) and in tests, a flush must not wait for the batch's
    interval to end: the writer thread is told to write at once."""
    settings.SCIM_PROVISIONING_REQUEST_LOG_FLUSH_INTERVAL = 30
    own = RequestLogWriter()
    for i in range(3):
        own.submit(_entry(team, f"/scim/v2/Users/{i}"))

    assert own.flush(timeout=5)
    assert SCIMRequestLog.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_full_batch_is_written_without_waiting_out_the_interval(team, settings, monkeypatch):
    """The thread sleeps through the interval while rows gather (a row handed over
    wakes no thread), but a full batch wakes it."""
    settings.SCIM_PROVISIONING_REQUEST_LOG_FLUSH_INTERVAL = 30
    monkeypatch.setattr(request_log_writer, "BATCH_SIZE", 4)
    own = RequestLogWriter()
    for i in range(4):
        own.submit(_entry(team, f"/scim/v2/Users/{i}"))

    deadline = time.monotonic() + 5
    while SCIMRequestLog.objects.count() < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert SCIMRequestLog.objects.count() == 4
