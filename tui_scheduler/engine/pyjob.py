"""Running a ``python`` job: import ``package.module:function`` and call it with a context.

The function runs on the runner thread that took the run from the engine's pool (no new
thread per run: a burst of a thousand runs would spend its time starting threads).
Python cannot kill a thread, so stop and timeout set ``ctx.stopping``; a function that
ignores it past the grace period is abandoned (recorded as stopped or timed out) and left
to finish on its own, on a runner thread the pool replaces if others wait.
"""

from __future__ import annotations

import importlib
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_scheduler.core.progress import Progress
from tui_scheduler.engine.process import ProcessOutcome

_STOPPING_LOCK = threading.Lock()


@dataclass
class JobContext:
    """What a python job receives: progress and log reporting, params, stop flag, state."""

    run_id: int
    job_name: str
    params: dict[str, Any]
    trigger: str
    _on_line: Callable[[str, str], None] = field(repr=False)
    _on_progress: Callable[[Progress], None] = field(repr=False)
    # Loaded on first use: most jobs never ask, and each costs a database read.
    _load_last_success: Callable[[], datetime | None] = field(repr=False,
                                                              default=lambda: None)
    _load_state: Callable[[], dict[str, Any]] = field(repr=False, default=dict)
    _state: dict[str, Any] | None = field(default=None, repr=False)
    _last_success: tuple[datetime | None] | None = field(default=None, repr=False)
    _stopping: threading.Event | None = field(default=None, repr=False)
    _stop_asked: bool = field(default=False, repr=False)

    @property
    def stopping(self) -> threading.Event:
        """Set on stop and timeout: finish up and return. (Made on first use: a burst of
        short runs that never look would spend a good part of its time making Events.)"""
        event = self._stopping
        if event is None:
            with _STOPPING_LOCK:
                event = self._stopping
                if event is None:
                    event = threading.Event()
                    if self._stop_asked:
                        event.set()
                    self._stopping = event
        return event

    def _ask_to_stop(self) -> None:
        """The engine's watchdog: stop or timeout."""
        with _STOPPING_LOCK:
            self._stop_asked = True
            event = self._stopping
        if event is not None:
            event.set()

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
        return self._stop_asked


def load_callable(reference: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    # An imported module is taken as it is (what import_module returns, sooner); one still
    # being imported by another thread goes through import_module, which waits for it.
    module = sys.modules.get(module_name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        module = importlib.import_module(module_name)
    function = getattr(module, attribute)
    if not callable(function):
        raise TypeError(f"{reference} is not callable")
    return function


def call_python(reference: str, ctx: JobContext) -> ProcessOutcome:
    """Call the job's function on this thread (a runner's); stop and timeout reach it
    through ``ctx.stopping``, set by the engine's watchdog (``RunExecutor.tick``)."""
    try:
        function = load_callable(reference)
        value = function(ctx)
    except BaseException as exc:  # noqa: BLE001 - the job's failure is the run's result
        for line in traceback.format_exc().splitlines():
            ctx._on_line("err", line)
        return ProcessOutcome(exit_code=1, signal_name=None, stopped=False, timed_out=False,
                              last_stderr=f"{type(exc).__name__}: {exc}"[:300])
    if value is False:
        return ProcessOutcome(exit_code=1, signal_name=None, stopped=False, timed_out=False,
                              last_stderr="the function returned False")
    return ProcessOutcome(exit_code=0, signal_name=None, stopped=False, timed_out=False)
