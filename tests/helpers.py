"""Test helpers: polling with a deadline instead of fixed sleeps, and small queries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from tui_scheduler.store.models import Run
from tui_scheduler.store.output import iter_lines, read_chunks


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def runs_of(store, job_id: int) -> list[Run]:
    with store.session() as session:
        return list(session.exec(select(Run).where(Run.job_id == job_id)
                                 .order_by(col(Run.id))).all())


def finished_runs(store, job_id: int) -> list[Run]:
    return [r for r in runs_of(store, job_id) if r.status not in ("running", "scheduled")]


def output_text(store, run_id: int) -> list[tuple[str, str]]:
    return iter_lines(read_chunks(store, run_id, limit=100_000))


def cli(db: str, *args: str, stdin: str | None = None, timeout: float = 60):
    """``tui-scheduler --db DB ARGS`` in a real subprocess."""
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", db, *args],
                          capture_output=True, text=True, input=stdin, timeout=timeout,
                          check=False, env={**os.environ, "COLUMNS": "100"})


def assert_refused(result, *words: str, code: int = 2) -> str:
    """Bad input: exit ``code``, one line on stderr naming the problem, no traceback."""
    lines = result.stderr.splitlines()
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr[-2000:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def sql_dump(db: str) -> str:
    """Every row and schema line of an SQLite file: equal before and after means nothing
    stored changed."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()
