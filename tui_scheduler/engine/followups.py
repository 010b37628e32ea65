"""Finishing and follow-ups: what happens once a run is released (its end committed, its
code returned). Its overlap slot is freed and the run queued behind it starts; a failed
run is retried after its delay or, past its retries, disables a stop-on-error job; a
waiting retry that falls due starts.

``after_run`` runs on the writer thread or a runner thread, so it never waits for the
database: retries and disabling are handed to the launcher thread (``take_all`` /
``handle``).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from tui_scheduler.core.policies import RunStatus, Trigger, retry_delay
from tui_scheduler.engine import records
from tui_scheduler.engine.events import EventBus, FireAccounted
from tui_scheduler.engine.launching import Launcher
from tui_scheduler.engine.overlap import OverlapSlots
from tui_scheduler.engine.retries import RetryBook
from tui_scheduler.engine.runs import ActiveRun
from tui_scheduler.engine.state import EngineState
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Job, Run, row_id
from tui_scheduler.store.writer import BatchWriter


class FollowUps:
    """Frees released runs' slots and retries or disables after failures."""

    def __init__(self, state: EngineState, store: Store, writer: BatchWriter, bus: EventBus,
                 slots: OverlapSlots, launcher: Launcher, retries: RetryBook, *,
                 reload: Callable[[set[int]], None], wake: Callable[[], None]):
        self._state = state
        self._store = store
        self._writer = writer
        self._bus = bus
        self._slots = slots
        self._launcher = launcher
        self._retries = retries
        self._reload = reload
        """Re-read a job after disabling it."""
        self._wake = wake
        """Wake the launcher thread."""
        self._waiting: deque[ActiveRun] = deque()
        """Failed runs whose retry or stop-on-error the launcher handles (off the writer
        thread, where runs are released)."""

    def after_run(self, run: ActiveRun) -> None:
        """A run is released: free its overlap slot, start what queued behind it, and
        hand retries to the launcher."""
        job_id = row_id(run.job)
        following = self._slots.release(job_id)
        if following is not None:
            self._launcher.spawn(following)
        state = self._state
        if not state.running:
            return
        if run.status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            job = state.jobs.get(job_id, run.job)
            if run.attempt <= job.retries or job.stop_on_error:
                with state.mutex:
                    self._waiting.append(run)
                self._wake()

    def take_all(self) -> list[ActiveRun]:
        """On the launcher thread: the failed runs waiting for their follow-up."""
        with self._state.mutex:
            runs = list(self._waiting)
            self._waiting.clear()
        return runs

    def handle(self, run: ActiveRun) -> None:
        """On the launcher thread: retry a failed run, or disable its job."""
        job_id = row_id(run.job)
        job = self._state.jobs.get(job_id, run.job)
        if run.attempt <= job.retries:
            self._schedule_retry(job, run)
        elif job.stop_on_error:
            self._writer.call(records.disable_job(job_id))
            self._reload({job_id})

    def _schedule_retry(self, job: Job, run: ActiveRun) -> None:
        delay = retry_delay(run.attempt, job.retry_delay_s, job.retry_backoff,
                            job.retry_max_delay_s)
        due = records.utcnow() + timedelta(seconds=delay)
        job_id = row_id(job)
        run_id = self._writer.call(records.insert_run(
            job_id=job_id, trigger=Trigger.RETRY, status=RunStatus.SCHEDULED,
            scheduled_for=due, attempt=run.attempt + 1, params=run.params))
        self._retries.arm(run_id, job_id, due)
        self._bus.emit(FireAccounted(run_id, job_id, RunStatus.SCHEDULED,
                                     f"retry {run.attempt + 1} in {delay:g}s"))

    def start_retry(self, run_id: int) -> None:
        """On APScheduler's thread: a waiting retry fell due. Start it, unless it was
        cancelled or is held."""
        if self._retries.take(run_id) is None:
            return
        with self._store.session() as session:
            row = session.get(Run, run_id)
        if row is None or row.status != RunStatus.SCHEDULED:
            return
        state = self._state
        with state.mutex:
            job = state.jobs.get(row.job_id)
            if job is None or not state.running:
                self._writer.submit(records.set_status(run_id, RunStatus.MISSED,
                                                       "job was deleted or disabled"))
                return
            run = ActiveRun(job=job, trigger=row.trigger, scheduled_for=row.scheduled_for,
                            attempt=row.attempt, params=json.loads(row.params or "{}"),
                            run_id=run_id, row="scheduled")
            self._slots.take(row_id(job))
        self._launcher.spawn(run)
