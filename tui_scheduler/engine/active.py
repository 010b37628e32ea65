"""A run this process is executing (or about to): ``ActiveRun``, the record every part
of the engine passes along, and ``Flag``, its light set-once event."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_scheduler.core.progress import Progress
from tui_scheduler.engine.batching import RunWrites
from tui_scheduler.engine.process import StopRequest
from tui_scheduler.engine.sink import OutputSink
from tui_scheduler.store.models import Job


class Flag:
    """``threading.Event``'s set / is_set / wait for flags set once, at a fraction of its
    cost to create (an Event builds a Condition; a burst creates three per fire)."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._set = False
        self._lock = threading.Lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        self._release()

    def wait(self, timeout: float | None = None) -> bool:
        if self._set:
            return True
        if timeout is None:
            got = self._lock.acquire()
        else:
            got = self._lock.acquire(timeout=max(0.0, timeout))
        if got:
            self._release()  # pass it on to the next waiter
        return self._set

    def _release(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:
            pass  # already released: set twice, or a waiter passing it on


def _stop_request() -> StopRequest:
    return StopRequest(event=Flag())  # CommandRunner only sets, and asks is_set()


@dataclass(slots=True)
class ActiveRun:
    """A run this process is executing (or about to). (Slots: a burst makes thousands.)"""

    job: Job
    trigger: str
    scheduled_for: datetime | None
    attempt: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    row: str = "none"
    """What the database holds for it yet: "none", "scheduled" (queued, retry) or "running"."""
    stop: StopRequest = field(default_factory=_stop_request)
    sink: OutputSink | None = None
    """Created with its first output line (most short runs print nothing)."""
    adopted: bool = False
    started_at: datetime | None = None
    progress: Progress | None = None
    progress_dirty: bool = False
    pid: int | None = None
    pid_dirty: bool = False
    status: str | None = None
    context: Any = None
    emitted_lines: int = 0
    recorded: Flag = field(default_factory=Flag)
    """Set once the run has its row (and ``run_id``)."""
    finished: Flag = field(default_factory=Flag)
    force_queue: bool = False
    deadline: float | None = None
    """Monotonic time a python run times out at (the watchdog enforces it)."""
    stop_kind: str | None = None
    """'stopped' or 'timed_out' once the watchdog told a python run to stop."""
    abandon_at: float | None = None
    closed: bool = False
    """The result is recorded; a late return of an abandoned function changes nothing."""
    finish_lock: threading.Lock = field(default_factory=threading.Lock)
    launched: bool = False
    """Its code has begun (or is about to): a stop no longer settles it on the spot."""
    start_dirty: bool = False
    """``started_at`` is the real start, newer than the provisional one in its row."""
    parts_left: int = 2
    """Release once both its end is committed and its code returned (see module doc)."""
    writes: RunWrites | None = None

    @property
    def recorded_id(self) -> int:
        """``run_id`` where the run must have its row (adopted, executing, ending): a fire
        found already recorded elsewhere keeps ``None`` but never gets that far. The
        check ``store.models.row_id`` makes for a stored row."""
        if self.run_id is None:
            raise ValueError(f"run of {self.job.name} has no id yet: it was never recorded")
        return self.run_id
