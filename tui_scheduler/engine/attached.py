"""A stand-in for the engine when another process (a daemon) holds the database.

The console talks to it exactly as to its own engine. Actions travel as control requests
that the holding engine serves; what happens there comes back as the same events, made
by watching the run table a few times a second. On PostgreSQL it also LISTENs for the
engines' NOTIFYs and looks at once when one comes, so changes show within milliseconds;
the poll stays, slower, as the fallback (and is all there is on SQLite). Quitting it
leaves the daemon and all its jobs running.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select

from tui_scheduler.core.progress import Progress
from tui_scheduler.core.schedule import ScheduleError, next_fire_after, parse_schedule, resolve_zone
from tui_scheduler.engine.events import (
    EngineTrouble,
    EventBus,
    FireAccounted,
    JobsChanged,
    RunFinished,
    RunOutput,
    RunProgress,
    RunStarted,
)
from tui_scheduler.engine.lock import LockHolder, holder_alive
from tui_scheduler.engine.surface import EngineSurface
from tui_scheduler.store import notify
from tui_scheduler.store.control import ControlTimeout, send_control
from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import get_job_by_id, read_change_counter
from tui_scheduler.store.models import Job, OutputChunk, Run, row_id

log = logging.getLogger(__name__)
_runs = Run.__table__
_chunks = OutputChunk.__table__
_jobs = Job.__table__
_MIN_GAP_S = 0.05
"""Least time between two woken reads: a busy engine's flood of NOTIFYs costs each
console at most 20 reads a second (a lone change is still read at once)."""
# What to read again for each NOTIFY (payloads name the tables written).
_RUN_KINDS = frozenset({_runs.name, notify.ANY})
_OUTPUT_KINDS = frozenset({_chunks.name, notify.ANY})
_JOB_KINDS = frozenset({_jobs.name, notify.META, notify.ANY})
_FINISHED = ("succeeded", "failed", "timed_out", "stopped", "interrupted")


@dataclass
class RemoteRun:
    """What the console needs of a run going on in the other process."""

    job: Job
    run_id: int
    started_at: datetime | None = None
    progress: Progress | None = None
    status: str | None = None
    lines: int = 0
    """Output lines stored so far (PostgreSQL, where output changes are announced)."""
    recorded: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    """Set when the watcher sees the run's end in the database."""


class _Trouble:
    trouble: str | None = None


class _Holder:
    def __init__(self, holder: LockHolder):
        self.host, self.pid = holder.host, holder.pid


class AttachedEngine(EngineSurface):
    """Same surface as ``Engine`` for the console, backed by another process's engine."""

    attached = True

    def __init__(self, store: Store, holder: LockHolder, *, poll_s: float = 0.25,
                 listen: bool | None = None, listening_poll_s: float = 1.0):
        self.store = store
        self.holder = holder
        self.lock = _Holder(holder)
        self.bus = EventBus()
        self.writer = _Trouble()
        self.started_at = holder.started_at
        self.running = False
        self.lost_lock = False
        self.poll_s = poll_s
        """Seconds between reads of the database when no notifications are heard."""
        self.listening_poll_s = max(poll_s, listening_poll_s)
        """Seconds between fallback reads while LISTENing (notifications wake it sooner)."""
        self.listen = notify.supported(store) if listen is None else \
            listen and notify.supported(store)
        """LISTEN for the engines' NOTIFYs (PostgreSQL; on by default there)."""
        self.listener: notify.Listener | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._kinds: set[str] = set()
        self._kinds_lock = threading.Lock()
        self._live: dict[int, RemoteRun] = {}
        self._last_id = 0
        self._counter = -1
        self._stamps: dict[int, Any] = {}
        """Each job's ``updated_at`` when the change counter last moved (to say which
        jobs an edit elsewhere changed)."""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self.store.engine.connect() as conn:
            self._last_id = conn.execute(select(_runs.c.id).order_by(_runs.c.id.desc())
                                         .limit(1)).scalar() or 0
        self._counter = read_change_counter(self.store)
        self._stamps = self._job_stamps()
        self._poll(emit=False)
        self.running = True
        self._thread = threading.Thread(target=self._loop, name="attached-poll", daemon=True)
        self._thread.start()
        if self.listen:
            self.listener = notify.Listener(self.store, self._on_notify,
                                            name="attached-listen").start()

    def shutdown(self, **_ignored: Any) -> None:
        """Detach: the other engine and its jobs carry on."""
        self.running = False
        self._stop.set()
        self._wake.set()
        if self.listener is not None:
            self.listener.stop()
        if self._thread is not None:
            self._thread.join(2)

    # ---- actions ----------------------------------------------------------------------

    def run_now(self, job_id: int, params: dict[str, Any] | None = None) -> RemoteRun | None:
        job = get_job_by_id(self.store, job_id)
        if job is None or not self.running:
            return None
        try:
            answer = send_control(self.store, "run", job_id=job_id,
                                  payload={"params": params or {}})
        except ControlTimeout as exc:
            self._trouble(str(exc))
            return None
        word, _, ident = answer.partition(" ")
        if word not in ("run", "skipped", "queued"):
            return None
        run = RemoteRun(job=job, run_id=int(ident),
                        status={"skipped": "skipped", "queued": "scheduled"}.get(word))
        run.recorded.set()
        return run

    def stop_run(self, run_id: int, *, kill: bool = False) -> bool:
        try:
            return send_control(self.store, "stop", run_id=run_id,
                                payload={"kill": kill}) == "stopping"
        except ControlTimeout as exc:
            self._trouble(str(exc))
            return False

    def stop_job(self, job_id: int, *, kill: bool = False) -> list[int]:
        ids = [run.run_id for run in self.running_runs(job_id)]
        for run_id in ids:
            self.stop_run(run_id, kill=kill)
        return ids

    def running_runs(self, job_id: int | None = None) -> list[RemoteRun]:
        return [run for run in list(self._live.values())
                if job_id is None or run.job.id == job_id]

    def reload(self, job_ids: set[int] | None = None) -> None:
        """The holding engine reloads by itself: every edit bumps the change counter (and
        NOTIFYs it on PostgreSQL). This console made the edit, so it looks at the counter
        now rather than at its next periodic check (seconds away on SQLite): the row must
        not contradict the toast, or the operator presses the key again."""
        with self._kinds_lock:
            self._kinds |= {_jobs.name}
        self._wake.set()

    def next_run_time(self, job_id: int) -> datetime | None:
        job = get_job_by_id(self.store, job_id)
        if job is None or not job.enabled or job.paused or job.deleted_at is not None:
            return None
        try:
            schedule = parse_schedule(job.schedule)
            zone = resolve_zone(job.timezone or None)
        except ScheduleError:
            return None
        return next_fire_after(schedule, datetime.now(UTC), zone, anchor=job.created_at)

    # ---- watching -----------------------------------------------------------------------

    def _trouble(self, message: str | None) -> None:
        if message != self.writer.trouble:
            self.writer.trouble = message
            self.bus.emit(EngineTrouble(message))

    def _on_notify(self, kinds: frozenset[str]) -> None:
        """Called on the listener's thread: note what changed and wake the watcher."""
        with self._kinds_lock:
            self._kinds |= kinds
        self._wake.set()

    def _period(self) -> float:
        listener = self.listener
        heard = listener is not None and listener.connected.is_set()
        return self.listening_poll_s if heard else self.poll_s

    def _loop(self) -> None:
        check_every = 8 * self.poll_s
        next_check = time.monotonic() + check_every
        while not self._stop.is_set():
            self._wake.wait(self._period())
            if self._stop.is_set():
                break
            self._wake.clear()
            with self._kinds_lock:
                kinds, self._kinds = frozenset(self._kinds), set()
            woken = bool(kinds)
            try:
                if not woken or kinds & _RUN_KINDS:
                    self._poll(emit=True)
                if self.listen and kinds & _OUTPUT_KINDS:
                    self._poll_output()
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + check_every
                    self._check_holder()
                elif kinds & _JOB_KINDS:
                    self._check_counter()
            except Exception:  # a bad poll must not end the watching
                log.exception("attached console poll failed")
            if woken:
                self._stop.wait(_MIN_GAP_S)

    def _check_holder(self) -> None:
        from tui_scheduler.engine.lock import read_holder

        if self.store.is_sqlite:
            current = read_holder(self.store)
            gone = current is None or current.token != self.holder.token or \
                not holder_alive(current, datetime.now(UTC))
        else:
            from tui_scheduler.engine.cluster import live_node

            # On a shared database any live engine serves the console's requests.
            gone = live_node(self.store) is None
        if gone:
            self._trouble(f"the engine on {self.holder.host} (pid {self.holder.pid}) is gone; "
                          "restart the console to run its own")
            self.running = False
        self._check_counter()

    def _check_counter(self) -> None:
        """Tell the console which jobs were edited elsewhere (another console, the CLI)."""
        counter = read_change_counter(self.store)
        if counter == self._counter:
            return
        self._counter = counter
        stamps = self._job_stamps()
        changed = {job_id for job_id, stamp in stamps.items()
                   if self._stamps.get(job_id) != stamp} | (self._stamps.keys() - stamps.keys())
        self._stamps = stamps
        if changed:
            self.bus.emit(JobsChanged(frozenset(changed)))

    def _job_stamps(self) -> dict[int, Any]:
        with self.store.engine.connect() as conn:
            return dict(conn.execute(select(_jobs.c.id, _jobs.c.updated_at)).all())

    def _poll(self, *, emit: bool) -> None:
        watched = list(self._live)
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(_runs).where(or_(
                _runs.c.status == "running", _runs.c.id > self._last_id,
                _runs.c.id.in_(watched)))).mappings().all()
        jobs: dict[int, Job | None] = {}
        for row in rows:
            self._last_id = max(self._last_id, row["id"])
            run_id, job_id, status = row["id"], row["job_id"], row["status"]
            known = self._live.get(run_id)
            if status == "running":
                progress = None if row["progress_done"] is None else Progress(
                    row["progress_done"], row["progress_total"], row["progress_message"])
                if known is None:
                    job = jobs.setdefault(job_id, get_job_by_id(self.store, job_id))
                    if job is None:
                        continue
                    known = RemoteRun(job=job, run_id=run_id, started_at=row["started_at"],
                                      progress=progress, status="running")
                    known.recorded.set()
                    self._live[run_id] = known
                    if emit:
                        self.bus.emit(RunStarted(run_id, job_id, row["trigger"],
                                                 row["started_at"]))
                elif progress is not None and progress != known.progress:
                    known.progress = progress
                    if emit:
                        self.bus.emit(RunProgress(run_id, job_id, progress.done,
                                                  progress.total, progress.message or ""))
            elif status in _FINISHED:
                gone = self._live.pop(run_id, None)
                if gone is not None:
                    gone.status = status
                    gone.finished.set()
                if emit:
                    self.bus.emit(RunFinished(run_id, job_id, status, row["exit_code"],
                                              row["error"]))
            elif status in ("skipped", "missed", "scheduled") and emit and known is None:
                self.bus.emit(FireAccounted(run_id, job_id, status, row["error"]))

    def _poll_output(self) -> None:
        """Tell of new output of the runs going on (the run log reads it at once)."""
        live = list(self._live.values())
        if not live:
            return
        with self.store.engine.connect() as conn:
            counts = dict(conn.execute(
                select(_chunks.c.run_id, func.coalesce(func.sum(_chunks.c.lines), 0))
                .where(_chunks.c.run_id.in_([run.run_id for run in live]))
                .group_by(_chunks.c.run_id)).all())
        for run in live:
            lines = int(counts.get(run.run_id, 0))
            if lines != run.lines:
                run.lines = lines
                self.bus.emit(RunOutput(run.run_id, row_id(run.job), lines))
