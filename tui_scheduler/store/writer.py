"""One writer thread that commits queued operations in batches.

SQLite has one writer at a time and a commit costs far more than a row, so the engine's
writes (run records, output, progress, heartbeats) queue here and commit together: a
burst of a thousand fires becomes a handful of transactions. A caller that needs the
result (a new run id) waits on a future; nobody else waits on the disk.

On PostgreSQL each transaction also sends a NOTIFY naming the tables it wrote (see
``store/notify.py``), delivered on commit: attached consoles read the change at once
instead of on their next poll.

Where several engines share a database, every transaction first runs the writer's
``fence`` (the engine's membership check): once other engines have declared this one
dead, nothing it writes lands, and every queued write fails at once with ``Fenced``.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from tui_scheduler.store import notify as notifications
from tui_scheduler.store.db import Store

log = logging.getLogger(__name__)

Op = Callable[[Connection], Any]
DISK_FULL = "the disk is full; free some space"
_STOP = object()


class Fenced(RuntimeError):
    """This engine is no longer a member of the engines sharing the database: another
    one declared it dead and took over its runs, so it may not write any more."""


class BatchWriter:
    """Runs write operations on a dedicated thread, many per transaction."""

    def __init__(self, store: Store, *, max_batch: int = 5000,
                 on_trouble: Callable[[str | None], None] | None = None,
                 notify: bool | None = None):
        self._store = store
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._max_batch = max_batch
        self._on_trouble = on_trouble or (lambda message: None)
        self._thread = threading.Thread(target=self._loop, name="db-writer", daemon=True)
        self._closed = False
        self._conn: Connection | None = None
        self.trouble: str | None = None
        """Why writes are failing right now (disk full, read-only), or None when healthy."""
        self.notify = notifications.supported(store) if notify is None else notify
        """Send a NOTIFY with each transaction (PostgreSQL; on by default there)."""
        self._written: set[str] = set()
        self._notify_paused_until = 0.0
        self._give_up_at = float("inf")
        """After close, failing writes stop being retried at this (monotonic) time."""
        self.fence: Op | None = None
        """Run first in every transaction; raises ``Fenced`` when this engine may no longer
        write (its own check, in the same transaction, so nothing slips in after it)."""

    def start(self) -> None:
        self._thread.start()

    def submit(self, op: Op) -> Future[Any]:
        future: Future[Any] = Future()
        if self._closed:
            future.set_exception(RuntimeError("writer is closed"))
            return future
        self._queue.put((op, future))
        return future

    def call(self, op: Op, timeout: float | None = None) -> Any:
        """Submit and wait for the committed result."""
        return self.submit(op).result(timeout)

    def flush(self, timeout: float | None = 30) -> None:
        self.call(lambda conn: None, timeout)

    def close(self, timeout: float = 30, retry_s: float = 5.0) -> None:
        """Commit what is queued and stop. Should writes be failing, they are retried for
        ``retry_s`` more seconds in all, then every batch still queued fails at once: a
        quit on a broken disk takes seconds, not a retry budget per batch."""
        if self._closed:
            return
        self._give_up_at = time.monotonic() + retry_s
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            batch = []
            if item is _STOP:
                stopping = True
            else:
                batch.append(item)
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            if batch:
                self._commit(batch)
        self._drop_connection()

    def _commit(self, batch: list[tuple[Op, Future[Any]]]) -> None:
        delay = 0.5
        while True:
            if self.trouble and self._closed and time.monotonic() >= self._give_up_at:
                self._fail_all(batch, RuntimeError(f"not written: {self.trouble}"))
                return
            try:
                results = self._run_batch(batch)
            except Fenced as exc:
                self._fail_all(batch, exc)  # final: retrying cannot help
                return
            except OperationalError as exc:
                # Locked past the busy timeout, disk full, read-only file: keep the batch
                # and try again, so nothing is recorded half-way and nothing is lost.
                self._pause_notify_if_to_blame(exc)
                self._set_trouble(describe_write_failure(self._store, exc))
                # Never sleeping past the give-up time (infinite until close): the check
                # at the top of the loop then fails the batch.
                time.sleep(max(0.0, min(delay, self._give_up_at - time.monotonic())))
                delay = min(delay * 2, 10)
                continue
            except Exception:  # noqa: BLE001 - retried op by op to find the bad one
                self._commit_one_by_one(batch)
                return
            self._set_trouble(None)
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
            return

    def _connection(self) -> Connection:
        # One connection kept for the writer's life: checking one out of the pool per
        # batch costs more than a small commit.
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._store.engine.connect()
            if self.notify:
                notifications.record_writes(self._conn, self._written)
        return self._conn

    def _run_batch(self, batch: list[tuple[Op, Future[Any]]]) -> list[Any]:
        conn = self._connection()
        try:
            return self._transaction(conn, [op for op, _ in batch])
        except OperationalError:
            self._drop_connection()
            raise

    def _transaction(self, conn: Connection, ops: list[Op], *, announce: bool = True
                     ) -> list[Any]:
        with conn.begin():
            self._written.clear()
            if self.fence is not None:
                self.fence(conn)
            results = [op(conn) for op in ops]
            if announce:
                self._announce(conn)
        return results

    def _announce(self, conn: Connection) -> None:
        """NOTIFY what this transaction wrote (heartbeats alone are not news)."""
        if not self.notify or time.monotonic() < self._notify_paused_until:
            return
        kinds = self._written - notifications.QUIET
        if kinds:
            notifications.notify(conn, kinds)

    def _pause_notify_if_to_blame(self, exc: OperationalError) -> None:
        # A full NOTIFY queue (a listener stuck in a transaction elsewhere) fails the
        # commit: writes matter more than wake-ups, so stop notifying for a while.
        if self.notify and "notif" in str(exc).lower():
            log.warning("NOTIFY failing (%s); writing without it for a minute", exc)
            self._notify_paused_until = time.monotonic() + 60

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                # Invalidated, not returned to the pool: after an I/O error the SQLite
                # handle may be unusable, and the next batch must get a fresh one.
                self._conn.invalidate()
                self._conn.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._conn = None

    def _commit_one_by_one(self, batch: list[tuple[Op, Future[Any]]]) -> None:
        """A bad operation must not take its batch-mates down with it."""
        for index, (op, future) in enumerate(batch):
            conn = self._connection()
            try:
                # Unannounced: should the NOTIFY be what failed the batch, the writes
                # still land (watchers see them on their poll).
                result = self._transaction(conn, [op], announce=False)[0]
                future.set_result(result)
            except Fenced as exc:
                self._fail_all(batch[index:], exc)
                return
            except Exception as exc:  # noqa: BLE001 - handed to the caller's future
                log.debug("write failed: %s", exc)
                future.set_exception(exc)

    def _fail_all(self, batch: list[tuple[Op, Future[Any]]], exc: Exception) -> None:
        for _, future in batch:
            future.set_exception(exc)

    def _set_trouble(self, message: str | None) -> None:
        if message != self.trouble:
            self.trouble = message
            if message:
                log.error("database writes failing: %s (retrying)", message)
            else:
                log.info("database writes recovered")
            self._on_trouble(message)


def describe_write_failure(store: Store, exc: OperationalError) -> str:
    """Why a write failed, in words an operator can act on. SQLite reports a file system
    remounted read-only (what the kernel does after an I/O error) as a mere "disk I/O
    error", so for SQLite the folder and file are looked at too."""
    text = str(getattr(exc, "orig", exc)).splitlines()[0]
    if "locked" in text:  # says it all: no probe on every retry of a long lock
        return "the database is locked by another program"
    found = _probe_sqlite_file(store) if store.is_sqlite else None
    if found:
        return found
    if "readonly" in text:
        return "the database file is read-only; fix its permissions"
    if "full" in text:
        return DISK_FULL
    return text


def _probe_sqlite_file(store: Store) -> str | None:
    # A write probe, not statvfs: ext4 turned read-only after an error still reports
    # "rw" there, and os.access ignores it for root.
    path = Path(store.location).expanduser()
    try:
        with tempfile.TemporaryFile(dir=path.parent, prefix=".tui-scheduler-probe-"):
            pass
    except OSError as exc:
        if exc.errno == errno.EROFS:
            return "the database's file system went read-only; check the disk, remount it"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "the database folder is not writable; fix its permissions"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        return f"the database folder cannot be written: {exc.strerror}"
    if not os.access(path, os.W_OK):
        return "the database file is read-only; fix its permissions"
    return None
