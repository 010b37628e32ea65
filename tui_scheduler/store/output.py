"""Reading a run's stored output: in order, from an offset (live tail), or the tail only."""

from __future__ import annotations

from sqlmodel import col, select

from tui_scheduler.store.db import Store
from tui_scheduler.store.models import OutputChunk


def read_chunks(store: Store, run_id: int, *, after_seq: int = 0,
                limit: int = 1000) -> list[OutputChunk]:
    """Chunks in order after ``after_seq``; a follower passes the last seq it has seen."""
    with store.session() as session:
        query = (select(OutputChunk).where(OutputChunk.run_id == run_id)
                 .where(col(OutputChunk.seq) > after_seq)
                 .order_by(col(OutputChunk.seq)).limit(limit))
        return list(session.exec(query).all())


def read_chunks_before(store: Store, run_id: int, *, before_seq: int | None = None,
                       limit: int = 200) -> list[OutputChunk]:
    """Up to ``limit`` chunks before ``before_seq`` (the end when None), in order."""
    with store.session() as session:
        query = select(OutputChunk).where(OutputChunk.run_id == run_id)
        if before_seq is not None:
            query = query.where(col(OutputChunk.seq) < before_seq)
        rows = session.exec(query.order_by(col(OutputChunk.seq).desc()).limit(limit)).all()
    return list(reversed(rows))


def iter_lines(chunks: list[OutputChunk]) -> list[tuple[str, str]]:
    """(stream, line) pairs from chunks; every chunk's text ends with a newline."""
    lines: list[tuple[str, str]] = []
    for chunk in chunks:
        for line in chunk.text.split("\n")[:-1] if chunk.text.endswith("\n") else \
                chunk.text.split("\n"):
            lines.append((chunk.stream, line))
    return lines
