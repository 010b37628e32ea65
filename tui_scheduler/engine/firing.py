"""Firing and deciding: fires handed over by APScheduler (or recovery, or a console) are
decided by the overlap policy and recorded in batches on the launcher thread, then
started.

``fire`` is cheap on purpose (it runs on APScheduler's thread in a burst): it only queues
the fire. The launcher thread takes everything queued at once, decides each fire under
the mutex, inserts all their rows in one write, and hands the ones that start to the
runner threads. It also runs the follow-ups of failed runs (retries, stop-on-error).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from tui_scheduler.core.policies import RunStatus, Trigger
from tui_scheduler.engine import records
from tui_scheduler.engine.events import EventBus, FireAccounted
from tui_scheduler.engine.followups import FollowUps
from tui_scheduler.engine.launching import Launcher
from tui_scheduler.engine.overlap import OverlapSlots
from tui_scheduler.engine.runs import ActiveRun, RunExecutor
from tui_scheduler.engine.state import EngineState
from tui_scheduler.store.models import row_id
from tui_scheduler.store.writer import BatchWriter, Fenced

log = logging.getLogger(__name__)
_SETTLED = (RunStatus.SKIPPED, RunStatus.MISSED)
"""Fires decided not to run: recorded as ended at once."""


class Firing:
    """The fires waiting to be decided, and the launcher thread that records them."""

    def __init__(self, state: EngineState, slots: OverlapSlots, launcher: Launcher,
                 executor: RunExecutor, writer: BatchWriter, bus: EventBus,
                 followups: FollowUps, stop: threading.Event):
        self._state = state
        self._slots = slots
        self._launcher = launcher
        self._executor = executor
        self._writer = writer
        self._bus = bus
        self._followups = followups
        self._stop = stop
        self.pending: deque[ActiveRun] = deque()
        self.wake = threading.Event()
        """Set when fires or follow-ups wait for the launcher."""
        self.recording = False
        """The launcher is recording a batch of fires."""
        self._thread: threading.Thread | None = None

    def busy(self) -> bool:
        """Fires are being recorded, or wait to be."""
        return bool(self.recording or self.pending)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="engine-launcher",
                                        daemon=True)
        self._thread.start()

    def fire_many(self, job_ids: list[int], fire_time: datetime) -> None:
        """``fire`` for every job of a group, with one hand-over to the launcher."""
        state = self._state
        with state.mutex:
            if not state.running:
                return
            for job_id in job_ids:
                job = state.jobs.get(job_id)
                if job is not None:
                    self.pending.append(ActiveRun(job=job, trigger=Trigger.SCHEDULE,
                                                  scheduled_for=fire_time))
        self.wake.set()

    def fire(self, job_id: int, scheduled_for: datetime | None, trigger: str, *,
             params: dict[str, Any] | None = None, attempt: int = 1,
             force_queue: bool = False) -> ActiveRun | None:
        """Account for one fire: it will start a run, queue one, or be recorded skipped.
        ``run.recorded`` is set once decided."""
        state = self._state
        with state.mutex:
            job = state.jobs.get(job_id)
            if job is None or not state.running:
                return None
            run = ActiveRun(job=job, trigger=trigger, scheduled_for=scheduled_for,
                            attempt=attempt, params=params or {}, force_queue=force_queue)
            self.pending.append(run)
        self.wake.set()
        return run

    def run_now(self, job_id: int, params: dict[str, Any] | None) -> ActiveRun | None:
        """Decide and record a manual run on the calling thread (see ``Engine.run_now``)."""
        state = self._state
        with state.mutex:
            job = state.jobs.get(job_id)
            if job is None or not state.running:
                return None
            run = ActiveRun(job=job, trigger=Trigger.MANUAL, scheduled_for=None,
                            params=params or {})
        self.launch_batch([run])
        return run

    def wait_drained(self, seconds: float) -> None:
        """At shutdown: let the launcher record fires that were already due."""
        deadline = time.monotonic() + seconds
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.01)

    def _loop(self) -> None:
        state = self._state
        while not self._stop.is_set():
            self.wake.wait(0.5)
            self.wake.clear()
            with state.mutex:
                batch = list(self.pending)
                self.pending.clear()
            for run in self._followups.take_all():
                if not state.active():
                    break
                try:
                    self._followups.handle(run)
                except Exception:
                    log.exception("could not retry or disable %s", run.job.name)
            if batch and state.lost_lock:
                _drop(batch)  # fenced: these fires are other engines' now
                batch = []
            if batch:
                self.recording = True
                try:
                    self.launch_batch(batch)
                except Fenced:
                    _drop(batch)  # the heartbeat thread tells the rest
                except Exception:
                    log.exception("could not record %d fires; retrying", len(batch))
                    with state.mutex:
                        self.pending.extendleft(reversed(batch))
                    self._stop.wait(1.0)
                    self.wake.set()
                finally:
                    self.recording = False
                if not self._launcher.bursting():
                    self._executor.flush_finishes()

    def launch_batch(self, batch: list[ActiveRun]) -> None:
        """Decide every fire of ``batch``, record them all in one write, start the ones
        that run."""
        now = records.utcnow()
        decisions: list[tuple[ActiveRun, str, str]] = []
        slots, state = self._slots, self._state
        elsewhere = slots.running_elsewhere([run.job for run in batch])
        with state.mutex:
            for run in batch:
                status, reason = slots.decide(run, elsewhere)
                decisions.append((run, status, reason))
        host, owner, shared = self._executor.host, self._executor.owner, state.shared
        rows = [records.run_row(
            job_id=row_id(run.job), trigger=run.trigger, status=status,
            scheduled_for=run.scheduled_for, attempt=run.attempt, params=run.params,
            host=host if status == RunStatus.RUNNING else "",
            owner=owner if status == RunStatus.RUNNING else "",
            started_at=now if status == RunStatus.RUNNING else None,
            finished_at=now if status in _SETTLED else None, error=reason,
            created_at=now, shard=state.name if shared and run.job.engines == "*" else "")
            for run, status, reason in decisions]
        ids = self._writer.call(records.insert_runs(rows))
        starting: list[ActiveRun] = []
        for (run, status, reason), run_id in zip(decisions, ids, strict=True):
            run.run_id = run_id
            if run_id is None:
                # Already recorded (on a shared database: claimed by another engine).
                (log.debug if shared else log.warning)(
                    "fire of %s at %s was already recorded", run.job.name, run.scheduled_for)
                slots.undo(run, status)
                run.status = RunStatus.SKIPPED
                run.recorded.set()
                run.finished.set()
            elif status == RunStatus.RUNNING and (late := slots.too_late(run)):
                self._writer.call(records.unstart(run_id, RunStatus.MISSED, late))
                slots.undo(run, status)
                run.status = RunStatus.MISSED
                run.recorded.set()
                run.finished.set()
                self._bus.emit(FireAccounted(run_id, row_id(run.job), RunStatus.MISSED, late))
            elif status == RunStatus.RUNNING:
                run.row, run.started_at = "running", now
                self._executor.adopt(run)
                starting.append(run)
            elif status == RunStatus.SCHEDULED:
                run.row, run.status = "scheduled", RunStatus.SCHEDULED
                run.recorded.set()
                self._bus.emit(FireAccounted(run_id, row_id(run.job), status, reason))
            else:
                run.status = status
                run.recorded.set()
                run.finished.set()
                self._bus.emit(FireAccounted(run_id, row_id(run.job), status, reason))
        if starting:
            self._launcher.spawn_many(starting)


def _drop(batch: list[ActiveRun]) -> None:
    for run in batch:
        run.status = RunStatus.SKIPPED
        run.recorded.set()
        run.finished.set()
