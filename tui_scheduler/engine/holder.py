"""Who holds a database: the engine named by a lock row (SQLite) or a membership row
(PostgreSQL). Both ``lock.py`` and ``cluster.py`` speak of holders, so the type sits
below them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LockHolder:
    host: str
    pid: int
    token: str
    started_at: datetime
    heartbeat_at: datetime
