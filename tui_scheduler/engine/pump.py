"""One thread that reads the output pipes of every running command.

A thread per pipe (or per run) wakes for every line a chatty job prints; 50 jobs at 100
lines a second then cost most of a core in wake-ups. Here one selector serves all pipes,
and after a round that found only a little data the thread pauses briefly so the next
round finds several lines per pipe. A round that reads a full buffer (a flood) does not
pause, so throughput is not capped.
"""

from __future__ import annotations

import logging
import os
import selectors
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
READ_SIZE = 64 * 1024
PACE_S = 0.02


class OutputPump:
    """Calls ``on_data(bytes)`` for each read of a registered pipe, and ``on_data(b"")``
    once at end of file (then the pipe is closed and forgotten)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: list[tuple[object, Callable[[bytes], None]]] = []
        self._dropped: list[object] = []
        self._thread: threading.Thread | None = None

    def add(self, pipe, on_data: Callable[[bytes], None]) -> None:
        with self._lock:
            self._pending.append((pipe, on_data))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="output-pump",
                                                daemon=True)
                self._thread.start()
        self._wake()

    def drop(self, pipe) -> None:
        """Stop reading a pipe that something unkillable keeps open."""
        with self._lock:
            self._dropped.append(pipe)
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # already awake-pending

    def _sync(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            dropped, self._dropped = self._dropped, []
        for pipe, on_data in pending:
            self._selector.register(pipe, selectors.EVENT_READ, on_data)
        for pipe in dropped:
            if pipe in {key.fileobj for key in self._selector.get_map().values()}:
                on_data = self._selector.get_key(pipe).data
                self._selector.unregister(pipe)
                pipe.close()
                on_data(b"")

    def _loop(self) -> None:
        while True:
            self._sync()
            events = self._selector.select(timeout=1.0)
            read_any = full = False
            for key, _ in events:
                if key.data is None:
                    os.read(self._wake_r, 4096)
                    continue
                try:
                    data = os.read(key.fd, READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    self._selector.unregister(key.fileobj)
                    key.fileobj.close()
                read_any = read_any or bool(data)
                full = full or len(data) == READ_SIZE
                try:
                    key.data(data)
                except Exception:  # one run's bug must not stop the others
                    log.exception("output handler failed")
            if read_any and not full:
                time.sleep(PACE_S)


PUMP = OutputPump()
