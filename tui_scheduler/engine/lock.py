"""One engine per database: a lock row naming its holder, kept fresh by heartbeats.

A holder is alive when its process exists on this host (same pid, started before it took
the lock, so a reused pid does not count) or, on another host, when its heartbeat is fresh.
A dead holder's lock is taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

import psutil
from sqlalchemy import delete, insert, select, text, update

from tui_scheduler.engine.cluster import live_node
from tui_scheduler.engine.holder import LockHolder
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import EngineLock as EngineLockRow  # the class below is ours

__all__ = ["EngineLock", "EngineLockedError", "LockHolder", "live_holder", "process_alive"]
_lock = EngineLockRow.__table__
STALE_AFTER = timedelta(seconds=30)


class EngineLockedError(RuntimeError):
    """Another live engine holds the database."""

    def __init__(self, holder: LockHolder, location: str):
        self.holder = holder
        age = (datetime.now(UTC) - holder.heartbeat_at).total_seconds()
        super().__init__(
            f"another engine is running on {location}: host {holder.host}, pid {holder.pid}, "
            f"since {holder.started_at.astimezone():%Y-%m-%d %H:%M:%S} (last heartbeat "
            f"{age:.0f}s ago); stop it first or use another --db")


def process_alive(pid: int, since: datetime) -> bool:
    """True when ``pid`` runs here and was created no later than ``since``."""
    try:
        process = psutil.Process(pid)
        created = process.create_time()
        # A zombie has exited; nobody may reap it (PID 1 in a container often doesn't).
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.Error:
        return False
    return created <= since.timestamp() + 1.0


def holder_alive(holder: LockHolder, now: datetime) -> bool:
    if holder.host == socket.gethostname():
        return process_alive(holder.pid, holder.started_at)
    return now - holder.heartbeat_at < STALE_AFTER


def read_holder(store: Store) -> LockHolder | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(_lock).where(_lock.c.id == 1)).mappings().first()
    if row is None:
        return None
    return LockHolder(row["host"], row["pid"], row["token"], _aware(row["started_at"]),
                      _aware(row["heartbeat_at"]))


def live_holder(store: Store) -> LockHolder | None:
    """The live engine serving this database, if any (on PostgreSQL: any live one)."""
    if not store.is_sqlite:
        return live_node(store)
    holder = read_holder(store)
    if holder is not None and holder_alive(holder, datetime.now(UTC)):
        return holder
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class EngineLock:
    """The lock as held by this process."""

    def __init__(self, store: Store):
        self.store = store
        self.token = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.previous: LockHolder | None = None
        """The dead holder this engine took over from, if any."""

    def acquire(self) -> None:
        now = datetime.now(UTC)
        with self.store.engine.begin() as conn:
            # Writing first takes SQLite's write lock, so two engines starting at the same
            # moment serialise here instead of both seeing an empty lock.
            conn.execute(text("UPDATE meta SET value = value WHERE key = 'schema_version'"))
            row = conn.execute(select(_lock).where(_lock.c.id == 1)).mappings().first()
            if row is not None:
                holder = LockHolder(row["host"], row["pid"], row["token"],
                                    _aware(row["started_at"]), _aware(row["heartbeat_at"]))
                if holder.token != self.token and holder_alive(holder, now):
                    raise EngineLockedError(holder, self.store.location)
                self.previous = holder
                conn.execute(delete(_lock).where(_lock.c.id == 1))
            conn.execute(insert(_lock).values(id=1, host=self.host, pid=self.pid,
                                              token=self.token, started_at=now,
                                              heartbeat_at=now))

    def heartbeat_op(self):
        """A writer op refreshing the heartbeat; returns False if the lock was lost."""
        token = self.token

        def op(conn) -> bool:
            result = conn.execute(update(_lock).where(_lock.c.token == token)
                                  .values(heartbeat_at=datetime.now(UTC)))
            return result.rowcount == 1
        return op

    def release(self) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(_lock).where(_lock.c.token == self.token))
