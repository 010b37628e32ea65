"""What every part of one engine reads: its name, whether it shares the database, the
jobs it knows, whether it is scheduling, and the one mutex that guards them.

The parts of the engine (firing, overlap, launching, follow-ups, the ticker) each get this
object instead of the ``Engine``, so none of them imports the class that assembles them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tui_scheduler.store.models import Job


@dataclass(eq=False)
class EngineState:
    name: str
    """This engine's name, for jobs pinned to engines (default: the host name)."""
    shared: bool
    """The database is shared with other engines (PostgreSQL membership)."""
    mutex: threading.RLock = field(default_factory=threading.RLock)
    """Guards ``jobs`` and the overlap slots. APScheduler's thread takes it while it holds
    its own lock (to hand fires over): never call into APScheduler under it."""
    jobs: dict[int, Job] = field(default_factory=dict)
    """The engine's copy of every live job row, by id."""
    running: bool = False
    """Scheduling (between start and shutdown)."""
    lost_lock: bool = False
    """Another engine took this database over, or declared this one dead."""

    def active(self) -> bool:
        """Scheduling and still in charge."""
        return self.running and not self.lost_lock

    def runs_here(self, job: Job) -> bool:
        """Pinned jobs fire only on the engines they name (a lone engine runs all)."""
        if not self.shared or job.engines in ("", "*"):
            return True
        return self.name in job.engines.split(",")
