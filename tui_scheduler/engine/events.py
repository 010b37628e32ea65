"""What the engine reports. Listeners are called on engine threads and must not block;
the console turns each event into a Textual message (``post_message`` is thread-safe)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    job_id: int
    trigger: str
    started_at: datetime


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    job_id: int
    done: float | None
    total: float | None
    message: str


@dataclass(frozen=True)
class RunOutput:
    run_id: int
    job_id: int
    lines: int


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    job_id: int
    status: str
    exit_code: int | None
    error: str


@dataclass(frozen=True)
class FireAccounted:
    """A fire that did not start a run (skipped or missed), or a run queued behind another."""

    run_id: int
    job_id: int
    status: str
    reason: str


@dataclass(frozen=True)
class JobsChanged:
    job_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class EngineTrouble:
    """The database cannot be written (message) or has recovered (None)."""

    message: str | None


Event = RunStarted | RunProgress | RunOutput | RunFinished | FireAccounted | JobsChanged | \
    EngineTrouble


class EventBus:
    """Fan-out of engine events to listeners; a failing listener never hurts the engine."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return unsubscribe

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")
