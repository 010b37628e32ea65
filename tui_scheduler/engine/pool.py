"""Threads that execute runs, kept and reused instead of one new thread per run.

Starting a thread costs ~0.4 ms of CPU under the GIL; a burst of a thousand python runs
spent most of its time there. A ``RunnerPool`` hands each item to an idle thread (the
most recently idle first, so a few threads stay warm and the rest time out), starts a
thread when none is idle, and, when it has a ``limit``, queues items beyond ``limit``
busy threads in arrival order.

A queue must never stall behind functions that run for a long time (or that were
abandoned after ignoring a stop request, and still hold their thread): ``maintain()``,
called by the engine's ticker, adds a thread whenever the oldest queued item has waited
longer than ``grow_after_s``, up to ``max_threads``. Threads above the limit leave again
once idle for ``idle_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class _Worker:
    __slots__ = ("item", "wake")

    def __init__(self) -> None:
        self.item: Any = None
        self.wake = threading.Lock()
        self.wake.acquire()  # released by whoever hands this worker an item


class RunnerPool:
    """Calls ``work(item)`` for each submitted item on a pooled thread."""

    def __init__(self, work: Callable[[Any], None], *, name: str, limit: int | None = None,
                 max_threads: int = 256, grow_after_s: float = 1.0, idle_s: float = 30.0):
        self._work = work
        self.name = name
        self.limit = limit
        """Busy threads beyond which items queue (None: never queue, always a thread)."""
        self.max_threads = max_threads
        self.grow_after_s = grow_after_s
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._queue: deque[tuple[Any, float]] = deque()
        self._threads = 0
        self._serial = 0
        self._closed = False
        self._warned = 0.0

    @property
    def threads(self) -> int:
        return self._threads

    @property
    def queued(self) -> int:
        return len(self._queue)

    def submit(self, item: Any) -> None:
        self.submit_many([item])

    def submit_many(self, items: list[Any]) -> None:
        """Hand items to idle threads, start threads up to the limit, queue the rest.

        One lock round for a whole batch: a contended lock makes the waiting thread give
        up the interpreter lock, and getting it back from busy threads is slow."""
        start: list[Any] = []
        now = time.monotonic()
        with self._lock:
            for item in items:
                if self._idle:
                    worker = self._idle.pop()
                    worker.item = item
                    worker.wake.release()
                elif self._closed or (self.limit is not None and self._threads >= self.limit):
                    self._queue.append((item, now))
                else:
                    self._threads += 1
                    start.append(item)
        for item in start:
            self._start(item)

    def maintain(self, now: float | None = None) -> None:
        """Add threads for items queued longer than ``grow_after_s`` (called by the
        ticker): up to half as many again as there are, so a queue of slow jobs gets
        threads quickly and a passing burst of short ones gets none."""
        start: list[Any] = []
        with self._lock:
            if not self._queue or self._closed:
                return
            now = time.monotonic() if now is None else now
            try:
                if now - self._queue[0][1] < self.grow_after_s:
                    return
            except IndexError:
                return
            room = min(self.max_threads - self._threads, max(1, self._threads // 2))
            try:
                while len(start) < room and now - self._queue[0][1] >= self.grow_after_s:
                    start.append(self._queue.popleft()[0])
            except IndexError:
                pass  # runners took the rest meanwhile (they pop without the lock)
            self._threads += len(start)
            if not start and now - self._warned > 60:
                self._warned = now
                log.warning("%s: all %d threads busy; %d runs waiting for one",
                            self.name, self._threads, len(self._queue))
        for item in start:
            self._start(item)

    def close(self) -> None:
        """Let idle threads leave; items still queued stay queued (the caller settles them)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.item = None
            worker.wake.release()

    def _start(self, item: Any) -> None:
        self._serial += 1
        thread = threading.Thread(target=self._loop, args=(item,), daemon=True,
                                  name=f"{self.name}-{self._serial}")
        try:
            thread.start()
        except BaseException:  # cannot start a thread: give the item back to the queue
            with self._lock:
                self._threads -= 1
                self._queue.appendleft((item, time.monotonic()))
            raise

    def _loop(self, item: Any) -> None:
        worker = _Worker()
        while True:
            try:
                self._work(item)
            except Exception:  # one item's failure must not end the pool
                log.exception("%s: work item failed", self.name)
            item = None
            try:
                item = self._queue.popleft()[0]  # atomic: no lock while the queue is full
                continue
            except IndexError:
                pass
            with self._lock:
                if self._queue:  # appended since (appends happen under the lock)
                    item = self._queue.popleft()[0]
                    continue
                if self._closed:
                    self._threads -= 1
                    return
                self._idle.append(worker)
            if not worker.wake.acquire(timeout=self.idle_s):
                with self._lock:
                    if worker in self._idle:
                        self._idle.remove(worker)
                        self._threads -= 1
                        return
                # Handed an item just as the wait ran out: the hand-off already released.
                worker.wake.acquire()
            item, worker.item = worker.item, None
            if item is None:  # woken by close()
                with self._lock:
                    self._threads -= 1
                return
