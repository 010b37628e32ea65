"""A run's output on its way to the database: lines batched into chunks, capped per run.

Past the cap the head is kept, the tail keeps rolling, and a marker chunk between them
says how much was dropped. Unwritten bytes are bounded too: a producer faster than the
disk is made to wait (the pipe fills and the job slows) instead of filling memory.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from typing import Any, Protocol

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from tui_scheduler.store.models import OutputChunk, Run
from tui_scheduler.store.writer import Op

DEFAULT_CAP = 10 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MAX_IN_FLIGHT = 4 * 1024 * 1024
_chunks = OutputChunk.__table__
_runs = Run.__table__


def _human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return str(nbytes)


class Submits(Protocol):
    """Where a sink's writes go: a ``BatchWriter``, or the engine's ``batching.RunWrites``
    (which keeps them in order with the run's other writes)."""

    def submit(self, op: Op) -> Future[Any]: ...


class OutputSink:
    """Collects (stream, line) pairs of one run; thread-safe (stdout and stderr readers)."""

    def __init__(self, writer: Submits, run_id: int, *, cap: int = DEFAULT_CAP):
        self._writer = writer
        self.run_id = run_id
        self._lock = threading.Lock()
        self._head_budget = cap // 2
        self._tail_budget = cap - self._head_budget
        # Chunks much smaller than the head, so a small cap still keeps a head.
        self._chunk_bytes = min(CHUNK_BYTES, max(1024, cap // 16))
        self._pending: list[str] = []
        self._pending_stream = "out"
        self._pending_bytes = 0
        self._seq = 0
        self._head_bytes = 0
        self._marker_seq: int | None = None
        self._tail: deque[tuple[int, int]] = deque()
        self._tail_bytes = 0
        self._in_flight: deque[tuple[Future, int]] = deque()
        self.total_bytes = 0
        """Every byte the run printed, kept or not."""
        self.dropped_bytes = 0
        self.lines = 0

    def append(self, stream: str, line: str) -> None:
        self.extend(stream, [line])

    def extend(self, stream: str, lines: list[str]) -> None:
        """Add lines of one stream; may wait when the database is far behind."""
        wait_for: list[Future] = []
        with self._lock:
            if stream != self._pending_stream and self._pending:
                wait_for = self._cut_locked()
            self._pending_stream = stream
            for line in lines:
                nbytes = len(line) + 1
                self.total_bytes += nbytes
                self.lines += 1
                self._pending.append(line)
                self._pending_bytes += nbytes
                if self._pending_bytes >= self._chunk_bytes:
                    wait_for += self._cut_locked()
        for future in wait_for:
            future.result()

    def flush(self) -> None:
        """Hand buffered lines to the writer (called by the engine's ticker and at the end)."""
        with self._lock:
            waits = self._cut_locked()
        for future in waits:
            future.result()

    def _cut_locked(self) -> list[Future]:
        if not self._pending:
            return []
        text = "\n".join(self._pending) + "\n"
        row = {"run_id": self.run_id, "stream": self._pending_stream, "text": text,
               "lines": len(self._pending), "nbytes": self._pending_bytes}
        size = self._pending_bytes
        self._pending, self._pending_bytes = [], 0
        self._seq += 1
        row["seq"] = self._seq
        if self._marker_seq is None and self._head_bytes + size <= self._head_budget:
            self._head_bytes += size
            self._submit(lambda conn: conn.execute(insert(_chunks), [row]), size)
        else:
            if self._marker_seq is None:
                # Reserve the place between head and tail for the truncation marker.
                self._marker_seq = self._seq
                self._seq += 1
                row["seq"] = self._seq
            self._tail.append((self._seq, size))
            self._tail_bytes += size
            dropped_upto = None
            while self._tail_bytes > self._tail_budget and len(self._tail) > 1:
                seq, old = self._tail.popleft()
                self._tail_bytes -= old
                self.dropped_bytes += old
                dropped_upto = seq
            self._submit(self._tail_op(row, dropped_upto), size)
        return self._backpressure_locked()

    def _tail_op(self, row: dict, dropped_upto: int | None):
        run_id, marker_seq = self.run_id, self._marker_seq
        marker = (f"[... {_human(self.dropped_bytes)} of output truncated: the first and last "
                  f"{_human(self._tail_budget)} are kept ...]\n") if dropped_upto else None

        def op(conn: Connection) -> None:
            conn.execute(insert(_chunks), [row])
            if dropped_upto is None or marker is None:
                return
            conn.execute(delete(_chunks).where(_chunks.c.run_id == run_id)
                         .where(_chunks.c.seq > marker_seq)
                         .where(_chunks.c.seq <= dropped_upto))
            changed = conn.execute(update(_chunks).where(_chunks.c.run_id == run_id)
                                   .where(_chunks.c.seq == marker_seq)
                                   .values(text=marker)).rowcount
            if not changed:
                conn.execute(insert(_chunks), [{"run_id": run_id, "seq": marker_seq,
                                                "stream": "sys", "text": marker, "lines": 1,
                                                "nbytes": len(marker)}])
            conn.execute(update(_runs).where(_runs.c.id == run_id)
                         .values(output_truncated=True))
        return op

    def _submit(self, op, size: int) -> None:
        self._in_flight.append((self._writer.submit(op), size))

    def _backpressure_locked(self) -> list[Future]:
        while self._in_flight and self._in_flight[0][0].done():
            self._in_flight.popleft()
        waits: list[Future] = []
        in_flight = sum(size for _, size in self._in_flight)
        for future, size in self._in_flight:
            if in_flight <= MAX_IN_FLIGHT:
                break
            waits.append(future)
            in_flight -= size
        return waits
