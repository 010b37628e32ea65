"""On which thread a run executes: python runs on a bounded pool of runner threads (runs
beyond it wait in a queue, in order), command runs on reused threads, one per running
command. Also when a run's end may be held back: during a burst (see ``hold_finish``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tui_scheduler.core.policies import JobKind
from tui_scheduler.engine.pool import RunnerPool
from tui_scheduler.engine.runs import ActiveRun, RunExecutor

log = logging.getLogger(__name__)
PYTHON_RUNNERS = 8
"""Threads running python jobs at once; more wait in a queue (on 2 cores, a few threads
finish a burst sooner than many: they share one interpreter lock)."""
GROW_AFTER_S = 1.0
"""A queued python run waiting this long gets a thread of its own (long or stuck jobs
must not starve the queue)."""


class Launcher:
    """Hands recorded runs to runner threads."""

    def __init__(self, executor: RunExecutor, recording: Callable[[], bool], *,
                 python_runners: int = PYTHON_RUNNERS, grow_after_s: float = GROW_AFTER_S):
        self._executor = executor
        self._recording = recording
        """Whether fires are being recorded (or wait to be): a burst is under way."""
        self.python_pool = RunnerPool(self._run, name="python-runner", limit=python_runners,
                                      grow_after_s=grow_after_s)
        """Runs python jobs: a thread per run costs more than the run itself."""
        self.command_pool = RunnerPool(self._run, name="command-runner", idle_s=10.0)
        """One thread per running command (each waits for its process), reused."""

    def spawn(self, run: ActiveRun) -> None:
        self.spawn_many([run])

    def spawn_many(self, runs: list[ActiveRun]) -> None:
        python = [run for run in runs if run.job.kind == JobKind.PYTHON]
        if python:
            self.python_pool.submit_many(python)
        if len(python) < len(runs):
            self.command_pool.submit_many([run for run in runs
                                           if run.job.kind != JobKind.PYTHON])

    def _run(self, run: ActiveRun) -> None:
        """On a runner thread: execute, and queue the end's record (not waiting for it)."""
        try:
            self._executor.execute(run, wait=False)
        except Exception:
            log.exception("run of %s crashed the executor", run.job.name)
            self._executor.abandon(run)
        if not self.bursting():
            self._executor.flush_finishes()

    def bursting(self) -> bool:
        """Fires are being recorded or python runs wait for a runner."""
        return bool(self._recording() or self.python_pool.queued)

    def hold_finish(self, run: ActiveRun) -> bool:
        """Hold python runs' ends during a burst: they are written together once every
        run of it has started (or at the next tick), not one small commit at a time
        competing for the interpreter lock with the runs still waiting to start."""
        return run.job.kind == JobKind.PYTHON and self.bursting()

    def maintain(self, now: float) -> None:
        self.python_pool.maintain(now)

    def close(self) -> None:
        self.python_pool.close()
        self.command_pool.close()
