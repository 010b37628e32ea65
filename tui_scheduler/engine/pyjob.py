"""Running a ``python`` job: import ``package.module:function`` and call it with a context.

The function runs on the run's own thread. Python cannot kill a thread, so stop and
timeout set ``ctx.stopping``; a function that ignores it past the grace period is
abandoned (recorded as stopped or timed out) and left to finish on its own.
"""

from __future__ import annotations

import importlib
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_scheduler.core.progress import Progress
from tui_scheduler.engine.process import ProcessOutcome, StopRequest


@dataclass
class JobContext:
    """What a python job receives: progress and log reporting, params, stop flag, state."""

    run_id: int
    job_name: str
    params: dict[str, Any]
    trigger: str
    stopping: threading.Event
    _on_line: Callable[[str, str], None] = field(repr=False)
    _on_progress: Callable[[Progress], None] = field(repr=False)
    # Loaded on first use: most jobs never ask, and each costs a database read.
    _load_last_success: Callable[[], datetime | None] = field(repr=False,
                                                              default=lambda: None)
    _load_state: Callable[[], dict[str, Any]] = field(repr=False, default=dict)
    _state: dict[str, Any] | None = field(default=None, repr=False)
    _last_success: tuple[datetime | None] | None = field(default=None, repr=False)

    @property
    def last_success(self) -> datetime | None:
        """When this job last succeeded (None if never)."""
        if self._last_success is None:
            self._last_success = (self._load_last_success(),)
        return self._last_success[0]

    @property
    def state(self) -> dict[str, Any]:
        """A small dict saved when the run ends and handed to the next run."""
        if self._state is None:
            self._state = self._load_state()
        return self._state

    @property
    def state_loaded(self) -> bool:
        return self._state is not None

    def progress(self, done: float, total: float | None = None,
                 message: str | None = None) -> None:
        """Report progress: ``progress(0.5)``, ``progress(3, 10)``, with an optional message."""
        if total is None and 0 <= done <= 1:
            total = 1.0
        self._on_progress(Progress(done=float(done), total=total, message=message))

    def log(self, text: str) -> None:
        for line in str(text).splitlines() or [""]:
            self._on_line("out", line)

    @property
    def should_stop(self) -> bool:
        return self.stopping.is_set()


def load_callable(reference: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    function = getattr(module, attribute)
    if not callable(function):
        raise TypeError(f"{reference} is not callable")
    return function


def run_python(reference: str, ctx: JobContext, *, timeout: float | None, grace: float,
               stop: StopRequest) -> ProcessOutcome:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            function = load_callable(reference)
            value = function(ctx)
            result["ok"] = value is not False
        except BaseException as exc:  # noqa: BLE001 - the job's failure is the run's result
            for line in traceback.format_exc().splitlines():
                ctx._on_line("err", line)
            result["error"] = f"{type(exc).__name__}: {exc}"[:300]

    worker = threading.Thread(target=target, name=f"pyjob-{ctx.run_id}", daemon=True)
    worker.start()
    stopped = timed_out = False
    deadline = time.monotonic() + timeout if timeout else None
    while worker.is_alive():
        wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
        worker.join(wait)
        if not worker.is_alive():
            break
        if stop.event.is_set():
            stopped = True
            break
        if deadline is not None and time.monotonic() >= deadline:
            timed_out = True
            break
    if stopped or timed_out:
        ctx.stopping.set()
        worker.join(0 if stop.kill_now else grace)
    if worker.is_alive():
        return ProcessOutcome(exit_code=None, signal_name=None, stopped=stopped,
                              timed_out=timed_out, last_stderr="did not honour the stop request")
    if "error" in result:
        return ProcessOutcome(exit_code=1, signal_name=None, stopped=stopped,
                              timed_out=timed_out, last_stderr=result["error"])
    return ProcessOutcome(exit_code=0 if result.get("ok") else 1, signal_name=None,
                          stopped=stopped, timed_out=timed_out,
                          last_stderr="" if result.get("ok") else "the function returned False")
