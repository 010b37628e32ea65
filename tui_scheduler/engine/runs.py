"""The life of one run: record its start, execute it, stream its output and progress,
finish it.

``RunExecutor`` is shared by the scheduling engine and by a foreground ``tui-scheduler run``
when no engine holds the database. Scheduling decisions (overlap, retries) live in the engine.
How the code is called is ``job_call.py``; how the end is recorded, ``finishing.py``.

A run is released (``on_release``: the engine frees its overlap slot, starts what queued
behind it, schedules a retry) once two things have happened: its end is committed, and
its code has returned (or will never run). A python function abandoned for ignoring a
stop request is recorded at once but keeps its job busy until it really returns.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from tui_scheduler.core.policies import RunStatus
from tui_scheduler.engine import records
from tui_scheduler.engine.active import ActiveRun, Flag
from tui_scheduler.engine.batching import OrderedWriter
from tui_scheduler.engine.events import EventBus, RunOutput, RunProgress, RunStarted
from tui_scheduler.engine.finishing import RunFinisher
from tui_scheduler.engine.job_call import call_job, param_env
from tui_scheduler.engine.process import ProcessOutcome
from tui_scheduler.engine.sink import DEFAULT_CAP, OutputSink
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import row_id
from tui_scheduler.store.writer import BatchWriter

__all__ = ["ActiveRun", "Flag", "RunExecutor", "param_env"]



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
        self.bus = bus
        self.output_cap = output_cap
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}"
        self.active: dict[int, ActiveRun] = {}
        self._finisher = RunFinisher(self._ordered, bus, self.active, self._part_done)

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
            self.writer.call(records.mark_running(run.recorded_id, started_at=run.started_at,
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
        self.bus.emit(RunStarted(run.recorded_id, row_id(run.job), run.trigger,
                                 run.started_at))
        try:
            outcome = call_job(run, self.store, self._sink)
        except Exception as exc:  # noqa: BLE001 - a launch failure is the run's result
            outcome = ProcessOutcome(exit_code=None, signal_name=None, stopped=False,
                                     timed_out=False, last_stderr=f"could not start: {exc}")
        self._close(run, outcome, returned=True, wait=wait)
        return run

    def adopt(self, run: ActiveRun) -> None:
        """Count a recorded run as active (stoppable) before its thread even starts."""
        run.adopted = True
        self.active[run.recorded_id] = run  # one dict operation: atomic, no lock to contend
        run.recorded.set()

    def _sink(self, run: ActiveRun) -> OutputSink:
        sink = run.sink
        if sink is None:
            with run.finish_lock:
                sink = run.sink
                if sink is None:
                    run.writes = self._ordered.for_run()
                    sink = run.sink = OutputSink(run.writes, run.recorded_id,
                                                     cap=self.output_cap)
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
        self._finisher.record(run, ProcessOutcome(
            exit_code=None, signal_name=None, stopped=True, timed_out=False,
            last_stderr="before it started"), wait=False)
        return True

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
            self._finisher.hold(run, outcome)
            return
        self._finisher.record(run, outcome, wait=wait)

    def abandon(self, run: ActiveRun) -> None:
        """After an unexpected error: forget the run and release it (once)."""
        if run.run_id is not None:  # None: the error was recording its start
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

    def flush_finishes(self) -> None:
        """Record the ends held back during a burst, in one write."""
        self._finisher.flush()

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
                self.bus.emit(RunOutput(run.recorded_id, row_id(run.job), run.emitted_lines))
            row: dict[str, Any] = {}
            if run.progress_dirty and run.progress is not None:
                run.progress_dirty = False
                progress = run.progress
                row.update(progress_done=progress.done, progress_total=progress.total,
                           progress_message=(progress.message or "")[:500])
                self.bus.emit(RunProgress(run.recorded_id, row_id(run.job), progress.done,
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
