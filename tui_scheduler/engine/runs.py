"""The life of one run: record it, execute it, stream its output and progress, finish it.

``RunExecutor`` is shared by the scheduling engine and by a foreground ``tui-scheduler run``
when no engine holds the database. Scheduling decisions (overlap, retries) live in the engine.

A run is released (``on_release``: the engine frees its overlap slot, starts what queued
behind it, schedules a retry) once two things have happened: its end is committed, and
its code has returned (or will never run). A python function abandoned for ignoring a
stop request is recorded at once but keeps its job busy until it really returns.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_scheduler.core.policies import JobKind, RunStatus
from tui_scheduler.core.progress import Progress
from tui_scheduler.engine import records
from tui_scheduler.engine.batching import FinishBatcher, OrderedWriter, RunWrites
from tui_scheduler.engine.events import EventBus, RunFinished, RunOutput, RunProgress, RunStarted
from tui_scheduler.engine.process import CommandRunner, ProcessOutcome, StopRequest
from tui_scheduler.engine.pyjob import JobContext, call_python
from tui_scheduler.engine.sink import DEFAULT_CAP, OutputSink
from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import get_job_by_id
from tui_scheduler.store.models import Job
from tui_scheduler.store.runs import last_success_time
from tui_scheduler.store.writer import BatchWriter, Fenced

log = logging.getLogger(__name__)


class Flag:
    """``threading.Event``'s set / is_set / wait for flags set once, at a fraction of its
    cost to create (an Event builds a Condition; a burst creates three per fire)."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._set = False
        self._lock = threading.Lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        self._release()

    def wait(self, timeout: float | None = None) -> bool:
        if self._set:
            return True
        if timeout is None:
            got = self._lock.acquire()
        else:
            got = self._lock.acquire(timeout=max(0.0, timeout))
        if got:
            self._release()  # pass it on to the next waiter
        return self._set

    def _release(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:
            pass  # already released: set twice, or a waiter passing it on


def _stop_request() -> StopRequest:
    return StopRequest(event=Flag())  # CommandRunner only sets, and asks is_set()


@dataclass(slots=True)
class ActiveRun:
    """A run this process is executing (or about to). (Slots: a burst makes thousands.)"""

    job: Job
    trigger: str
    scheduled_for: datetime | None
    attempt: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    row: str = "none"
    """What the database holds for it yet: "none", "scheduled" (queued, retry) or "running"."""
    stop: StopRequest = field(default_factory=_stop_request)
    sink: OutputSink | None = None
    """Created with its first output line (most short runs print nothing)."""
    adopted: bool = False
    started_at: datetime | None = None
    progress: Progress | None = None
    progress_dirty: bool = False
    pid: int | None = None
    pid_dirty: bool = False
    status: str | None = None
    context: Any = None
    emitted_lines: int = 0
    recorded: Flag = field(default_factory=Flag)
    """Set once the run has its row (and ``run_id``)."""
    finished: Flag = field(default_factory=Flag)
    force_queue: bool = False
    deadline: float | None = None
    """Monotonic time a python run times out at (the watchdog enforces it)."""
    stop_kind: str | None = None
    """'stopped' or 'timed_out' once the watchdog told a python run to stop."""
    abandon_at: float | None = None
    closed: bool = False
    """The result is recorded; a late return of an abandoned function changes nothing."""
    finish_lock: threading.Lock = field(default_factory=threading.Lock)
    launched: bool = False
    """Its code has begun (or is about to): a stop no longer settles it on the spot."""
    start_dirty: bool = False
    """``started_at`` is the real start, newer than the provisional one in its row."""
    parts_left: int = 2
    """Release once both its end is committed and its code returned (see module doc)."""
    writes: RunWrites | None = None


def _job_params(job: Job) -> dict[str, Any]:
    text = job.params
    return {} if not text or text == "{}" else json.loads(text)


def param_env(params: dict[str, Any]) -> dict[str, str]:
    """Parameters as environment variables, never spliced into the shell command."""
    env = {"TUI_SCHEDULER_PARAMS_JSON": json.dumps(params, sort_keys=True)}
    for key, value in params.items():
        name = "PARAM_" + re.sub(r"[^A-Za-z0-9_]", "_", str(key)).upper()
        env[name] = value if isinstance(value, str) else json.dumps(value)
    return env


class RunExecutor:
    """Executes runs on the calling thread, recording every transition (ends are written
    in batches, see ``batching.py``)."""

    def __init__(self, store: Store, writer: BatchWriter, bus: EventBus, *,
                 output_cap: int = DEFAULT_CAP,
                 on_release: Callable[[ActiveRun], None] | None = None,
                 hold_finish: Callable[[ActiveRun], bool] | None = None):
        self.store = store
        self.writer = writer
        self.on_release = on_release
        """Called once a run's end is committed and its code returned (any thread)."""
        self.hold_finish = hold_finish
        """Whether to hold a run's end back for a later ``flush_finishes`` (a burst is
        still waiting to start: see ``FinishBatcher``)."""
        self._ordered = OrderedWriter(writer)
        self._finishes = FinishBatcher(self._ordered)
        self._held: deque[tuple[ActiveRun, ProcessOutcome]] = deque()
        self.bus = bus
        self.output_cap = output_cap
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}"
        self.active: dict[int, ActiveRun] = {}

    def execute(self, run: ActiveRun, *, wait: bool = True) -> ActiveRun:
        """Record the start, run the job to its end, record the result. Blocking; with
        ``wait`` (the default) until the result is committed, else until it is queued
        (the engine then learns of the commit through ``on_release``)."""
        if run.row == "running":
            # The engine recorded the row with its batch-mates, with a provisional start;
            # the real one is now (a python run may have waited for a free runner).
            if not self._begin(run):
                return run
            run.started_at = records.utcnow()
            run.start_dirty = True
        elif run.row == "scheduled":
            if not self._begin(run):
                return run
            run.started_at = records.utcnow()
            self.writer.call(records.mark_running(run.run_id, started_at=run.started_at,
                                                  host=self.host, owner=self.owner))
        else:
            run.launched = True
            run.started_at = records.utcnow()
            run.run_id = self.writer.call(records.insert_run(
                job_id=run.job.id, trigger=run.trigger, status=RunStatus.RUNNING,
                scheduled_for=run.scheduled_for, attempt=run.attempt, params=run.params,
                host=self.host, owner=self.owner, started_at=run.started_at,
                advance_fire_mark=run.trigger in ("schedule", "catch-up")))
        if not run.adopted:
            self.adopt(run)
        self.bus.emit(RunStarted(run.run_id, run.job.id, run.trigger, run.started_at))
        try:
            outcome = self._launch(run)
        except Exception as exc:  # noqa: BLE001 - a launch failure is the run's result
            outcome = ProcessOutcome(exit_code=None, signal_name=None, stopped=False,
                                     timed_out=False, last_stderr=f"could not start: {exc}")
        self._close(run, outcome, returned=True, wait=wait)
        return run

    def adopt(self, run: ActiveRun) -> None:
        """Count a recorded run as active (stoppable) before its thread even starts."""
        run.adopted = True
        self.active[run.run_id] = run  # one dict operation: atomic, no lock to contend
        run.recorded.set()

    def _sink(self, run: ActiveRun) -> OutputSink:
        sink = run.sink
        if sink is None:
            with run.finish_lock:
                sink = run.sink
                if sink is None:
                    run.writes = self._ordered.for_run()
                    sink = run.sink = OutputSink(run.writes, run.run_id, cap=self.output_cap)
        return sink

    def _begin(self, run: ActiveRun) -> bool:
        """Claim the start of a recorded run; False if it was stopped before it began."""
        if run.stop.event.is_set():
            self._finish_unstarted(run)
        with run.finish_lock:
            if run.closed:
                return False
            run.launched = True
        return True

    def _finish_unstarted(self, run: ActiveRun) -> bool:
        """Record a run stopped while it waited for a thread; its code never runs."""
        with run.finish_lock:
            if run.closed or run.launched:
                return False
            run.closed = True
        self._part_done(run)
        self._record_finish(run, ProcessOutcome(
            exit_code=None, signal_name=None, stopped=True, timed_out=False,
            last_stderr="before it started"), wait=False)
        return True

    def _launch(self, run: ActiveRun) -> ProcessOutcome:
        job = run.job
        params = _job_params(job)
        if run.params:
            params = {**params, **run.params}

        def on_line(stream: str, line: str) -> None:
            self._sink(run).append(stream, line)

        def on_lines(stream: str, lines: list[str]) -> None:
            self._sink(run).extend(stream, lines)

        def on_progress(progress: Progress) -> None:
            run.progress = progress.following(run.progress)
            run.progress_dirty = True

        if job.kind == JobKind.PYTHON:
            def load_state() -> dict[str, Any]:
                # Read fresh: the engine's copy of the job predates the last run's save.
                stored = get_job_by_id(self.store, job.id)
                return json.loads((stored or job).state or "{}")

            ctx = JobContext(
                run_id=run.run_id, job_name=job.name, params=params, trigger=run.trigger,
                _on_line=on_line, _on_progress=on_progress,
                _load_last_success=lambda: last_success_time(self.store, job.id),
                _load_state=load_state)
            run.context = ctx
            if job.timeout_s:
                run.deadline = time.monotonic() + job.timeout_s
            outcome = call_python(job.target, ctx)
            outcome.stopped = run.stop_kind == "stopped"
            outcome.timed_out = run.stop_kind == "timed_out"
            return outcome
        job_env = json.loads(job.env or "{}")
        env = {**os.environ, **job_env, **param_env(params),
               "PYTHONUNBUFFERED": "1", "TUI_SCHEDULER_RUN_ID": str(run.run_id),
               "TUI_SCHEDULER_JOB": job.name, "TUI_SCHEDULER_TRIGGER": run.trigger}

        def on_spawn(pid: int) -> None:
            run.pid = pid
            run.pid_dirty = True

        runner = CommandRunner(job.target, env=env, cwd=job.workdir or None,
                               on_lines=on_lines, on_progress=on_progress,
                               on_spawn=on_spawn,
                               # As cron does: the job's own SHELL (a crontab's SHELL=
                               # line), never the engine's login shell from os.environ.
                               shell=job_env.get("SHELL") or "/bin/sh")
        return runner.run(timeout=job.timeout_s, grace=job.stop_grace_s, stop=run.stop)

    def _close(self, run: ActiveRun, outcome: ProcessOutcome, *, returned: bool,
               wait: bool) -> None:
        """The run is over (``returned``: its code is done; else abandoned): record the
        result once, whoever gets here first."""
        with run.finish_lock:
            first = not run.closed
            run.closed = True
        if returned:
            self._part_done(run)
        if not first:
            return
        if not wait and self.hold_finish is not None and self.hold_finish(run):
            # A burst is still starting: record this end with the others afterwards.
            self._held.append((run, outcome))
            return
        self._record_finish(run, outcome, wait=wait)

    def abandon(self, run: ActiveRun) -> None:
        """After an unexpected error: forget the run and release it (once)."""
        self.active.pop(run.run_id, None)
        with run.finish_lock:
            release = run.parts_left > 0
            run.parts_left = 0
        if release and self.on_release is not None:
            self.on_release(run)

    def _part_done(self, run: ActiveRun) -> None:
        with run.finish_lock:  # the run's own lock: never contended by other runs
            run.parts_left -= 1
            release = run.parts_left == 0
        if release and self.on_release is not None:
            self.on_release(run)

    def _watch_python(self, run: ActiveRun, now: float) -> None:
        """Stop and timeout for python runs: ask via ctx.stopping, abandon after grace."""
        ctx = run.context
        if ctx is None or run.closed:
            return
        if run.stop_kind is None:
            if run.stop.event.is_set():
                run.stop_kind = "stopped"
            elif run.deadline is not None and now >= run.deadline:
                run.stop_kind = "timed_out"
            if run.stop_kind:
                ctx._ask_to_stop()
                run.abandon_at = now + run.job.stop_grace_s
        if run.abandon_at is not None and (now >= run.abandon_at or run.stop.kill_now):
            self._close(run, ProcessOutcome(
                exit_code=None, signal_name=None, stopped=run.stop_kind == "stopped",
                timed_out=run.stop_kind == "timed_out",
                last_stderr="did not honour the stop request"), returned=False, wait=False)

    def _record_finish(self, run: ActiveRun, outcome: ProcessOutcome, *, wait: bool,
                       hold: bool = False) -> None:
        if outcome.stopped:
            status, error = RunStatus.STOPPED, run.stop.reason
        elif outcome.timed_out:
            status, error = RunStatus.TIMED_OUT, f"timed out after {run.job.timeout_s:g}s"
        elif outcome.exit_code == 0:
            status, error = RunStatus.SUCCEEDED, ""
        else:
            status = RunStatus.FAILED
            if outcome.signal_name:
                error = f"killed by {outcome.signal_name}"
            elif outcome.exit_code is None:
                error = outcome.last_stderr or "failed"
            else:
                error = f"exit code {outcome.exit_code}"
            if outcome.last_stderr and outcome.exit_code is not None:
                error += f": {outcome.last_stderr}"
        if outcome.last_stderr and status in (RunStatus.STOPPED, RunStatus.TIMED_OUT) \
                and outcome.exit_code is None:
            error += f" ({outcome.last_stderr})"
        sink = run.sink
        if sink is not None:
            sink.flush()
        progress = run.progress
        final_progress = (progress.done, progress.total, progress.message or "") \
            if progress else None
        ctx = run.context
        job_state = (run.job.id, ctx.state) if ctx is not None and ctx.state_loaded else None
        values = records.finish_values(
            status=status, exit_code=outcome.exit_code, error=error, progress=final_progress,
            output_bytes=sink.total_bytes if sink is not None else 0, started_at=run.started_at)
        # Behind this run's own output writes; batched with other runs' ends.
        future = self._finishes.add((run.run_id, values, job_state),
                                    after=run.writes.last if run.writes else 0, hold=hold)
        finished = (status, outcome.exit_code, error)
        if wait:
            self._complete(run, *self._recorded(run, future.result(), finished))
        else:
            future.add_done_callback(lambda done: self._committed(done, run, finished))

    def _committed(self, future: Future, run: ActiveRun, finished: tuple) -> None:
        """On the writer thread, once the end is committed (or could not be)."""
        error = future.exception()
        if error is None:
            self._complete(run, *self._recorded(run, future.result(), finished))
            return
        if isinstance(error, Fenced):
            log.warning("run %s (%s) ended %s here, not recorded: %s", run.run_id,
                        run.job.name, finished[0], error)
        else:
            log.error("could not record the end of run %s: %s", run.run_id, error)
        self.active.pop(run.run_id, None)
        self._part_done(run)

    @staticmethod
    def _recorded(run: ActiveRun, settled: dict[int, str] | None, finished: tuple) -> tuple:
        """The end as the database has it: another engine's decision, where one took this
        run over while this engine was frozen, stands (the one here was not written)."""
        status = (settled or {}).get(run.run_id)
        if status is None:
            return finished
        log.warning("run %s (%s) ended %s here, but another engine had already recorded "
                    "it %s: that stands", run.run_id, run.job.name, finished[0], status)
        return status, None, "settled by another engine"

    def _complete(self, run: ActiveRun, status: str, exit_code: int | None, error: str) -> None:
        run.status = status
        self.active.pop(run.run_id, None)
        self._part_done(run)
        run.finished.set()
        self.bus.emit(RunFinished(run.run_id, run.job.id, status, exit_code, error))

    def flush_finishes(self) -> None:
        """Record the ends held back during a burst, in one write."""
        held = self._held
        while held:
            try:
                run, outcome = held.popleft()
            except IndexError:
                break
            self._record_finish(run, outcome, wait=False, hold=True)
        self._finishes.flush()

    def stop(self, run_id: int, *, kill: bool = False, reason: str = "stopped by operator") -> bool:
        run = self.active.get(run_id)
        if run is None:
            return False
        run.stop.reason = reason
        run.stop.kill_now = run.stop.kill_now or kill
        run.stop.event.set()
        if not run.launched:
            self._finish_unstarted(run)  # still waiting for a thread: settled now
        return True

    def tick(self, *, heartbeat: bool = False) -> None:
        """Push buffered output and the latest progress of every active run to the database."""
        self.flush_finishes()  # nothing is held back longer than a tick
        runs = list(self.active.values())
        rows = []
        now = records.utcnow()
        clock = time.monotonic()
        for run in runs:
            if run.context is not None:
                self._watch_python(run, clock)
            elif not run.launched and run.stop.event.is_set():
                self._finish_unstarted(run)
            if run.closed:
                continue  # its end (output, progress, real start) is being recorded
            if run.sink is not None and run.sink.lines != run.emitted_lines:
                run.emitted_lines = run.sink.lines
                run.sink.flush()
                self.bus.emit(RunOutput(run.run_id, run.job.id, run.emitted_lines))
            row: dict[str, Any] = {}
            if run.progress_dirty and run.progress is not None:
                run.progress_dirty = False
                progress = run.progress
                row.update(progress_done=progress.done, progress_total=progress.total,
                           progress_message=(progress.message or "")[:500])
                self.bus.emit(RunProgress(run.run_id, run.job.id, progress.done,
                                          progress.total, progress.message or ""))
            if run.pid_dirty:
                run.pid_dirty = False
                row["pid"] = run.pid
            if run.start_dirty:
                run.start_dirty = False
                row["started_at"] = run.started_at
            if heartbeat:
                row["heartbeat_at"] = now
            if row:
                row["id"] = run.run_id
                rows.append(row)
        if rows:
            self.writer.submit(records.live_updates(rows))
