"""Several engines on one PostgreSQL database: membership, heartbeats and failover.

Each engine has a row in ``engine_node`` and refreshes it every half heartbeat period.
An engine whose row is older than 1.5 periods is dead: the first survivor to delete its
row (one DELETE; PostgreSQL lets exactly one transaction win) marks its runs
``interrupted`` and re-runs the restartable ones. Each scheduled fire runs once across
all engines because the fire's record is inserted with ON CONFLICT DO NOTHING on the
(job, scheduled time) unique index: only the engine whose insert lands runs it.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update

from tui_scheduler.engine.lock import LockHolder
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import EngineNode

_nodes = EngineNode.__table__


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

    def release(self) -> None:
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
        for node in stale:
            with self.store.engine.begin() as conn:
                gone = conn.execute(delete(_nodes).where(_nodes.c.token == node["token"])
                                    .where(_nodes.c.heartbeat_at < cutoff)
                                    .returning(_nodes.c.token)).first()
            if gone is not None:
                won.append(LockHolder(node["host"], node["pid"], node["token"],
                                      node["started_at"], node["heartbeat_at"]))
        return won


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
