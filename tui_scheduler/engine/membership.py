"""Is this engine still in charge of its database, and who takes over from dead ones?

On SQLite the engine's lock row is refreshed through the writer (``check_lock`` reads the
answer); on PostgreSQL the membership row beats on a thread of its own and calls
``lost`` when other engines declared this one dead. Either way the engine stops
scheduling at once rather than risk running a fire twice. ``take_over_dead`` settles
the runs of engines whose heartbeats stopped (``recovery.take_over``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from tui_scheduler.engine.events import EngineTrouble, EventBus
from tui_scheduler.engine.holder import LockHolder
from tui_scheduler.engine.runs import RunExecutor
from tui_scheduler.engine.state import EngineState

log = logging.getLogger(__name__)


class LockWatch:
    """Reacts to this engine losing its lock or membership, and to dead engines."""

    def __init__(self, state: EngineState, lock: Any, bus: EventBus, executor: RunExecutor, *,
                 pause: Callable[[], None], take_over: Callable[[LockHolder], None]):
        self._state = state
        self._lock = lock
        self._bus = bus
        self._executor = executor
        self._pause = pause
        """Pause APScheduler (raises if it is not started, or shutting down)."""
        self._take_over = take_over
        """Settle a dead engine's runs."""

    def check_lock(self, future: Future) -> None:
        """The SQLite heartbeat's answer (writer thread): False means the lock is gone."""
        if future.exception() is None and future.result() is False and self._state.running:
            # Someone took the database over believing us dead: stop scheduling at once
            # rather than risk running a fire twice.
            self._state.lost_lock = True
            log.error("engine lock lost to another engine; scheduling stopped")
            self._pause()
            self._bus.emit(EngineTrouble("another engine took over this database; "
                                         "this one no longer schedules jobs"))

    def lost(self) -> None:
        """On the heartbeat thread: other engines declared this one dead (it was frozen or
        cut off past the deadline) and have settled and re-run its runs. Its writes are
        fenced off already; stop scheduling, stop its runs (their results could not be
        recorded, and their fires run elsewhere), and tell the owner to leave."""
        state, executor = self._state, self._executor
        if state.lost_lock:
            return
        state.lost_lock = True
        log.error("another engine declared this engine dead (no heartbeat for %gs) and took "
                  "over its runs; stopping its %d running jobs and leaving the cluster",
                  self._lock.stale_after.total_seconds(), len(executor.active))
        try:
            self._pause()
        except Exception:  # not started yet, or shutting down
            log.debug("could not pause the scheduler", exc_info=True)
        for run_id in list(executor.active):
            executor.stop(run_id, reason="stopped: this engine was declared dead")
        self._bus.emit(EngineTrouble("other engines declared this engine dead and took "
                                     "over its runs; it no longer schedules jobs"))

    def take_over_dead(self) -> None:
        """Checked every tick, so a dead engine's runs move within 1.5 heartbeat periods
        plus a tick."""
        for dead in self._lock.claim_dead():
            self._take_over(dead)
