"""Which jobs this engine schedules, and where APScheduler holds them.

The database is the source of truth: the engine keeps a copy of every live job row
(``EngineState.jobs``) and projects the ones that fire by the clock into APScheduler
(``projection.py``). An edit anywhere bumps the change counter; ``poll`` re-reads the
rows when it moved and ``reload`` re-projects the jobs whose schedule fields changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlmodel import col
from sqlmodel import select as select_rows

from tui_scheduler.core.schedule import ScheduleError, next_fire_after, parse_schedule, resolve_zone
from tui_scheduler.engine.events import EventBus, JobsChanged
from tui_scheduler.engine.projection import Projection
from tui_scheduler.engine.state import EngineState
from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import read_change_counter
from tui_scheduler.store.models import Job, row_id

log = logging.getLogger(__name__)
_PROJECTED = ("schedule", "timezone", "enabled", "paused", "deleted_at", "engines")
_EPSILON = datetime.resolution


class JobCatalog:
    """The engine's copy of the job table and its projection into APScheduler."""

    def __init__(self, state: EngineState, store: Store, bus: EventBus,
                 on_moved: Callable[[int], None]):
        self._state = state
        self._store = store
        self._bus = bus
        self._on_moved = on_moved
        """Called for each job re-projected (its waiting retries follow pause/resume)."""
        self.projection: Projection | None = None
        self._project_lock = threading.Lock()
        """Serialises changes to the projection (never taken by APScheduler's thread)."""
        self._change_counter = -1

    def load(self) -> None:
        """Read every live job (at start-up, before anything is projected)."""
        self._change_counter = read_change_counter(self._store)
        jobs = self._state.jobs
        jobs.clear()
        jobs.update((row_id(job), job) for job in self._read_all(None) if job.deleted_at is None)

    def project_all(self, after: datetime) -> None:
        for job in self._state.jobs.values():
            self.project(job, after=after)

    def project(self, job: Job, *, after: datetime) -> None:
        """Make APScheduler's copy of one job match its row."""
        if self.projection is None:
            return
        self.projection.remove(row_id(job))
        if not job.enabled or job.paused or job.deleted_at is not None:
            return
        if not self._state.runs_here(job):
            return
        try:
            schedule = parse_schedule(job.schedule)
            zone = resolve_zone(job.timezone or None)
        except ScheduleError as exc:
            log.error("job %s has an unusable schedule: %s", job.name, exc)
            return
        if schedule.kind not in ("cron", "interval", "once"):
            return
        anchor = job.created_at
        first = next_fire_after(schedule, after, zone, anchor=anchor)
        if first is None:
            return
        self.projection.place(row_id(job), schedule, zone, anchor, first)

    def next_run_time(self, job_id: int) -> datetime | None:
        if self.projection is None:
            return None
        return self.projection.next_run_time(job_id)

    def poll(self) -> None:
        """Reload the jobs if the change counter moved (an edit elsewhere)."""
        counter = read_change_counter(self._store)
        if counter != self._change_counter:
            self._change_counter = counter
            self.reload()

    def reload(self, job_ids: set[int] | None = None) -> None:
        """Re-read job rows (all, or some) and update the projection where they changed."""
        state = self._state
        jobs = state.jobs
        fresh = {row_id(job): job for job in self._read_all(job_ids)}
        changed: set[int] = set()
        moved: set[int] = set()
        with state.mutex:
            for job_id, job in fresh.items():
                old = jobs.get(job_id)
                if job.deleted_at is not None:
                    if old is not None:
                        jobs.pop(job_id, None)
                        moved.add(job_id)
                        changed.add(job_id)
                    continue
                jobs[job_id] = job
                if old is None or any(getattr(old, f) != getattr(job, f) for f in _PROJECTED):
                    moved.add(job_id)
                    changed.add(job_id)
                elif old.updated_at != job.updated_at:
                    changed.add(job_id)
            if job_ids is None:
                for job_id in set(jobs) - set(fresh):
                    jobs.pop(job_id)
                    moved.add(job_id)
                    changed.add(job_id)
        # Not under the mutex: APScheduler's thread holds its own lock while it takes the
        # mutex (to hand fires over), so calling into APScheduler under it could deadlock.
        # Each job is projected as it is now, so racing reloads end in the latest state.
        with self._project_lock:
            for job_id in sorted(moved):
                with state.mutex:
                    current = jobs.get(job_id)
                if current is None:
                    if self.projection is not None:
                        self.projection.remove(job_id)
                    continue
                mark = current.last_fire_at or current.created_at
                self.project(current, after=mark - _EPSILON)
                self._on_moved(job_id)
        if changed:
            self._bus.emit(JobsChanged(frozenset(changed)))

    def _read_all(self, job_ids: set[int] | None) -> list[Job]:
        with self._store.session() as session:
            query = select_rows(Job)
            if job_ids is not None:
                query = query.where(col(Job.id).in_(job_ids))
            return list(session.exec(query).all())
