"""Several engines on one PostgreSQL database: membership, heartbeats and failover.

Each engine has a row in ``engine_node`` and refreshes it every half heartbeat period.
An engine whose row is older than 1.5 periods is dead: the first survivor to delete its
row (one DELETE; PostgreSQL lets exactly one transaction win) marks its runs
``interrupted`` and re-runs the restartable ones. Each scheduled fire runs once across
all engines because the fire's record is inserted with ON CONFLICT DO NOTHING on the
(job, scheduled time) unique index: only the engine whose insert lands runs it.

Fencing: an engine declared dead (frozen, or its host or network stalled) may wake up
later with runs it believes are its own. Every transaction its writer commits first
locks its own membership row (``FOR KEY SHARE``): once a survivor has deleted the row,
nothing the engine writes lands (``Fenced``), and a survivor's DELETE waits for any
transaction that passed the check to commit, so it sees what that one wrote. The engine
learns it is out from its heartbeat and leaves (the daemon exits non-zero).

Heartbeats come from a thread of their own on their own connection, not through the
writer queue, so a long start-up recovery or a burst of writes cannot delay them past
the deadline and get a healthy engine declared dead.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import OperationalError

from tui_scheduler.engine.holder import LockHolder
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import EngineNode
from tui_scheduler.store.writer import Fenced

log = logging.getLogger(__name__)
_nodes = EngineNode.__table__
_CLAIM_LOCK_TIMEOUT_MS = 200
"""A survivor's DELETE of a dead engine's row waits at most this long for that engine's
open transaction; it tries again on its next tick rather than stall its ticker."""
_LOCK_NOT_AVAILABLE = "55P03"


class ClusterMembership:
    """This engine's row among the engines sharing the database (the PostgreSQL lock)."""

    shared = True

    def __init__(self, store: Store, heartbeat_s: float):
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.token = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.previous: LockHolder | None = None
        self.first = False
        """No other live engine was there when this one joined (it owns start-up recovery)."""
        self._stop_beats = threading.Event()
        self._beater: threading.Thread | None = None

    @property
    def owner(self) -> str:
        return f"{self.host}:{self.pid}"

    def acquire(self) -> None:
        now = datetime.now(UTC)
        with self.store.engine.begin() as conn:
            others = conn.execute(select(_nodes.c.heartbeat_at)).scalars().all()
            self.first = not any(now - beat < self.stale_after for beat in others)
            conn.execute(insert(_nodes).values(token=self.token, host=self.host, pid=self.pid,
                                               started_at=now, heartbeat_at=now))

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=1.5 * self.heartbeat_s)

    def heartbeat_op(self):
        token = self.token

        def op(conn) -> bool:
            result = conn.execute(update(_nodes).where(_nodes.c.token == token)
                                  .values(heartbeat_at=datetime.now(UTC)))
            return result.rowcount == 1
        return op

    def fence_op(self):
        """The writer's first statement in every transaction: lock this engine's own row
        against deletion until the commit, or raise ``Fenced`` if it is gone. It also
        bounds how long a transaction may sit idle (a frozen engine's open transaction
        would otherwise hold that lock, and block its takeover, for as long as it is
        frozen)."""
        idle_ms = str(int(max(5.0, 1.5 * self.heartbeat_s) * 1000))
        statement = text(
            "SELECT set_config('idle_in_transaction_session_timeout', :idle, true) "
            "FROM engine_node WHERE token = :token FOR KEY SHARE")
        params = {"idle": idle_ms, "token": self.token}

        def op(conn) -> None:
            if conn.execute(statement, params).first() is None:
                raise Fenced(f"another engine declared this engine dead (no heartbeat for "
                             f"{self.stale_after.total_seconds():g}s) and took over its runs")
        return op

    def start_heartbeats(self, on_lost: Callable[[], None]) -> None:
        """Beat twice per period from a thread of its own; ``on_lost`` is called (once,
        on that thread) when the row is gone: this engine has been declared dead."""
        self._beater = threading.Thread(target=self._beat, args=(on_lost,),
                                        name="engine-heartbeat", daemon=True)
        self._beater.start()

    def _beat(self, on_lost: Callable[[], None]) -> None:
        beat = self.heartbeat_op()
        every = self.heartbeat_s / 2
        due = time.monotonic() + every
        # A connection of its own, kept: a pool drained by a burst must not delay a beat.
        conn = None
        try:
            while not self._stop_beats.wait(max(0.0, due - time.monotonic())):
                due = time.monotonic() + every
                try:
                    conn = conn if conn is not None else self.store.engine.connect()
                    with conn.begin():
                        alive = beat(conn)
                except Exception as exc:  # noqa: BLE001 - the database is away: beat again
                    log.warning("heartbeat failed: %s", str(exc).splitlines()[0])
                    _discard(conn)
                    conn = None
                    continue
                if not alive:
                    if not self._stop_beats.is_set():
                        on_lost()
                    return
        finally:
            _discard(conn)

    def release(self) -> None:
        self._stop_beats.set()
        if self._beater is not None and self._beater is not threading.current_thread():
            self._beater.join(timeout=5)
        with self.store.engine.begin() as conn:
            conn.execute(delete(_nodes).where(_nodes.c.token == self.token))

    def live_owners(self) -> set[str]:
        cutoff = datetime.now(UTC) - self.stale_after
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(_nodes.c.host, _nodes.c.pid)
                                .where(_nodes.c.heartbeat_at >= cutoff)).all()
        return {f"{host}:{pid}" for host, pid in rows}

    def claim_dead(self) -> list[LockHolder]:
        """Remove engines whose heartbeats stopped; return the ones this engine won."""
        cutoff = datetime.now(UTC) - self.stale_after
        won: list[LockHolder] = []
        with self.store.engine.connect() as conn:
            stale = conn.execute(select(_nodes).where(_nodes.c.heartbeat_at < cutoff)
                                 .where(_nodes.c.token != self.token)).mappings().all()
        fence = self.fence_op()
        for node in stale:
            try:
                with self.store.engine.begin() as conn:
                    # Only a member may declare another dead (a dead one waking up must
                    # not), and it stays a member until this commits.
                    fence(conn)
                    conn.execute(text(f"SET LOCAL lock_timeout = {_CLAIM_LOCK_TIMEOUT_MS}"))
                    gone = conn.execute(delete(_nodes).where(_nodes.c.token == node["token"])
                                        .where(_nodes.c.heartbeat_at < cutoff)
                                        .returning(_nodes.c.token)).first()
            except Fenced:
                return won  # this engine is the dead one now
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                    raise
                log.debug("engine %s is still writing; claiming it later", node["pid"])
                continue
            if gone is not None:
                won.append(LockHolder(node["host"], node["pid"], node["token"],
                                      node["started_at"], node["heartbeat_at"]))
        return won


def _discard(conn) -> None:
    """Close a connection that may be broken (None passes)."""
    if conn is not None:
        try:
            conn.invalidate()
            conn.close()
        except Exception:  # it is being thrown away
            log.debug("closing the heartbeat connection failed", exc_info=True)


def live_node(store: Store, heartbeat_s: float = 5.0) -> LockHolder | None:
    """Some live engine on a shared database, for a console to attach to."""
    cutoff = datetime.now(UTC) - timedelta(seconds=1.5 * heartbeat_s)
    with store.engine.connect() as conn:
        row = conn.execute(select(_nodes).where(_nodes.c.heartbeat_at >= cutoff)
                           .order_by(_nodes.c.started_at)).mappings().first()
    if row is None:
        return None
    return LockHolder(row["host"], row["pid"], row["token"], row["started_at"],
                      row["heartbeat_at"])
