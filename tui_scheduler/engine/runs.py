"""The life of one run: record it, execute it, stream its output and progress, finish it.

``RunExecutor`` is shared by the scheduling engine and by a foreground ``tui-scheduler run``
when no engine holds the database. Scheduling decisions (overlap, retries) live in the engine.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_scheduler.core.policies import JobKind, RunStatus
from tui_scheduler.core.progress import Progress
from tui_scheduler.engine import records
from tui_scheduler.engine.events import EventBus, RunFinished, RunOutput, RunProgress, RunStarted
from tui_scheduler.engine.process import CommandRunner, ProcessOutcome, StopRequest
from tui_scheduler.engine.pyjob import JobContext, call_python
from tui_scheduler.engine.sink import DEFAULT_CAP, OutputSink
from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import get_job_by_id
from tui_scheduler.store.models import Job
from tui_scheduler.store.runs import last_success_time
from tui_scheduler.store.writer import BatchWriter


@dataclass
class ActiveRun:
    """A run this process is executing (or about to)."""

    job: Job
    trigger: str
    scheduled_for: datetime | None
    attempt: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    row: str = "none"
    """What the database holds for it yet: "none", "scheduled" (queued, retry) or "running"."""
    stop: StopRequest = field(default_factory=StopRequest)
    sink: OutputSink | None = None
    started_at: datetime | None = None
    progress: Progress | None = None
    progress_dirty: bool = False
    pid: int | None = None
    pid_dirty: bool = False
    status: str | None = None
    context: Any = None
    emitted_lines: int = 0
    recorded: threading.Event = field(default_factory=threading.Event)
    """Set once the run has its row (and ``run_id``)."""
    finished: threading.Event = field(default_factory=threading.Event)
    force_queue: bool = False
    deadline: float | None = None
    """Monotonic time a python run times out at (the watchdog enforces it)."""
    stop_kind: str | None = None
    """'stopped' or 'timed_out' once the watchdog told a python run to stop."""
    abandon_at: float | None = None
    closed: bool = False
    """The result is recorded; a late return of an abandoned function changes nothing."""
    finish_lock: threading.Lock = field(default_factory=threading.Lock)


def param_env(params: dict[str, Any]) -> dict[str, str]:
    """Parameters as environment variables, never spliced into the shell command."""
    env = {"TUI_SCHEDULER_PARAMS_JSON": json.dumps(params, sort_keys=True)}
    for key, value in params.items():
        name = "PARAM_" + re.sub(r"[^A-Za-z0-9_]", "_", str(key)).upper()
        env[name] = value if isinstance(value, str) else json.dumps(value)
    return env


class RunExecutor:
    """Executes runs on the calling thread, recording every transition."""

    def __init__(self, store: Store, writer: BatchWriter, bus: EventBus, *,
                 output_cap: int = DEFAULT_CAP):
        self.store = store
        self.writer = writer
        self.bus = bus
        self.output_cap = output_cap
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}"
        self.active: dict[int, ActiveRun] = {}
        self._lock = threading.Lock()

    def execute(self, run: ActiveRun) -> ActiveRun:
        """Record the start, run the job to its end, record the result. Blocking."""
        if run.row == "running":
            pass  # the engine recorded the start together with its batch-mates
        elif run.row == "scheduled":
            run.started_at = records.utcnow()
            self.writer.call(records.mark_running(run.run_id, started_at=run.started_at,
                                                  host=self.host, owner=self.owner))
        else:
            run.started_at = records.utcnow()
            run.run_id = self.writer.call(records.insert_run(
                job_id=run.job.id, trigger=run.trigger, status=RunStatus.RUNNING,
                scheduled_for=run.scheduled_for, attempt=run.attempt, params=run.params,
                host=self.host, owner=self.owner, started_at=run.started_at,
                advance_fire_mark=run.trigger in ("schedule", "catch-up")))
        if run.sink is None:
            self.adopt(run)
        self.bus.emit(RunStarted(run.run_id, run.job.id, run.trigger, run.started_at))
        try:
            outcome = self._launch(run)
        except Exception as exc:  # noqa: BLE001 - a launch failure is the run's result
            outcome = ProcessOutcome(exit_code=None, signal_name=None, stopped=False,
                                     timed_out=False, last_stderr=f"could not start: {exc}")
        self._finish(run, outcome)
        return run

    def adopt(self, run: ActiveRun) -> None:
        """Count a recorded run as active (stoppable) before its thread even starts."""
        run.sink = OutputSink(self.writer, run.run_id, cap=self.output_cap)
        with self._lock:
            self.active[run.run_id] = run
        run.recorded.set()

    def _launch(self, run: ActiveRun) -> ProcessOutcome:
        job = run.job
        params = {**json.loads(job.params or "{}"), **run.params}
        sink = run.sink

        def on_progress(progress: Progress) -> None:
            run.progress = progress
            run.progress_dirty = True

        if job.kind == JobKind.PYTHON:
            def load_state() -> dict[str, Any]:
                # Read fresh: the engine's copy of the job predates the last run's save.
                stored = get_job_by_id(self.store, job.id)
                return json.loads((stored or job).state or "{}")

            ctx = JobContext(
                run_id=run.run_id, job_name=job.name, params=params, trigger=run.trigger,
                stopping=threading.Event(), _on_line=sink.append, _on_progress=on_progress,
                _load_last_success=lambda: last_success_time(self.store, job.id),
                _load_state=load_state)
            run.context = ctx
            if job.timeout_s:
                run.deadline = time.monotonic() + job.timeout_s
            outcome = call_python(job.target, ctx)
            outcome.stopped = run.stop_kind == "stopped"
            outcome.timed_out = run.stop_kind == "timed_out"
            return outcome
        env = {**os.environ, **json.loads(job.env or "{}"), **param_env(params),
               "PYTHONUNBUFFERED": "1", "TUI_SCHEDULER_RUN_ID": str(run.run_id),
               "TUI_SCHEDULER_JOB": job.name, "TUI_SCHEDULER_TRIGGER": run.trigger}

        def on_spawn(pid: int) -> None:
            run.pid = pid
            run.pid_dirty = True

        runner = CommandRunner(job.target, env=env, cwd=job.workdir or None,
                               on_lines=sink.extend, on_progress=on_progress,
                               on_spawn=on_spawn)
        return runner.run(timeout=job.timeout_s, grace=job.stop_grace_s, stop=run.stop)

    def _finish(self, run: ActiveRun, outcome: ProcessOutcome) -> None:
        with run.finish_lock:
            if run.closed:
                return
            run.closed = True
            self._record_finish(run, outcome)

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
                ctx.stopping.set()
                run.abandon_at = now + run.job.stop_grace_s
        if run.abandon_at is not None and (now >= run.abandon_at or run.stop.kill_now):
            self._finish(run, ProcessOutcome(
                exit_code=None, signal_name=None, stopped=run.stop_kind == "stopped",
                timed_out=run.stop_kind == "timed_out",
                last_stderr="did not honour the stop request"))

    def _record_finish(self, run: ActiveRun, outcome: ProcessOutcome) -> None:
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
        run.sink.flush()
        progress = run.progress
        final_progress = (progress.done, progress.total, progress.message or "") \
            if progress else None
        ctx = run.context
        job_state = (run.job.id, ctx.state) if ctx is not None and ctx.state_loaded else None
        self.writer.call(records.finish_run(
            run.run_id, status=status, exit_code=outcome.exit_code, error=error,
            progress=final_progress, output_bytes=run.sink.total_bytes, job_state=job_state))
        run.status = status
        with self._lock:
            self.active.pop(run.run_id, None)
        run.finished.set()
        self.bus.emit(RunFinished(run.run_id, run.job.id, status, outcome.exit_code, error))

    def stop(self, run_id: int, *, kill: bool = False, reason: str = "stopped by operator") -> bool:
        run = self.active.get(run_id)
        if run is None:
            return False
        run.stop.reason = reason
        run.stop.kill_now = run.stop.kill_now or kill
        run.stop.event.set()
        return True

    def tick(self, *, heartbeat: bool = False) -> None:
        """Push buffered output and the latest progress of every active run to the database."""
        with self._lock:
            runs = list(self.active.values())
        rows = []
        now = records.utcnow()
        clock = time.monotonic()
        for run in runs:
            if run.context is not None:
                self._watch_python(run, clock)
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
            if heartbeat:
                row["heartbeat_at"] = now
            if row:
                row["id"] = run.run_id
                rows.append(row)
        if rows:
            self.writer.submit(records.live_updates(rows))
