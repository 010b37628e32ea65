"""Ends of runs recorded many to a statement, without ever overtaking a run's output.

Each run's end is one UPDATE; a burst of a thousand short runs used to queue a thousand
separate statements (and a thousand threads waited for them). ``FinishBatcher`` gathers
the ends that arrive while the previous ones are being written into one operation (an
executemany), and whoever needs to know when a run's end is committed gets a future.

Order matters: a run's last output chunks must be written before (or with) its end, or a
reader could see a finished run with missing output. The writer runs operations in the
order they were queued, so an end may join a gathering operation only if that operation
was queued after the run's latest output write. ``OrderedWriter`` numbers every
queued operation to tell.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import Future

from sqlalchemy.engine import Connection

from tui_scheduler.engine import records
from tui_scheduler.store.writer import BatchWriter, Op


class OrderedWriter:
    """The batch writer, numbering the operations queued through it."""

    def __init__(self, writer: BatchWriter):
        self.writer = writer
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def submit(self, op: Op) -> tuple[int, Future]:
        with self._lock:
            return next(self._numbers), self.writer.submit(op)

    def for_run(self) -> RunWrites:
        return RunWrites(self)


class RunWrites:
    """What one run's output sink writes through: remembers its latest queue number."""

    __slots__ = ("_ordered", "last")

    def __init__(self, ordered: OrderedWriter):
        self._ordered = ordered
        self.last = 0

    def submit(self, op: Op) -> Future:
        self.last, future = self._ordered.submit(op)
        return future


class _Gathering:
    """One queued operation recording the ends of the runs that joined it."""

    __slots__ = ("_owner", "finishes", "future", "number", "sealed")

    def __init__(self, owner: FinishBatcher):
        self._owner = owner
        self.finishes: list[records.Finish] = []
        self.sealed = False
        self.number = 0
        self.future: Future | None = None

    def __call__(self, conn: Connection) -> dict[int, str]:
        with self._owner._lock:
            # Nothing joins once the writer has started on it; if the transaction is
            # retried, the same ends are written again.
            self.sealed = True
            if self._owner._open is self:
                self._owner._open = None
        return records.apply_finishes(conn, self.finishes)


class FinishBatcher:
    """Gathers run ends into as few write operations as order allows.

    During a burst the ends are also *held* (``hold=True``) until ``flush()``: every
    commit of a handful of ends would compete for the interpreter lock with the runs
    still waiting to start, so they are written together once the queue has drained.
    """

    def __init__(self, ordered: OrderedWriter, *, hold_max: int = 1000):
        self._ordered = ordered
        self._lock = threading.Lock()
        self._open: _Gathering | None = None
        """Queued, not yet started by the writer: more ends may join."""
        self._held: _Gathering | None = None
        """Not queued yet (``flush`` queues it)."""
        self._hold_max = hold_max

    def add(self, finish: records.Finish, *, after: int = 0, hold: bool = False) -> Future:
        """Queue one run's end, behind that run's write number ``after``; the future is
        resolved once the end is committed."""
        with self._lock:
            if hold:
                gathering = self._held
                if gathering is None:
                    gathering = self._held = _Gathering(self)
                    gathering.future = Future()
                gathering.finishes.append(finish)
                future = gathering.future
                assert future is not None  # set with the gathering, just above
                if len(gathering.finishes) >= self._hold_max:
                    self._queue_held_locked()
                return future
            gathering = self._open
            if gathering is None or gathering.sealed or gathering.number <= after:
                gathering = _Gathering(self)
                gathering.number, gathering.future = self._ordered.submit(gathering)
                self._open = gathering
            gathering.finishes.append(finish)
            assert gathering.future is not None  # set when it was submitted, just above
            return gathering.future

    def flush(self) -> None:
        """Queue the held ends (behind everything their runs wrote before)."""
        if self._held is None:
            return
        with self._lock:
            self._queue_held_locked()

    def _queue_held_locked(self) -> None:
        gathering, self._held = self._held, None
        if gathering is None:
            return
        outer = gathering.future
        assert outer is not None  # a held gathering is made with its future
        gathering.number, inner = self._ordered.submit(gathering)
        inner.add_done_callback(lambda done: _pass_on(done, outer))


def _pass_on(done: Future, outer: Future) -> None:
    error = done.exception()
    if error is not None:
        outer.set_exception(error)
    else:
        outer.set_result(done.result())
