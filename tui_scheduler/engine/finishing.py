"""How a run's end is recorded: its status and error from the outcome, its final output
and progress, and the row written behind the run's own output writes, batched with other
runs' ends (``batching.py``). Once committed the run is complete: it leaves the active
runs, its ``finished`` flag is set and ``RunFinished`` is emitted.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from tui_scheduler.core.policies import RunStatus
from tui_scheduler.engine import records
from tui_scheduler.engine.active import ActiveRun
from tui_scheduler.engine.batching import FinishBatcher, OrderedWriter
from tui_scheduler.engine.events import EventBus, RunFinished
from tui_scheduler.engine.process import ProcessOutcome
from tui_scheduler.store.models import row_id
from tui_scheduler.store.writer import Fenced

log = logging.getLogger(__name__)


class RunFinisher:
    """Records runs' ends; holds them back during a burst until ``flush``."""

    def __init__(self, ordered: OrderedWriter, bus: EventBus, active: dict[int, ActiveRun],
                 part_done: Callable[[ActiveRun], None]):
        self._finishes = FinishBatcher(ordered)
        self._held: deque[tuple[ActiveRun, ProcessOutcome]] = deque()
        self.bus = bus
        self.active = active
        """The executor's active runs (a completed run leaves them)."""
        self._part_done = part_done
        """The executor's release bookkeeping: the end is committed (or never will be)."""

    def hold(self, run: ActiveRun, outcome: ProcessOutcome) -> None:
        """A burst is still starting: record this end with the others at ``flush``."""
        self._held.append((run, outcome))

    def record(self, run: ActiveRun, outcome: ProcessOutcome, *, wait: bool,
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
        job_state = (row_id(run.job), ctx.state) if ctx is not None and ctx.state_loaded else None
        values = records.finish_values(
            status=status, exit_code=outcome.exit_code, error=error, progress=final_progress,
            output_bytes=sink.total_bytes if sink is not None else 0, started_at=run.started_at)
        # Behind this run's own output writes; batched with other runs' ends.
        future = self._finishes.add((run.recorded_id, values, job_state),
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
        self.active.pop(run.recorded_id, None)
        self._part_done(run)

    @staticmethod
    def _recorded(run: ActiveRun, settled: dict[int, str] | None, finished: tuple) -> tuple:
        """The end as the database has it: another engine's decision, where one took this
        run over while this engine was frozen, stands (the one here was not written)."""
        status = (settled or {}).get(run.recorded_id)
        if status is None:
            return finished
        log.warning("run %s (%s) ended %s here, but another engine had already recorded "
                    "it %s: that stands", run.run_id, run.job.name, finished[0], status)
        return status, None, "settled by another engine"

    def _complete(self, run: ActiveRun, status: str, exit_code: int | None, error: str) -> None:
        run.status = status
        self.active.pop(run.recorded_id, None)
        self._part_done(run)
        run.finished.set()
        self.bus.emit(RunFinished(run.recorded_id, row_id(run.job), status, exit_code, error))

    def flush(self) -> None:
        """Record the ends held back during a burst, in one write."""
        held = self._held
        while held:
            try:
                run, outcome = held.popleft()
            except IndexError:
                break
            self.record(run, outcome, wait=False, hold=True)
        self._finishes.flush()
