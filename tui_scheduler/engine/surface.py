"""The one surface the console drives an engine through.

A console either runs its own ``Engine`` or attaches to another process's through
``AttachedEngine``. Both derive from ``EngineSurface`` and hand out runs that satisfy
``RunHandle``, so every key does the same thing in both set-ups: a method or attribute the
console needs is declared here once, and a class that lacks it cannot be made (abstract
methods) or fails the surface test (attributes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tui_scheduler.core.progress import Progress
    from tui_scheduler.engine.events import EventBus
    from tui_scheduler.store.models import Job


class Flag(Protocol):
    """Set once; ``threading.Event`` and the engine's lighter ``Flag`` both fit."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...


@runtime_checkable
class RunHandle(Protocol):
    """A run as the console sees it, wherever it executes.

    Read-only properties, not plain attributes: the console only reads them, and a
    protocol attribute would have to match each run class's own types exactly (the
    engine's light ``Flag`` here, ``threading.Event`` there)."""

    @property
    def job(self) -> Job: ...
    @property
    def run_id(self) -> int | None: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def progress(self) -> Progress | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def recorded(self) -> Flag:
        """Set once the run has its row (and ``run_id``)."""
    @property
    def finished(self) -> Flag:
        """Set once the run's end is recorded (a stop waits on it before offering SIGKILL)."""


class EngineSurface(ABC):
    """What the console reads and calls on an engine."""

    attached: ClassVar[bool] = False
    """True for a stand-in attached to another process's engine: quitting the console
    leaves that engine's runs going."""
    bus: EventBus
    """Run and job events, in order, for the console's bridge."""
    running: bool
    lost_lock: bool
    started_at: datetime | None
    lock: Any
    """Who holds the database: ``host`` and ``pid``."""
    writer: Any
    """``trouble``: why writes are failing just now, or None."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def shutdown(self, *, stop_runs: bool = True, drain_s: float = 0.0,
                 timeout: float = 60.0) -> None:
        """Stop (own engine: its runs too, as asked) or detach (attached: runs go on)."""

    @abstractmethod
    def run_now(self, job_id: int, params: dict[str, Any] | None = None) -> RunHandle | None:
        """Start a manual run; None when it could not be asked for."""

    @abstractmethod
    def stop_run(self, run_id: int, *, kill: bool = False) -> bool: ...

    @abstractmethod
    def stop_job(self, job_id: int, *, kill: bool = False) -> list[int]:
        """SIGTERM (or SIGKILL) every running run of a job; their ids."""

    @abstractmethod
    def running_runs(self, job_id: int | None = None) -> Sequence[RunHandle]: ...

    @abstractmethod
    def reload(self, job_ids: set[int] | None = None) -> None:
        """The database changed these jobs (None: all): follow it."""

    @abstractmethod
    def next_run_time(self, job_id: int) -> datetime | None: ...


# The attributes the console reads, checked against both engines by a test.
SURFACE_ATTRIBUTES = ("attached", "bus", "running", "lost_lock", "started_at", "lock",
                      "writer")
