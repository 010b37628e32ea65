"""Retries waiting for their delay: armed in APScheduler, held while their job is paused
or disabled, cancelled by stop.

A waiting retry is a ``scheduled`` run row with trigger ``retry``. The book below knows
the ones this engine armed; whoever takes an entry out of it (the start at its due time,
or a cancel) owns that retry, so a retry cancelled as it falls due either runs or is
recorded cancelled, never both. A retry held by pause stays ``scheduled`` and runs when
its job is resumed: at its due time, or at once if that passed while it was held.

APScheduler is never called under the book's lock: its thread holds its own job-store
lock while it hands a due retry to ``take``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import update

from tui_scheduler.core.policies import RunStatus
from tui_scheduler.engine import records
from tui_scheduler.engine.apsched import never_called
from tui_scheduler.engine.events import EventBus, RunFinished
from tui_scheduler.store.models import Job, Run
from tui_scheduler.store.writer import BatchWriter

log = logging.getLogger(__name__)
_runs = Run.__table__
CANCELLED = "retry cancelled"
"""The error recorded on a retry stopped before it started."""


@dataclass(frozen=True)
class Waiting:
    run_id: int
    job_id: int
    due: datetime


def holds(job: Job | None) -> bool:
    """A job whose waiting retries must not start now (paused or disabled)."""
    return job is not None and (job.paused or not job.enabled)


def aps_id(run_id: int) -> str:
    return f"run:{run_id}"


class RetryBook:
    """The retries this engine armed and has not started or cancelled yet."""

    def __init__(self, writer: BatchWriter, bus: EventBus,
                 job: Callable[[int], Job | None]):
        self._writer = writer
        self._bus = bus
        self._job = job
        """The engine's current copy of a job (None once deleted)."""
        self._lock = threading.Lock()
        self._waiting: dict[int, Waiting] = {}
        self.scheduler = None
        """APScheduler's scheduler, set once the engine has started it."""

    def __contains__(self, run_id: int) -> bool:
        return run_id in self._waiting

    def arm(self, run_id: int, job_id: int, due: datetime) -> None:
        """Start the recorded retry ``run_id`` at ``due`` (held if its job is held)."""
        with self._lock:
            self._waiting[run_id] = Waiting(run_id, job_id, due)
        if not holds(self._job(job_id)):
            self._place(run_id, due)

    def sync(self, job_id: int) -> None:
        """The job was paused, resumed, disabled or enabled: hold or release its retries."""
        with self._lock:
            mine = [w for w in self._waiting.values() if w.job_id == job_id]
        held = holds(self._job(job_id))
        now = records.utcnow()
        for waiting in mine:
            if held:
                self._unplace(waiting.run_id)
            else:
                self._place(waiting.run_id, max(waiting.due, now))

    def take(self, run_id: int) -> Waiting | None:
        """At its due time: the retry to start, or None (cancelled, or held: kept)."""
        with self._lock:
            waiting = self._waiting.get(run_id)
            if waiting is None or holds(self._job(waiting.job_id)):
                return None  # held ones wait for ``sync`` to place them again
            return self._waiting.pop(run_id)

    def cancel(self, run_id: int) -> bool:
        """Stop a waiting retry before it starts and record it ``stopped``."""
        with self._lock:
            waiting = self._waiting.pop(run_id, None)
        if waiting is None:
            return False
        self._unplace(run_id)
        try:
            # Committed before the answer: a console or the CLI reads the record next.
            self._writer.call(_cancel_row(run_id))
        except Exception as exc:  # noqa: BLE001 - the engine's trouble line names the cause
            log.error("could not record the cancelled retry %s: %s", run_id, exc)
        self._bus.emit(RunFinished(run_id, waiting.job_id, RunStatus.STOPPED, None, CANCELLED))
        return True

    def _place(self, run_id: int, due: datetime) -> None:
        if self.scheduler is not None:
            self.scheduler.add_job(never_called, trigger="date", run_date=due,
                                   id=aps_id(run_id), misfire_grace_time=None,
                                   replace_existing=True)

    def _unplace(self, run_id: int) -> None:
        if self.scheduler is None:
            return
        try:
            self.scheduler.remove_job(aps_id(run_id))
        except JobLookupError:
            pass  # already fired (and found held) or never placed


def _cancel_row(run_id: int):
    def op(conn) -> None:
        # Only a retry still waiting: one that started meanwhile keeps its own record.
        conn.execute(update(_runs).where(_runs.c.id == run_id)
                     .where(_runs.c.status == RunStatus.SCHEDULED)
                     .values(status=RunStatus.STOPPED, error=CANCELLED,
                             finished_at=records.utcnow()))
    return op
