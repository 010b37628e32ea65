"""One thread that reads the output pipes of every running command.

A thread per pipe (or per run) wakes for every line a chatty job prints; 50 jobs at 100
lines a second then cost most of a core in wake-ups. Here one epoll serves all pipes,
and after a round that found only a little data the thread pauses briefly so the next
round finds several lines per pipe. A round that reads a full buffer (a flood) does not
pause, so throughput is not capped. Pipes are registered with epoll directly from the
run's thread (the kernel allows that while another thread waits), so adding a run costs
no wake-up round trip.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import IO

log = logging.getLogger(__name__)
READ_SIZE = 64 * 1024
PACE_S = 0.02
_EVENTS = select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR


class OutputPump:
    """Calls ``on_data(bytes)`` for each read of a registered pipe, and ``on_data(b"")``
    once at end of file (then the pipe is closed and forgotten)."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._lock = threading.Lock()
        self._handlers: dict[int, tuple[IO[bytes], Callable[[bytes], None]]] = {}
        self._thread: threading.Thread | None = None

    def add(self, pipe: IO[bytes], on_data: Callable[[bytes], None]) -> None:
        fd = pipe.fileno()
        with self._lock:
            self._handlers[fd] = (pipe, on_data)
            self._epoll.register(fd, _EVENTS)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="output-pump",
                                                daemon=True)
                self._thread.start()

    def drop(self, pipe) -> None:
        """Stop reading a pipe that something unkillable keeps open."""
        if not pipe.closed:
            self._finish(pipe.fileno())

    def _finish(self, fd: int) -> None:
        with self._lock:
            entry = self._handlers.pop(fd, None)
            if entry is None:
                return
            self._epoll.unregister(fd)
        pipe, on_data = entry
        pipe.close()
        self._call(on_data, b"")

    @staticmethod
    def _call(on_data: Callable[[bytes], None], data: bytes) -> None:
        try:
            on_data(data)
        except Exception:  # one run's bug must not stop the others
            log.exception("output handler failed")

    def _loop(self) -> None:
        while True:
            events = self._epoll.poll(1.0)
            read_any = full = False
            for fd, _ in events:
                with self._lock:
                    entry = self._handlers.get(fd)
                if entry is None:
                    continue
                try:
                    data = os.read(fd, READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    self._finish(fd)
                    continue
                read_any = True
                full = full or len(data) == READ_SIZE
                self._call(entry[1], data)
            if read_any and not full:
                time.sleep(PACE_S)


PUMP = OutputPump()
