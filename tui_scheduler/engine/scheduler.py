"""The engine: assembles the parts that schedule and run the jobs of one database, and
is the one object the console, the daemon and the CLI drive (``EngineSurface``).

A run's life, part by part (each file answers one question):

- ``catalog.py``: which jobs this engine schedules, and where APScheduler holds them;
- ``firing.py``: fires queued by APScheduler's thread, decided (``overlap.py``) and
  recorded in batches on the launcher thread;
- ``launching.py``: on which runner thread a run executes (``runs.py``: how);
- ``followups.py``: once a run is released, the run queued behind it, retries and
  stop-on-error;
- ``ticker.py``, ``membership.py``, ``requests.py``, ``wakeup.py``: upkeep, lock and
  cluster membership, and serving consoles' requests.

Thread model: APScheduler's thread calls ``_on_aps_fire``; the launcher thread records
fires in batches; python runs execute on a bounded pool of runner threads, command runs
on reused threads, one per running command; one ticker thread flushes output/progress,
heartbeats, watches python runs' stop and timeout and polls for changes; one writer
thread commits everything. Nothing here touches a widget. On PostgreSQL the membership
heartbeat has a thread of its own (see cluster.py), and a listener serves NOTIFYs.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from tui_scheduler.core.policies import RunStatus
from tui_scheduler.engine import records
from tui_scheduler.engine.apsched import FireExecutor
from tui_scheduler.engine.catalog import JobCatalog
from tui_scheduler.engine.cluster import ClusterMembership
from tui_scheduler.engine.events import EngineTrouble, EventBus
from tui_scheduler.engine.firing import Firing
from tui_scheduler.engine.followups import FollowUps
from tui_scheduler.engine.launching import GROW_AFTER_S, PYTHON_RUNNERS, Launcher
from tui_scheduler.engine.lock import EngineLock, EngineLockedError
from tui_scheduler.engine.membership import LockWatch
from tui_scheduler.engine.overlap import OverlapSlots
from tui_scheduler.engine.projection import PREFIX, Projection
from tui_scheduler.engine.recovery import recover, take_over
from tui_scheduler.engine.requests import serve_requests
from tui_scheduler.engine.retries import RetryBook
from tui_scheduler.engine.runs import ActiveRun, RunExecutor
from tui_scheduler.engine.sink import DEFAULT_CAP
from tui_scheduler.engine.state import EngineState
from tui_scheduler.engine.surface import EngineSurface
from tui_scheduler.engine.ticker import Ticker
from tui_scheduler.engine.wakeup import ControlWaker, serve_controls_on_notify
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Job
from tui_scheduler.store.writer import BatchWriter

log = logging.getLogger(__name__)
logging.getLogger("apscheduler").setLevel(logging.WARNING)

__all__ = ["Engine", "EngineLockedError"]


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
        self.lock: Any = EngineLock(store) if store.is_sqlite \
            else ClusterMembership(store, heartbeat_s)
        self.state = EngineState(name=name or self.executor.host,
                                 shared=getattr(self.lock, "shared", False))
        self.heartbeat_s = heartbeat_s
        self.tick_s = tick_s
        self.poll_s = poll_s
        self.started_at: datetime | None = None
        self._stop = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self.waker: ControlWaker | None = None
        """Serves consoles' requests the moment their NOTIFY comes (PostgreSQL only)."""
        self.retries = RetryBook(self.writer, self.bus, lambda job_id: self.jobs.get(job_id))
        """Retries waiting for their delay (held while their job is paused)."""
        self.catalog = JobCatalog(self.state, store, self.bus, on_moved=self.retries.sync)
        self.slots = OverlapSlots(self.state, store, self.writer, self.executor)
        self.launcher = Launcher(self.executor, lambda: self.firing.busy(),
                                 python_runners=python_runners, grow_after_s=grow_after_s)
        self.followups = FollowUps(self.state, store, self.writer, self.bus, self.slots,
                                   self.launcher, self.retries, reload=self.reload,
                                   wake=lambda: self.firing.wake.set())
        self.firing = Firing(self.state, self.slots, self.launcher, self.executor,
                             self.writer, self.bus, self.followups, self._stop)
        self.watch = LockWatch(self.state, self.lock, self.bus, self.executor,
                               pause=self._pause, take_over=lambda dead: take_over(self, dead))

    # ---- what the console reads ---------------------------------------------------------

    @property
    def name(self) -> str:
        """This engine's name, for jobs pinned to engines (default: the host name)."""
        return self.state.name

    @property
    def running(self) -> bool:
        return self.state.running

    @running.setter
    def running(self, value: bool) -> None:
        self.state.running = value

    @property
    def lost_lock(self) -> bool:
        return self.state.lost_lock

    @lost_lock.setter
    def lost_lock(self, value: bool) -> None:
        self.state.lost_lock = value

    @property
    def jobs(self) -> dict[int, Job]:
        """The engine's copy of every live job, by id (recovery reads it)."""
        return self.state.jobs

    # ---- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Take the database lock (or raise EngineLockedError), recover, start scheduling."""
        self.lock.acquire()
        if self.state.shared:
            # Fenced from here on, and beating on a thread of its own: a slow recovery
            # below must not get this engine declared dead (see cluster.py).
            self.writer.fence = self.lock.fence_op()
            self.lock.start_heartbeats(self.watch.lost)
        self.writer.start()
        self.started_at = records.utcnow()
        self.catalog.load()
        cutoff = records.utcnow()
        self._scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": FireExecutor(self._on_aps_fire)},
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None})
        self._scheduler.start(paused=True)
        self.catalog.projection = Projection(self._scheduler)
        self.retries.scheduler = self._scheduler
        self.running = True
        self.firing.start()
        recover(self, cutoff)
        self.catalog.project_all(after=cutoff)
        # What is alive now (modules, SQLAlchemy's metadata, jobs) lives as long as the
        # process: keep the collector from re-scanning it. Unfrozen, a burst of a thousand
        # runs spent ~150 ms of the interpreter lock in collections of ~120k old objects.
        gc.freeze()
        self._scheduler.resume()
        self._ticker = Ticker(self.state, self.executor, self.launcher, self.writer,
                              self.lock, self.watch, self._stop, poll=self.poll,
                              free_behind_others=self.slots.free_behind_others,
                              heartbeat_s=self.heartbeat_s, tick_s=self.tick_s,
                              poll_s=self.poll_s)
        self._ticker.start()
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
        self.firing.wait_drained(10)
        for run in self.slots.drain():
            if run.run_id is None:
                continue  # its batch is being recorded right now: no row to mark yet
            self.writer.submit(records.set_status(run.run_id, RunStatus.MISSED,
                                                  "engine shut down before the queued run started"))
        executor = self.executor
        drain_end = time.monotonic() + drain_s
        while executor.active and time.monotonic() < drain_end:
            time.sleep(0.1)
        if stop_runs:
            for run_id in list(executor.active):
                executor.stop(run_id, reason="stopped: engine shut down")
        deadline = time.monotonic() + timeout
        # Every run ends recorded (python runs ignoring the stop are abandoned by the
        # ticker's watchdog after their grace period).
        while executor.active and time.monotonic() < deadline:
            if self.writer.trouble and all(run.closed for run in list(executor.active.values())):
                break  # every run has ended; only its record waits on a failing disk
            time.sleep(0.01)
        self.launcher.close()
        self._stop.set()
        executor.tick()
        self.writer.close()
        if not self.lost_lock:
            try:
                self.lock.release()
            except Exception as exc:  # noqa: BLE001 - a stale lock is taken over later
                log.warning("could not release the engine lock: %s", str(exc).splitlines()[0])

    def _on_write_trouble(self, message: str | None) -> None:
        """The writer's trouble changed (its thread)."""
        self.slots.note_write_trouble(message)
        self.bus.emit(EngineTrouble(message))

    def _pause(self) -> None:
        if self._scheduler is not None:
            self._scheduler.pause()

    # ---- jobs ---------------------------------------------------------------------------

    def job(self, job_id: int) -> Job | None:
        return self.state.jobs.get(job_id)

    def runs_here(self, job: Job) -> bool:
        """Pinned jobs fire only on the engines they name (a lone engine runs all)."""
        return self.state.runs_here(job)

    def next_run_time(self, job_id: int) -> datetime | None:
        return self.catalog.next_run_time(job_id)

    def reload(self, job_ids: set[int] | None = None) -> None:
        """Re-read job rows (all, or some) and update the projection where they changed."""
        self.catalog.reload(job_ids)

    def poll(self) -> None:
        """Reload jobs edited elsewhere, then serve waiting console and CLI requests (the
        ticker every ``poll_s``; the NOTIFY waker at once)."""
        self.catalog.poll()
        serve_requests(self)

    # ---- fires and runs ---------------------------------------------------------------

    def _on_aps_fire(self, aps_id: str, fire_time: datetime) -> None:
        projection = self.catalog.projection
        if aps_id.startswith(PREFIX) and projection is not None:
            self.firing.fire_many(projection.fired(aps_id, fire_time), fire_time)
            return
        kind, _, ident = aps_id.partition(":")
        if kind == "run":
            self.followups.start_retry(int(ident))

    def fire(self, job_id: int, scheduled_for: datetime | None, trigger: str, *,
             params: dict[str, Any] | None = None, attempt: int = 1,
             force_queue: bool = False) -> ActiveRun | None:
        """Account for one fire: it will start a run, queue one, or be recorded skipped
        (decided and recorded on the launcher thread; ``run.recorded`` is set then)."""
        return self.firing.fire(job_id, scheduled_for, trigger, params=params,
                                attempt=attempt, force_queue=force_queue)

    def _after_run(self, run: ActiveRun) -> None:
        self.followups.after_run(run)

    def _hold_finish(self, run: ActiveRun) -> bool:
        return self.launcher.hold_finish(run)

    # ---- actions (any thread) ---------------------------------------------------------

    def run_now(self, job_id: int, params: dict[str, Any] | None = None) -> ActiveRun | None:
        """Start a manual run (or record it skipped, by the overlap policy).

        Decided on the calling thread rather than the launcher's: callers are consoles'
        worker threads and the control poller, which can wait for one commit.
        """
        return self.firing.run_now(job_id, params)

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
        ids = [run_id for run_id, r in list(self.executor.active.items()) if r.job.id == job_id]
        for run_id in ids:
            self.executor.stop(run_id, kill=kill)
        return ids

    def running_runs(self, job_id: int | None = None) -> list[ActiveRun]:
        return [r for r in list(self.executor.active.values())
                if job_id is None or r.job.id == job_id]
