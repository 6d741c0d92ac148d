"""Writing request-log rows off the request path: a bounded buffer and one writer thread.

A log row written by the request itself costs it a commit (a disk sync: 1-3 ms)
and, on SQLite, holds the database's write lock while the next request of the
same IdP is already waiting. So a finished request only hands its row to a
bounded in-process buffer; a daemon thread per process writes what has
gathered in one transaction every ``REQUEST_LOG_FLUSH_INTERVAL`` seconds (or as
soon as a batch is full), on a database connection of its own.

What this trades, deliberately:

* The thread is woken by the first row after it was idle, by a full batch, by
  a flush, and otherwise sleeps for the interval: handing a row over wakes no
  thread, so a busy worker does not pay a thread switch per request.
* A crash of the process (``kill -9``, power loss) loses the rows still in the
  buffer: at most the last ``REQUEST_LOG_FLUSH_INTERVAL`` seconds of requests.
  A normal shutdown writes them (``atexit``). The SCIM changes themselves are
  never at risk: they are committed before the response is sent.
* When the database cannot keep up, the buffer fills up to
  ``REQUEST_LOG_BUFFER_SIZE`` rows; rows beyond that are dropped and counted in
  a warning, never queued without limit and never in the IdP's way.
* When the caller's own connection is inside a transaction as the row is
  handed over, the row is written at once on that connection: a row written by
  another connection could not see data the caller has not committed (the
  team a test just created, say). Web servers finish a response outside any
  transaction, so in practice this is what tests wrapped in a transaction see.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence

from django.db import close_old_connections, connection, connections, transaction

from .conf import app_settings
from .models import SCIMRequestLog

logger = logging.getLogger("scim_provisioning")

#: Most rows written in one INSERT statement.
BATCH_SIZE = 200


class RequestLogWriter:
    """One per process: a bounded buffer of unsaved rows and the thread that saves them.

    Thread-safe by construction: requests only call :meth:`submit`; the
    buffer is a :class:`queue.Queue`; the thread is started once per process
    (again after a fork, as with gunicorn's ``--preload``).
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[SCIMRequestLog] | None = None
        #: Set when a batch is full (or :meth:`flush` waits): the thread writes at once.
        self._hurry = threading.Event()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._dropped = 0

    def submit(self, entry: SCIMRequestLog) -> None:
        """Hand ``entry`` over for saving; returns at once and never raises."""
        try:
            if connection.in_atomic_block:
                write_rows([entry])
                return
            buffer = self._started()
            try:
                buffer.put_nowait(entry)
            except queue.Full:
                self._drop()
                return
            if buffer.qsize() >= BATCH_SIZE - 1:  # with the row the thread holds: a batch
                self._hurry.set()
        except Exception:
            logger.exception("Could not record a SCIM request in the request log")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row handed over so far is saved; ``False`` on timeout."""
        buffer = self._queue
        if buffer is None or self._pid != os.getpid():
            return True
        deadline = time.monotonic() + timeout
        with buffer.all_tasks_done:
            while buffer.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                # Write what has gathered now, not at the end of the interval; said
                # again and again, since the thread clears it as it starts a batch.
                self._hurry.set()
                buffer.all_tasks_done.wait(min(remaining, 0.05))
        return True

    @property
    def dropped(self) -> int:
        """Rows dropped because the buffer was full, since the process started."""
        return self._dropped

    def _started(self) -> queue.Queue[SCIMRequestLog]:
        pid = os.getpid()
        if self._queue is not None and self._pid == pid:
            return self._queue
        with self._lock:
            if self._queue is None or self._pid != pid:
                # A forked child inherits the parent's buffer but not its thread.
                self._queue = queue.Queue(maxsize=max(1, app_settings.REQUEST_LOG_BUFFER_SIZE))
                self._pid = pid
                threading.Thread(
                    target=self._run, args=(self._queue,), name="scim-request-log", daemon=True
                ).start()
            return self._queue

    def _run(self, buffer: queue.Queue[SCIMRequestLog]) -> None:
        while True:
            rows = [buffer.get()]  # idle until a row comes
            # Let rows gather for the flush interval, then take up to a batch. The
            # thread sleeps meanwhile: a row handed over does not wake it (a wake-up
            # and the GIL handed back and forth cost a request more than its row);
            # a full batch does (``_hurry``), and so does a flush.
            if buffer.qsize() < BATCH_SIZE - 1:
                self._hurry.wait(app_settings.REQUEST_LOG_FLUSH_INTERVAL)
            self._hurry.clear()  # a flush waiting still says so again (see flush())
            while len(rows) < BATCH_SIZE:
                try:
                    rows.append(buffer.get_nowait())
                except queue.Empty:
                    break
            try:
                close_old_connections()  # a connection broken or past CONN_MAX_AGE
                write_rows(rows)
            except Exception:
                logger.exception("Could not write %d SCIM request-log rows", len(rows))
            finally:
                if buffer.empty():
                    # Idle, whether the batch was saved or not: hold no connection
                    # (nor keep a database from being dropped).
                    self._close_connections()
                for _ in rows:
                    buffer.task_done()

    @staticmethod
    def _close_connections() -> None:
        try:
            connections.close_all()
        except Exception:
            logger.exception("Could not close the SCIM request-log writer's connection")

    def _drop(self) -> None:
        with self._lock:
            self._dropped += 1
            dropped = self._dropped
        if dropped == 1 or dropped % 1000 == 0:
            logger.warning(
                "SCIM request log buffer full (%d rows): %d rows dropped so far",
                app_settings.REQUEST_LOG_BUFFER_SIZE,
                dropped,
            )


def write_rows(rows: Sequence[SCIMRequestLog]) -> None:
    """Save ``rows`` in one INSERT; if that fails, each row on its own.

    A batch holds the rows of every team that called in the last flush
    interval: one row the database refuses (issue 21: a value no encoder
    takes, a column overflowing on PostgreSQL) must cost that row alone, never
    the other teams' rows. Each retry runs under a savepoint of its own, so a
    refused row leaves the connection (and a caller's transaction) usable.
    """
    try:
        with transaction.atomic():
            SCIMRequestLog.objects.bulk_create(rows)
        return
    except Exception:
        if len(rows) == 1:
            raise
    lost = 0
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except Exception:
            lost += 1
            logger.exception(
                "Could not write a SCIM request-log row (team %s, %s)", row.team_id, row.method
            )
    if lost:
        logger.warning(
            "%d of %d SCIM request-log rows of a batch were not written", lost, len(rows)
        )


writer = RequestLogWriter()
atexit.register(writer.flush, 5.0)
