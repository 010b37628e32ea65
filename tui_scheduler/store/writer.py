"""One writer thread that commits queued operations in batches.

SQLite has one writer at a time and a commit costs far more than a row, so the engine's
writes (run records, output, progress, heartbeats) queue here and commit together: a
burst of a thousand fires becomes a handful of transactions. A caller that needs the
result (a new run id) waits on a future; nobody else waits on the disk.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from tui_scheduler.store.db import Store

log = logging.getLogger(__name__)

Op = Callable[[Connection], Any]
_STOP = object()


class BatchWriter:
    """Runs write operations on a dedicated thread, many per transaction."""

    def __init__(self, store: Store, *, max_batch: int = 5000,
                 on_trouble: Callable[[str | None], None] | None = None):
        self._store = store
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._max_batch = max_batch
        self._on_trouble = on_trouble or (lambda message: None)
        self._thread = threading.Thread(target=self._loop, name="db-writer", daemon=True)
        self._closed = False
        self._conn: Connection | None = None
        self.trouble: str | None = None
        """Why writes are failing right now (disk full, read-only), or None when healthy."""

    def start(self) -> None:
        self._thread.start()

    def submit(self, op: Op) -> Future:
        future: Future = Future()
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

    def close(self, timeout: float = 30) -> None:
        if self._closed:
            return
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

    def _commit(self, batch: list[tuple[Op, Future]]) -> None:
        delay = 0.5
        while True:
            try:
                results = self._run_batch(batch)
            except OperationalError as exc:
                # Locked past the busy timeout, disk full, read-only file: keep the batch
                # and try again, so nothing is recorded half-way and nothing is lost.
                self._set_trouble(_describe(exc))
                if self._closed and delay > 8:
                    self._fail_all(batch, exc)
                    return
                time.sleep(delay)
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
        return self._conn

    def _run_batch(self, batch: list[tuple[Op, Future]]) -> list[Any]:
        conn = self._connection()
        try:
            with conn.begin():
                return [op(conn) for op, _ in batch]
        except OperationalError:
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._conn = None

    def _commit_one_by_one(self, batch: list[tuple[Op, Future]]) -> None:
        """A bad operation must not take its batch-mates down with it."""
        for op, future in batch:
            conn = self._connection()
            try:
                with conn.begin():
                    result = op(conn)
                future.set_result(result)
            except Exception as exc:  # noqa: BLE001 - handed to the caller's future
                log.debug("write failed: %s", exc)
                future.set_exception(exc)

    def _fail_all(self, batch: list[tuple[Op, Future]], exc: Exception) -> None:
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


def _describe(exc: OperationalError) -> str:
    text = str(getattr(exc, "orig", exc)).splitlines()[0]
    if "readonly" in text:
        return "the database file is read-only; fix its permissions"
    if "full" in text:
        return "the disk is full; free some space"
    if "locked" in text:
        return "the database is locked by another program"
    return text
