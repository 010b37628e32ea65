"""May a fire start now? The overlap slots of every job, and the policy that decides.

A job's slot is busy while a run of it executes here; on a shared database a run of it
on another engine counts too (``running_elsewhere``). The overlap policy then starts the
fire anyway (``allow``), queues it behind the running run (``queue``), or records it
skipped. A fire that finds its job busy only because the database could not record the
run holding the slot is recorded ``missed`` with the database's reason (``held_up``).
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime

from sqlalchemy import select

from tui_scheduler.core.policies import MAX_QUEUED, Overlap, RunStatus, Trigger
from tui_scheduler.engine import records
from tui_scheduler.engine.runs import ActiveRun, RunExecutor
from tui_scheduler.engine.state import EngineState
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Job, Run, row_id
from tui_scheduler.store.writer import BatchWriter

LATE_AFTER_TROUBLE_S = 5.0
"""A scheduled fire held up this long by failing writes follows its misfire policy."""

_run = Run.__table__


class OverlapSlots:
    """The busy count and the queue of every job, and the decision for each fire."""

    def __init__(self, state: EngineState, store: Store, writer: BatchWriter,
                 executor: RunExecutor):
        self._state = state
        self._store = store
        self._writer = writer
        self._executor = executor
        self.busy: dict[int, int] = defaultdict(int)
        """Runs of each job holding its slot here."""
        self.queues: dict[int, deque[ActiveRun]] = defaultdict(deque)
        """Runs recorded ``scheduled``, waiting for their job's slot, in order."""
        self._write_trouble = ""
        """Why writes failed last (kept after they recover), for the fires it held up."""
        self._writes_back_at: datetime | None = None
        """When writes last recovered: fires due before it may have been held up."""

    def note_write_trouble(self, message: str | None) -> None:
        """The writer's trouble changed (its thread): remember it for ``_held_up``."""
        if message:
            self._write_trouble = message
        else:
            self._writes_back_at = records.utcnow()

    def decide(self, run: ActiveRun, elsewhere: dict[int, int]) -> tuple[str, str]:
        """(status, reason) for a fire, by the job's overlap policy, and take the slot or
        queue place it gets. Holds the mutex. ``elsewhere``: job id -> a run of it
        another engine is running."""
        status, reason = self._decide(run, elsewhere)
        if status == RunStatus.RUNNING:
            self.busy[row_id(run.job)] += 1
        elif status == RunStatus.SCHEDULED:
            self.queues[row_id(run.job)].append(run)
        return status, reason

    def _decide(self, run: ActiveRun, elsewhere: dict[int, int]) -> tuple[str, str]:
        job_id, job = row_id(run.job), run.job
        if not self.busy[job_id] and job_id not in elsewhere:
            return RunStatus.RUNNING, ""
        if run.force_queue or job.overlap == Overlap.QUEUE:
            if len(self.queues[job_id]) >= MAX_QUEUED and not run.force_queue:
                return RunStatus.SKIPPED, f"{MAX_QUEUED} runs already queued (overlap: queue)"
            return RunStatus.SCHEDULED, "queued behind the running run"
        if job.overlap == Overlap.ALLOW:
            return RunStatus.RUNNING, ""
        if job_id in elsewhere and not self.busy[job_id]:
            return RunStatus.SKIPPED, (f"run #{elsewhere[job_id]} was still running on "
                                       "another engine (overlap policy: skip)")
        active = [r for r in list(self._executor.active.values()) if r.job.id == job_id]
        held_up = self._held_up(run, active)
        if held_up:
            return RunStatus.MISSED, held_up
        which = f"run #{active[0].run_id}" if active else "the previous run"
        return RunStatus.SKIPPED, f"{which} was still running (overlap policy: skip)"

    def _held_up(self, run: ActiveRun, active: list[ActiveRun]) -> str | None:
        """Why a fire that finds its job busy could not start, when the busy-ness is the
        database's doing: no run of the job was really going at the fire's time (the one
        holding the slot started only once its record could be written, or has ended and
        waits for its end to be written), and the fire fell due while writes failed."""
        due = run.scheduled_for
        if due is None or not self._write_trouble:
            return None
        back = self._writes_back_at
        if not self._writer.trouble and (back is None or due >= back):
            return None  # writes were fine when it fell due: a plain overlap
        going = [r for r in active if r.launched and not r.closed and r.started_at is not None
                 and r.started_at <= due]
        if going:
            return None  # a run really was going then: the overlap policy decides
        return f"the database could not record the start: {self._write_trouble}"

    def too_late(self, run: ActiveRun) -> str | None:
        """Why a scheduled fire that could be recorded only long after it fell due, because
        writes failed, must not start now: its job's misfire policy says skip, as it would
        had the engine been down. Run late, it would push the next on-time fire out.
        Asked once the fire's record is written (the write is what took so long)."""
        due = run.scheduled_for
        if (due is None or run.trigger != Trigger.SCHEDULE or run.job.misfire != "skip"
                or not self._write_trouble):
            return None
        back = self._writes_back_at
        if not self._writer.trouble and (back is None or due >= back):
            return None  # writes were fine when it fell due
        late = (records.utcnow() - due).total_seconds()
        if late < LATE_AFTER_TROUBLE_S:
            return None
        return (f"could not start on time: the database could not record it for "
                f"{late:.0f}s ({self._write_trouble}; misfire policy: skip)")

    def undo(self, run: ActiveRun, status: str) -> None:
        """Give back what ``decide`` took (the fire was recorded by someone else)."""
        job_id = row_id(run.job)
        with self._state.mutex:
            if status == RunStatus.RUNNING:
                self.busy[job_id] -= 1
            elif status == RunStatus.SCHEDULED and run in self.queues[job_id]:
                self.queues[job_id].remove(run)

    def running_elsewhere(self, jobs: list[Job]) -> dict[int, int]:
        """On a shared database, which of ``jobs`` another engine is running now (job id
        -> run id), so the overlap policy holds across engines. Jobs that run on every
        engine keep it per engine."""
        ids = {job.id for job in jobs if job.overlap != Overlap.ALLOW and job.engines != "*"}
        if not self._state.shared or not ids:
            return {}
        query = (select(_run.c.job_id, _run.c.id)
                 .where(_run.c.status == RunStatus.RUNNING, _run.c.job_id.in_(ids),
                        _run.c.owner != self._executor.owner))
        with self._store.engine.connect() as conn:
            return {job_id: run_id for job_id, run_id in conn.execute(query)}

    def release(self, job_id: int) -> ActiveRun | None:
        """A run of ``job_id`` gave its slot back: the run queued next, now holding it."""
        with self._state.mutex:
            self.busy[job_id] -= 1
            return self._next_queued_locked(job_id)

    def take(self, job_id: int) -> None:
        """A run that was already recorded (a retry) holds the slot. Holds the mutex."""
        self.busy[job_id] += 1

    def free_behind_others(self) -> list[ActiveRun]:
        """Runs queued behind another engine's run that has ended, now holding their
        slot (a run queued behind one of ours starts when that one is released)."""
        state = self._state
        with state.mutex:
            waiting = [state.jobs[job_id] for job_id, queue in self.queues.items()
                       if queue and not self.busy[job_id] and job_id in state.jobs]
        if not waiting:
            return []
        elsewhere = self.running_elsewhere(waiting)
        starting = []
        for job_id in map(row_id, waiting):
            if job_id in elsewhere:
                continue
            with state.mutex:
                following = None if self.busy[job_id] else self._next_queued_locked(job_id)
            if following is not None:
                starting.append(following)
        return starting

    def _next_queued_locked(self, job_id: int) -> ActiveRun | None:
        """Take the run queued first behind ``job_id``'s overlap slot, counting it busy
        (None if none waits or the engine is stopping). Holds the mutex."""
        queue = self.queues.get(job_id)
        if not queue or not self._state.running:
            return None
        self.busy[job_id] += 1
        return queue.popleft()

    def drain(self) -> list[ActiveRun]:
        """Empty every queue (the engine is shutting down): the runs that waited."""
        with self._state.mutex:
            queued = [run for queue in self.queues.values() for run in queue]
            self.queues.clear()
        return queued
