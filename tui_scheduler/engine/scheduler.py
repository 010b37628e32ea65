"""The engine: owns the database lock, projects jobs into APScheduler, applies overlap,
retry and stop-on-error policies, and serves requests from consoles and the CLI.

Thread model: APScheduler's thread calls ``_on_aps_fire``; the launcher thread records
fires in batches; python runs execute on a bounded pool of runner threads (runs beyond it
wait in a queue, in order), command runs on reused threads, one per running command; one
ticker thread flushes output/progress, heartbeats, watches python runs' stop and timeout
and polls for changes; one writer thread commits everything. Nothing here touches a widget.
On PostgreSQL the membership heartbeat has a thread of its own (see cluster.py).
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlmodel import col
from sqlmodel import select as select_rows

from tui_scheduler.core.policies import (
    MAX_QUEUED,
    JobKind,
    Overlap,
    RunStatus,
    Trigger,
    retry_delay,
)
from tui_scheduler.core.schedule import ScheduleError, next_fire_after, parse_schedule, resolve_zone
from tui_scheduler.engine import records
from tui_scheduler.engine.apsched import FireExecutor
from tui_scheduler.engine.events import EngineTrouble, EventBus, FireAccounted, JobsChanged
from tui_scheduler.engine.lock import EngineLock, EngineLockedError
from tui_scheduler.engine.pool import RunnerPool
from tui_scheduler.engine.projection import PREFIX, Projection
from tui_scheduler.engine.requests import serve_requests
from tui_scheduler.engine.retries import RetryBook
from tui_scheduler.engine.runs import ActiveRun, RunExecutor
from tui_scheduler.engine.sink import DEFAULT_CAP
from tui_scheduler.engine.surface import EngineSurface
from tui_scheduler.engine.wakeup import ControlWaker, serve_controls_on_notify
from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import read_change_counter
from tui_scheduler.store.models import Job, Run
from tui_scheduler.store.writer import BatchWriter, Fenced

log = logging.getLogger(__name__)
logging.getLogger("apscheduler").setLevel(logging.WARNING)

__all__ = ["Engine", "EngineLockedError"]
_PROJECTED = ("schedule", "timezone", "enabled", "paused", "deleted_at", "engines")
_run = Run.__table__
PYTHON_RUNNERS = 8
"""Threads running python jobs at once; more wait in a queue (on 2 cores, a few threads
finish a burst sooner than many: they share one interpreter lock)."""
GROW_AFTER_S = 1.0
"""A queued python run waiting this long gets a thread of its own (long or stuck jobs
must not starve the queue)."""


class Engine(EngineSurface):
    """Schedules and runs the jobs of one database."""

    def __init__(self, store: Store, *, output_cap: int = DEFAULT_CAP,
                 heartbeat_s: float = 5.0, tick_s: float = 0.25, poll_s: float = 0.5,
                 name: str | None = None, python_runners: int = PYTHON_RUNNERS,
                 grow_after_s: float = GROW_AFTER_S):
        self.store = store
        self.bus = EventBus()
        self.writer = BatchWriter(store, on_trouble=self._on_write_trouble)
        self.executor = RunExecutor(store, self.writer, self.bus, output_cap=output_cap,
                                    on_release=self._after_run, hold_finish=self._hold_finish)
        self._python_pool = RunnerPool(self._run, name="python-runner", limit=python_runners,
                                       grow_after_s=grow_after_s)
        """Runs python jobs: a thread per run costs more than the run itself."""
        self._command_pool = RunnerPool(self._run, name="command-runner", idle_s=10.0)
        """One thread per running command (each waits for its process), reused."""
        if store.is_sqlite:
            self.lock = EngineLock(store)
        else:
            from tui_scheduler.engine.cluster import ClusterMembership

            self.lock = ClusterMembership(store, heartbeat_s)
        self.heartbeat_s = heartbeat_s
        self.name = name or self.executor.host
        """This engine's name, for jobs pinned to engines (default: the host name)."""
        self.tick_s = tick_s
        self.poll_s = poll_s
        self.started_at: datetime | None = None
        self.running = False
        self.lost_lock = False
        self._jobs: dict[int, Job] = {}
        self._busy: dict[int, int] = defaultdict(int)
        self._queues: dict[int, deque[ActiveRun]] = defaultdict(deque)
        self._followups: deque[ActiveRun] = deque()
        """Failed runs whose retry or stop-on-error the launcher handles (off the writer
        thread, where runs are released)."""
        self._mutex = threading.RLock()
        self._project_lock = threading.Lock()
        """Serialises changes to the projection (never taken by APScheduler's thread)."""
        self._pending: deque[ActiveRun] = deque()
        self._pending_event = threading.Event()
        self._recording = False
        """The launcher is recording a batch of fires."""
        self._stop = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._projection: Projection | None = None
        self._change_counter = -1
        self.waker: ControlWaker | None = None
        """Serves consoles' requests the moment their NOTIFY comes (PostgreSQL only)."""
        self._write_trouble = ""
        """Why writes failed last (kept after they recover), for the fires it held up."""
        self._writes_back_at: datetime | None = None
        """When writes last recovered: fires due before it may have been held up."""
        self.retries = RetryBook(self.writer, self.bus, lambda job_id: self._jobs.get(job_id))
        """Retries waiting for their delay (held while their job is paused)."""

    # ---- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Take the database lock (or raise EngineLockedError), recover, start scheduling."""
        from tui_scheduler.engine.recovery import recover

        self.lock.acquire()
        if self._shared:
            # Fenced from here on, and beating on a thread of its own: a slow recovery
            # below must not get this engine declared dead (see cluster.py).
            self.writer.fence = self.lock.fence_op()
            self.lock.start_heartbeats(self._membership_lost)
        self.writer.start()
        self.started_at = records.utcnow()
        self._change_counter = read_change_counter(self.store)
        self._jobs = {job.id: job for job in self._read_jobs()}
        cutoff = records.utcnow()
        self._scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": FireExecutor(self._on_aps_fire)},
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None})
        self._scheduler.start(paused=True)
        self._projection = Projection(self._scheduler)
        self.retries.scheduler = self._scheduler
        self.running = True
        self._launcher = threading.Thread(target=self._launch_loop, name="engine-launcher",
                                          daemon=True)
        self._launcher.start()
        recover(self, cutoff)
        for job in self._jobs.values():
            self._project(job, after=cutoff)
        # What is alive now (modules, SQLAlchemy's metadata, jobs) lives as long as the
        # process: keep the collector from re-scanning it. Unfrozen, a burst of a thousand
        # runs spent ~150 ms of the interpreter lock in collections of ~120k old objects.
        gc.freeze()
        self._scheduler.resume()
        ticker = threading.Thread(target=self._tick_loop, name="engine-ticker", daemon=True)
        ticker.start()
        self._ticker = ticker
        self.waker = serve_controls_on_notify(self)

    def shutdown(self, *, stop_runs: bool = True, drain_s: float = 0.0,
                 timeout: float = 60.0) -> None:
        """Stop scheduling, give running jobs ``drain_s`` seconds to finish, stop the rest
        (recorded as stopped), and release the lock."""
        if not self.running:
            return
        self.running = False
        if self.waker is not None:
            self.waker.stop()
        if self._scheduler is not None:
            try:
                self._scheduler.shutdown(wait=False)
            except Exception:
                log.debug("scheduler shutdown raced", exc_info=True)
        drain_deadline = time.monotonic() + 10
        while self._pending and time.monotonic() < drain_deadline:
            time.sleep(0.01)  # the launcher records fires that were already due
        with self._mutex:
            queued = [run for queue in self._queues.values() for run in queue]
            self._queues.clear()
        for run in queued:
            self.writer.submit(records.set_status(run.run_id, RunStatus.MISSED,
                                                  "engine shut down before the queued run started"))
        drain_end = time.monotonic() + drain_s
        while self.executor.active and time.monotonic() < drain_end:
            time.sleep(0.1)
        if stop_runs:
            for run_id in list(self.executor.active):
                self.executor.stop(run_id, reason="stopped: engine shut down")
        deadline = time.monotonic() + timeout
        # Every run ends recorded (python runs ignoring the stop are abandoned by the
        # ticker's watchdog after their grace period).
        while self.executor.active and time.monotonic() < deadline:
            if self.writer.trouble and all(run.closed for run in
                                           list(self.executor.active.values())):
                break  # every run has ended; only its record waits on a failing disk
            time.sleep(0.01)
        self._python_pool.close()
        self._command_pool.close()
        self._stop.set()
        self.executor.tick()
        self.writer.close()
        if not self.lost_lock:
            try:
                self.lock.release()
            except Exception as exc:  # noqa: BLE001 - a stale lock is taken over later
                log.warning("could not release the engine lock: %s", str(exc).splitlines()[0])

    def _on_write_trouble(self, message: str | None) -> None:
        """The writer's trouble changed (its thread): remember it for ``_held_up``."""
        if message:
            self._write_trouble = message
        else:
            self._writes_back_at = records.utcnow()
        self.bus.emit(EngineTrouble(message))

    # ---- projection -------------------------------------------------------------------

    def _read_jobs(self) -> list[Job]:
        return [job for job in self._read_all_jobs(None) if job.deleted_at is None]

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def _project(self, job: Job, *, after: datetime) -> None:
        """Make APScheduler's copy of one job match its row."""
        if self._projection is None:
            return
        self._projection.remove(job.id)
        if not job.enabled or job.paused or job.deleted_at is not None:
            return
        if not self.runs_here(job):
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
        self._projection.place(job.id, schedule, zone, anchor, first)

    def runs_here(self, job: Job) -> bool:
        """Pinned jobs fire only on the engines they name (a lone engine runs all)."""
        if not self._shared or job.engines in ("", "*"):
            return True
        return self.name in job.engines.split(",")

    def next_run_time(self, job_id: int) -> datetime | None:
        if self._projection is None:
            return None
        return self._projection.next_run_time(job_id)

    def reload(self, job_ids: set[int] | None = None) -> None:
        """Re-read job rows (all, or some) and update the projection where they changed."""
        fresh = {job.id: job for job in self._read_all_jobs(job_ids)}
        changed: set[int] = set()
        moved: set[int] = set()
        with self._mutex:
            for job_id, job in fresh.items():
                old = self._jobs.get(job_id)
                if job.deleted_at is not None:
                    if old is not None:
                        self._jobs.pop(job_id, None)
                        moved.add(job_id)
                        changed.add(job_id)
                    continue
                self._jobs[job_id] = job
                if old is None or any(getattr(old, f) != getattr(job, f) for f in _PROJECTED):
                    moved.add(job_id)
                    changed.add(job_id)
                elif old.updated_at != job.updated_at:
                    changed.add(job_id)
            if job_ids is None:
                for job_id in set(self._jobs) - set(fresh):
                    self._jobs.pop(job_id)
                    moved.add(job_id)
                    changed.add(job_id)
        # Not under the mutex: APScheduler's thread holds its own lock while it takes the
        # mutex (to hand fires over), so calling into APScheduler under it could deadlock.
        # Each job is projected as it is now, so racing reloads end in the latest state.
        with self._project_lock:
            for job_id in sorted(moved):
                with self._mutex:
                    job = self._jobs.get(job_id)
                if job is None:
                    if self._projection is not None:
                        self._projection.remove(job_id)
                    continue
                mark = job.last_fire_at or job.created_at
                self._project(job, after=mark - _EPSILON)
                self.retries.sync(job_id)  # pause holds waiting retries, resume frees them
        if changed:
            self.bus.emit(JobsChanged(frozenset(changed)))

    def _read_all_jobs(self, job_ids: set[int] | None) -> list[Job]:
        with self.store.session() as session:
            query = select_rows(Job)
            if job_ids is not None:
                query = query.where(col(Job.id).in_(job_ids))
            return list(session.exec(query).all())

    # ---- fires and runs ---------------------------------------------------------------

    def _on_aps_fire(self, aps_id: str, fire_time: datetime) -> None:
        if aps_id.startswith(PREFIX) and self._projection is not None:
            self._fire_many(self._projection.fired(aps_id, fire_time), fire_time)
            return
        kind, _, ident = aps_id.partition(":")
        if kind == "run":
            self._start_row(int(ident))

    def _fire_many(self, job_ids: list[int], fire_time: datetime) -> None:
        """``fire`` for every job of a group, with one hand-over to the launcher."""
        with self._mutex:
            if not self.running:
                return
            for job_id in job_ids:
                job = self._jobs.get(job_id)
                if job is not None:
                    self._pending.append(ActiveRun(job=job, trigger=Trigger.SCHEDULE,
                                                   scheduled_for=fire_time))
        self._pending_event.set()

    def fire(self, job_id: int, scheduled_for: datetime | None, trigger: str, *,
             params: dict[str, Any] | None = None, attempt: int = 1,
             force_queue: bool = False) -> ActiveRun | None:
        """Account for one fire: it will start a run, queue one, or be recorded skipped.

        Cheap on purpose (it runs on APScheduler's thread in a burst): the launcher thread
        decides and records fires in batches. ``run.recorded`` is set once decided.
        """
        with self._mutex:
            job = self._jobs.get(job_id)
            if job is None or not self.running:
                return None
            run = ActiveRun(job=job, trigger=trigger, scheduled_for=scheduled_for,
                            attempt=attempt, params=params or {}, force_queue=force_queue)
            self._pending.append(run)
        self._pending_event.set()
        return run

    def _launch_loop(self) -> None:
        while not self._stop.is_set():
            self._pending_event.wait(0.5)
            self._pending_event.clear()
            with self._mutex:
                batch = list(self._pending)
                self._pending.clear()
                followups = list(self._followups)
                self._followups.clear()
            for run in followups:
                if not self.running or self.lost_lock:
                    break
                try:
                    self._follow_up(run)
                except Exception:
                    log.exception("could not retry or disable %s", run.job.name)
            if batch and self.lost_lock:
                self._drop(batch)  # fenced: these fires are other engines' now
                batch = []
            if batch:
                self._recording = True
                try:
                    self._launch_batch(batch)
                except Fenced:
                    self._drop(batch)  # the heartbeat thread tells the rest
                except Exception:
                    log.exception("could not record %d fires; retrying", len(batch))
                    with self._mutex:
                        self._pending.extendleft(reversed(batch))
                    self._stop.wait(1.0)
                    self._pending_event.set()
                finally:
                    self._recording = False
                if not self._bursting():
                    self.executor.flush_finishes()

    def _drop(self, batch: list[ActiveRun]) -> None:
        for run in batch:
            run.status = RunStatus.SKIPPED
            run.recorded.set()
            run.finished.set()

    def _decide(self, run: ActiveRun, elsewhere: dict[int, int]) -> tuple[str, str]:
        """(status, reason) for a fire, by the job's overlap policy. Holds the mutex.
        ``elsewhere``: job id -> a run of it another engine is running."""
        job_id, job = run.job.id, run.job
        if not self._busy[job_id] and job_id not in elsewhere:
            return RunStatus.RUNNING, ""
        if run.force_queue or job.overlap == Overlap.QUEUE:
            if len(self._queues[job_id]) >= MAX_QUEUED and not run.force_queue:
                return RunStatus.SKIPPED, f"{MAX_QUEUED} runs already queued (overlap: queue)"
            return RunStatus.SCHEDULED, "queued behind the running run"
        if job.overlap == Overlap.ALLOW:
            return RunStatus.RUNNING, ""
        if job_id in elsewhere and not self._busy[job_id]:
            return RunStatus.SKIPPED, (f"run #{elsewhere[job_id]} was still running on "
                                       "another engine (overlap policy: skip)")
        active = [r for r in list(self.executor.active.values()) if r.job.id == job_id]
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
        if not self.writer.trouble and (back is None or due >= back):
            return None  # writes were fine when it fell due: a plain overlap
        going = [r for r in active if r.launched and not r.closed and r.started_at is not None
                 and r.started_at <= due]
        if going:
            return None  # a run really was going then: the overlap policy decides
        return f"the database could not record the start: {self._write_trouble}"

    def _running_elsewhere(self, jobs: list[Job]) -> dict[int, int]:
        """On a shared database, which of ``jobs`` another engine is running now (job id
        -> run id), so the overlap policy holds across engines. Jobs that run on every
        engine keep it per engine."""
        ids = {job.id for job in jobs if job.overlap != Overlap.ALLOW and job.engines != "*"}
        if not self._shared or not ids:
            return {}
        query = (select(_run.c.job_id, _run.c.id)
                 .where(_run.c.status == RunStatus.RUNNING, _run.c.job_id.in_(ids),
                        _run.c.owner != self.executor.owner))
        with self.store.engine.connect() as conn:
            return {job_id: run_id for job_id, run_id in conn.execute(query)}

    def _start_queued_behind_others(self) -> None:
        """Start a run queued behind another engine's run once that run has ended (a run
        queued behind one of ours starts from ``_after_run``)."""
        with self._mutex:
            waiting = [self._jobs[job_id] for job_id, queue in self._queues.items()
                       if queue and not self._busy[job_id] and job_id in self._jobs]
        if not waiting:
            return
        elsewhere = self._running_elsewhere(waiting)
        for job in waiting:
            if job.id in elsewhere:
                continue
            with self._mutex:
                following = None if self._busy[job.id] else self._next_queued_locked(job.id)
            if following is not None:
                self._spawn(following)

    def _next_queued_locked(self, job_id: int) -> ActiveRun | None:
        """Take the run queued first behind ``job_id``'s overlap slot, counting it busy
        (None if none waits or the engine is stopping). Holds the mutex."""
        queue = self._queues.get(job_id)
        if not queue or not self.running:
            return None
        self._busy[job_id] += 1
        return queue.popleft()

    def _launch_batch(self, batch: list[ActiveRun]) -> None:
        now = records.utcnow()
        decisions: list[tuple[ActiveRun, str, str]] = []
        elsewhere = self._running_elsewhere([run.job for run in batch])
        with self._mutex:
            for run in batch:
                status, reason = self._decide(run, elsewhere)
                if status == RunStatus.RUNNING:
                    self._busy[run.job.id] += 1
                elif status == RunStatus.SCHEDULED:
                    self._queues[run.job.id].append(run)
                decisions.append((run, status, reason))
        host, owner, shared = self.executor.host, self.executor.owner, self._shared
        rows = [records.run_row(
            job_id=run.job.id, trigger=run.trigger, status=status,
            scheduled_for=run.scheduled_for, attempt=run.attempt, params=run.params,
            host=host if status == RunStatus.RUNNING else "",
            owner=owner if status == RunStatus.RUNNING else "",
            started_at=now if status == RunStatus.RUNNING else None,
            finished_at=now if status in _SETTLED else None, error=reason,
            created_at=now, shard=self.name if shared and run.job.engines == "*" else "")
            for run, status, reason in decisions]
        ids = self.writer.call(records.insert_runs(rows))
        starting: list[ActiveRun] = []
        for (run, status, reason), run_id in zip(decisions, ids, strict=True):
            run.run_id = run_id
            if run_id is None:
                # Already recorded (on a shared database: claimed by another engine).
                (log.debug if self._shared else log.warning)(
                    "fire of %s at %s was already recorded", run.job.name, run.scheduled_for)
                self._undo_decision(run, status)
                run.status = RunStatus.SKIPPED
                run.recorded.set()
                run.finished.set()
            elif status == RunStatus.RUNNING:
                run.row, run.started_at = "running", now
                self.executor.adopt(run)
                starting.append(run)
            elif status == RunStatus.SCHEDULED:
                run.row, run.status = "scheduled", RunStatus.SCHEDULED
                run.recorded.set()
                self.bus.emit(FireAccounted(run_id, run.job.id, status, reason))
            else:
                run.status = status
                run.recorded.set()
                run.finished.set()
                self.bus.emit(FireAccounted(run_id, run.job.id, status, reason))
        if starting:
            self._spawn_many(starting)

    def _undo_decision(self, run: ActiveRun, status: str) -> None:
        with self._mutex:
            if status == RunStatus.RUNNING:
                self._busy[run.job.id] -= 1
            elif status == RunStatus.SCHEDULED and run in self._queues[run.job.id]:
                self._queues[run.job.id].remove(run)

    def _spawn(self, run: ActiveRun) -> None:
        self._spawn_many([run])

    def _spawn_many(self, runs: list[ActiveRun]) -> None:
        python = [run for run in runs if run.job.kind == JobKind.PYTHON]
        if python:
            self._python_pool.submit_many(python)
        if len(python) < len(runs):
            self._command_pool.submit_many([run for run in runs
                                            if run.job.kind != JobKind.PYTHON])

    def _run(self, run: ActiveRun) -> None:
        """On a runner thread: execute, and queue the end's record (not waiting for it)."""
        try:
            self.executor.execute(run, wait=False)
        except Exception:
            log.exception("run of %s crashed the executor", run.job.name)
            self.executor.abandon(run)
        if not self._bursting():
            self.executor.flush_finishes()

    def _bursting(self) -> bool:
        """Fires are being recorded or python runs wait for a runner."""
        return bool(self._recording or self._pending or self._python_pool.queued)

    def _hold_finish(self, run: ActiveRun) -> bool:
        """Hold python runs' ends during a burst: they are written together once every
        run of it has started (or at the next tick), not one small commit at a time
        competing for the interpreter lock with the runs still waiting to start."""
        return run.job.kind == JobKind.PYTHON and self._bursting()

    def _after_run(self, run: ActiveRun) -> None:
        """A run is released (its end committed, its code returned): free its overlap
        slot, start what queued behind it, and hand retries to the launcher. Runs on the
        writer thread or a runner thread, so it never waits for the database itself."""
        job_id = run.job.id
        with self._mutex:
            self._busy[job_id] -= 1
            following = self._next_queued_locked(job_id)
        if following is not None:
            self._spawn(following)
        if not self.running:
            return
        if run.status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            job = self._jobs.get(job_id, run.job)
            if run.attempt <= job.retries or job.stop_on_error:
                with self._mutex:
                    self._followups.append(run)
                self._pending_event.set()

    def _follow_up(self, run: ActiveRun) -> None:
        """On the launcher thread: retry a failed run, or disable its job."""
        job_id = run.job.id
        job = self._jobs.get(job_id, run.job)
        if run.attempt <= job.retries:
            self._schedule_retry(job, run)
        elif job.stop_on_error:
            self.writer.call(records.disable_job(job_id))
            self.reload({job_id})

    def _schedule_retry(self, job: Job, run: ActiveRun) -> None:
        delay = retry_delay(run.attempt, job.retry_delay_s, job.retry_backoff,
                            job.retry_max_delay_s)
        due = records.utcnow() + _seconds(delay)
        run_id = self.writer.call(records.insert_run(
            job_id=job.id, trigger=Trigger.RETRY, status=RunStatus.SCHEDULED,
            scheduled_for=due, attempt=run.attempt + 1, params=run.params))
        self.retries.arm(run_id, job.id, due)
        self.bus.emit(FireAccounted(run_id, job.id, RunStatus.SCHEDULED,
                                    f"retry {run.attempt + 1} in {delay:g}s"))

    def _start_row(self, run_id: int) -> None:
        """A waiting retry fell due: start it, unless it was cancelled or is held."""
        if self.retries.take(run_id) is None:
            return
        with self.store.session() as session:
            row = session.get(Run, run_id)
        if row is None or row.status != RunStatus.SCHEDULED:
            return
        with self._mutex:
            job = self._jobs.get(row.job_id)
            if job is None or not self.running:
                self.writer.submit(records.set_status(run_id, RunStatus.MISSED,
                                                      "job was deleted or disabled"))
                return
            run = ActiveRun(job=job, trigger=row.trigger, scheduled_for=row.scheduled_for,
                            attempt=row.attempt, params=json.loads(row.params or "{}"),
                            run_id=run_id, row="scheduled")
            self._busy[job.id] += 1
        self._spawn(run)

    # ---- actions (any thread) ---------------------------------------------------------

    def run_now(self, job_id: int, params: dict[str, Any] | None = None) -> ActiveRun | None:
        """Start a manual run (or record it skipped, by the overlap policy).

        Decided on the calling thread rather than the launcher's: callers are consoles'
        worker threads and the control poller, which can wait for one commit.
        """
        with self._mutex:
            job = self._jobs.get(job_id)
            if job is None or not self.running:
                return None
            run = ActiveRun(job=job, trigger=Trigger.MANUAL, scheduled_for=None,
                            params=params or {})
        self._launch_batch([run])
        return run

    def stop_run(self, run_id: int, *, kill: bool = False) -> bool:
        """Stop a running run, or cancel a retry still waiting to start."""
        return self.stop_or_cancel(run_id, kill=kill) is not None

    def stop_or_cancel(self, run_id: int, *, kill: bool = False) -> str | None:
        """``stop_run`` that says what it did: "stopping", "retry cancelled" or None."""
        if self.executor.stop(run_id, kill=kill):
            return "stopping"
        if self.retries.cancel(run_id):
            return "retry cancelled"
        return None

    def stop_job(self, job_id: int, *, kill: bool = False) -> list[int]:
        ids = [r.run_id for r in list(self.executor.active.values()) if r.job.id == job_id]
        for run_id in ids:
            self.executor.stop(run_id, kill=kill)
        return ids

    def running_runs(self, job_id: int | None = None) -> list[ActiveRun]:
        return [r for r in list(self.executor.active.values())
                if job_id is None or r.job.id == job_id]

    # ---- ticker: output, heartbeats, change polling -------------------------------------

    def _tick_loop(self) -> None:
        # Two beats per period: an engine is declared dead after 1.5 periods of silence.
        beat_every = self.heartbeat_s / 2
        next_beat = time.monotonic() + beat_every
        next_poll = time.monotonic() + self.poll_s
        while not self._stop.wait(self.tick_s):
            now = time.monotonic()
            beat = now >= next_beat
            try:
                self.executor.tick(heartbeat=beat)
                self._python_pool.maintain(now)
                if beat:
                    next_beat = now + beat_every
                    if not self._shared:  # members beat on their own thread
                        self.writer.submit(self.lock.heartbeat_op()).add_done_callback(
                            self._check_lock)
                if self.running and self._shared and not self.lost_lock:
                    self._take_over_dead()
                if now >= next_poll and self.running and not self.lost_lock:
                    next_poll = now + self.poll_s
                    self._poll()
                    if self._shared:
                        self._start_queued_behind_others()
            except Exception:
                log.exception("engine tick failed")

    @property
    def _shared(self) -> bool:
        return getattr(self.lock, "shared", False)

    def _take_over_dead(self) -> None:
        """Checked every tick, so a dead engine's runs move within 1.5 heartbeat periods
        plus a tick."""
        from tui_scheduler.engine.recovery import take_over

        for dead in self.lock.claim_dead():
            take_over(self, dead)

    def _check_lock(self, future) -> None:
        if future.exception() is None and future.result() is False and self.running:
            # Someone took the database over believing us dead: stop scheduling at once
            # rather than risk running a fire twice.
            self.lost_lock = True
            log.error("engine lock lost to another engine; scheduling stopped")
            if self._scheduler is not None:
                self._scheduler.pause()
            self.bus.emit(EngineTrouble("another engine took over this database; "
                                        "this one no longer schedules jobs"))

    def _membership_lost(self) -> None:
        """On the heartbeat thread: other engines declared this one dead (it was frozen or
        cut off past the deadline) and have settled and re-run its runs. Its writes are
        fenced off already; stop scheduling, stop its runs (their results could not be
        recorded, and their fires run elsewhere), and tell the owner to leave."""
        if self.lost_lock:
            return
        self.lost_lock = True
        log.error("another engine declared this engine dead (no heartbeat for %gs) and took "
                  "over its runs; stopping its %d running jobs and leaving the cluster",
                  self.lock.stale_after.total_seconds(), len(self.executor.active))
        if self._scheduler is not None:
            try:
                self._scheduler.pause()
            except Exception:  # not started yet, or shutting down
                log.debug("could not pause the scheduler", exc_info=True)
        for run_id in list(self.executor.active):
            self.executor.stop(run_id, reason="stopped: this engine was declared dead")
        self.bus.emit(EngineTrouble("other engines declared this engine dead and took "
                                    "over its runs; it no longer schedules jobs"))

    def _poll(self) -> None:
        """Reload jobs edited elsewhere, then serve waiting console and CLI requests."""
        counter = read_change_counter(self.store)
        if counter != self._change_counter:
            self._change_counter = counter
            self.reload()
        serve_requests(self)


_EPSILON = datetime.resolution
_SETTLED = (RunStatus.SKIPPED, RunStatus.MISSED)
"""Fires decided not to run: recorded as ended at once."""


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
