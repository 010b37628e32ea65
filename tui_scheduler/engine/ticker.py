"""The ticker thread: every ``tick_s`` it flushes runs' output and progress and watches
python runs' stop and timeout (``RunExecutor.tick``), lets the python pool grow past a
stuck queue, beats the SQLite lock's heartbeat, takes over dead engines' runs, and every
``poll_s`` has the engine look for edits and requests (``poll``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tui_scheduler.engine.launching import Launcher
from tui_scheduler.engine.membership import LockWatch
from tui_scheduler.engine.runs import ActiveRun, RunExecutor
from tui_scheduler.engine.state import EngineState
from tui_scheduler.store.writer import BatchWriter

log = logging.getLogger(__name__)


class Ticker:
    """The engine's periodic upkeep, on a thread of its own."""

    def __init__(self, state: EngineState, executor: RunExecutor, launcher: Launcher,
                 writer: BatchWriter, lock: Any, watch: LockWatch, stop: threading.Event, *,
                 poll: Callable[[], None], free_behind_others: Callable[[], list[ActiveRun]],
                 heartbeat_s: float, tick_s: float, poll_s: float):
        self._state = state
        self._executor = executor
        self._launcher = launcher
        self._writer = writer
        self._lock = lock
        self._watch = watch
        self._stop = stop
        self._poll = poll
        self._free_behind_others = free_behind_others
        self.heartbeat_s = heartbeat_s
        self.tick_s = tick_s
        self.poll_s = poll_s
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="engine-ticker", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        state = self._state
        # Two beats per period: an engine is declared dead after 1.5 periods of silence.
        beat_every = self.heartbeat_s / 2
        next_beat = time.monotonic() + beat_every
        next_poll = time.monotonic() + self.poll_s
        while not self._stop.wait(self.tick_s):
            now = time.monotonic()
            beat = now >= next_beat
            try:
                self._executor.tick(heartbeat=beat)
                self._launcher.maintain(now)
                if beat:
                    next_beat = now + beat_every
                    if not state.shared:  # members beat on their own thread
                        self._writer.submit(self._lock.heartbeat_op()).add_done_callback(
                            self._watch.check_lock)
                if state.running and state.shared and not state.lost_lock:
                    self._watch.take_over_dead()
                if now >= next_poll and state.active():
                    next_poll = now + self.poll_s
                    self._poll()
                    if state.shared:
                        self._launcher.spawn_many(self._free_behind_others())
            except Exception:
                log.exception("engine tick failed")
