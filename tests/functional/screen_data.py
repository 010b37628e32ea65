"""Fixed data for screen tests and snapshots: a job, its run history and run output.

Rows are written through the store's models with fixed timestamps, so screens drawn
against them (with the clock pinned) look the same on every machine.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import OutputChunk, Run

NOW = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
"""The pinned clock of screen tests: a Friday afternoon."""

JOB = {
    "name": "backup-db", "description": "Nightly dump of the production database",
    "target": "pg_dump -Fc prod > /backups/prod.dump", "schedule": "0 9 * * 1-5",
    "timezone": "America/New_York", "retries": 2, "timeout_s": 3600,
    "env": {"PGPASSWORD": "hunter2", "PGHOST": "db1"}, "tags": ["db", "nightly"],
    "params": {"full": True},
}


def seed_job(store, **changes) -> int:
    return create_job(store, {**JOB, **changes}).id


def seed_runs(store, job_id: int, count: int = 80, *, running: bool = False) -> list[int]:
    """``count`` finished runs one day apart ending yesterday (every 7th failed), plus
    optionally one running run with progress. Returns the ids, oldest first."""
    runs = []
    for index in range(count):
        fire = NOW - timedelta(days=count - index, hours=5)
        started = fire + timedelta(seconds=1)
        failed = index % 7 == 3
        seconds = 40 + (index * 37) % 90
        runs.append(Run(
            job_id=job_id, trigger="retry" if failed and index % 2 else "schedule",
            status="failed" if failed else "succeeded", scheduled_for=fire, created_at=fire,
            started_at=started, finished_at=started + timedelta(seconds=seconds),
            exit_code=1 if failed else 0, attempt=2 if failed and index % 2 else 1,
            error="exit code 1: pg_dump: connection refused" if failed else "",
            host="testhost"))
    if running:
        runs.append(Run(
            job_id=job_id, trigger="manual", status="running", scheduled_for=None,
            created_at=NOW - timedelta(seconds=95), started_at=NOW - timedelta(seconds=95),
            progress_done=42, progress_total=100, progress_message="copying tables",
            host="testhost"))
    with store.session() as session:
        session.add_all(runs)
        session.commit()
        return [run.id for run in runs]


def seed_output(store, run_id: int, lines: list[tuple[str, str]]) -> None:
    """Output as the engine stores it: consecutive lines of one stream share a chunk."""
    chunks: list[OutputChunk] = []
    for stream, line in lines:
        if chunks and chunks[-1].stream == stream and chunks[-1].lines < 50:
            chunk = chunks[-1]
            chunk.text += line + "\n"
            chunk.lines += 1
        else:
            chunks.append(OutputChunk(run_id=run_id, seq=len(chunks) + 1, stream=stream,
                                      text=line + "\n", lines=1))
    for chunk in chunks:
        chunk.nbytes = len(chunk.text)
    with store.session() as session:
        session.add_all(chunks)
        session.commit()


def bulk_runs(db_path: str, job_id: int, count: int) -> None:
    """Many finished runs fast (one INSERT ... SELECT in SQLite): for huge histories."""
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO run (job_id, trigger, status, scheduled_for, created_at, started_at,"
            " finished_at, error, attempt, host, progress_message, output_bytes,"
            " output_truncated, params, owner) "
            "SELECT ?, 'schedule', 'succeeded', datetime('2020-01-01', i || ' minutes'),"
            " datetime('2020-01-01', i || ' minutes'),"
            " datetime('2020-01-01', i || ' minutes', '+1 seconds'),"
            " datetime('2020-01-01', i || ' minutes', '+31 seconds'),"
            " '', 1, '', '', 0, 0, '{}', '' FROM n", (count - 1, job_id))
    conn.close()
