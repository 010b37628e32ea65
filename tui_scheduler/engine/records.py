"""Write operations for run records, as functions the batch writer runs in a transaction.

Each run transition is one of these; they are small so a burst of them shares a commit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from tui_scheduler.store.models import Job, Run

_runs = Run.__table__
_jobs = Job.__table__


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_run(*, job_id: int, trigger: str, status: str, scheduled_for: datetime | None,
               attempt: int = 1, params: dict | None = None, host: str = "", owner: str = "",
               started_at: datetime | None = None, finished_at: datetime | None = None,
               error: str = "", advance_fire_mark: bool = False):
    """An op inserting one run row and returning its id; optionally moves the job's
    fire high-water mark so start-up knows this fire is accounted for."""
    row = {
        "job_id": job_id, "trigger": trigger, "status": status, "scheduled_for": scheduled_for,
        "created_at": utcnow(), "started_at": started_at, "finished_at": finished_at,
        "attempt": attempt, "params": json.dumps(params or {}, sort_keys=True), "host": host,
        "owner": owner, "error": error, "heartbeat_at": started_at,
        "progress_message": "", "output_bytes": 0, "output_truncated": False,
    }

    def op(conn: Connection) -> int:
        run_id = conn.execute(insert(_runs).values(**row)).inserted_primary_key[0]
        if advance_fire_mark and scheduled_for is not None:
            conn.execute(update(_jobs).where(_jobs.c.id == job_id)
                         .where((_jobs.c.last_fire_at.is_(None))
                                | (_jobs.c.last_fire_at < scheduled_for))
                         .values(last_fire_at=scheduled_for))
        return run_id
    return op


def mark_running(run_id: int, *, started_at: datetime, host: str, owner: str):
    def op(conn: Connection) -> None:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(
            status="running", started_at=started_at, heartbeat_at=started_at, host=host,
            owner=owner))
    return op


def finish_run(run_id: int, *, status: str, exit_code: int | None, error: str,
               progress: tuple[float | None, float | None, str] | None, output_bytes: int,
               job_state: tuple[int, dict[str, Any]] | None = None):
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "exit_code": exit_code,
                              "error": error[:500], "output_bytes": output_bytes}
    if progress is not None:
        values.update(progress_done=progress[0], progress_total=progress[1],
                      progress_message=progress[2][:500])

    def op(conn: Connection) -> None:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(**values))
        if job_state is not None:
            conn.execute(update(_jobs).where(_jobs.c.id == job_state[0]).values(
                state=json.dumps(job_state[1], sort_keys=True, default=str)))
    return op


def live_updates(rows: list[dict[str, Any]]):
    """Progress, pid and heartbeat of many running runs in one statement batch."""
    def op(conn: Connection) -> None:
        for row in rows:
            run_id = row.pop("id")
            conn.execute(update(_runs).where(_runs.c.id == run_id).values(**row))
    return op


def set_status(run_id: int, status: str, error: str = ""):
    def op(conn: Connection) -> None:
        conn.execute(update(_runs).where(_runs.c.id == run_id)
                     .values(status=status, error=error[:500], finished_at=utcnow()))
    return op


def disable_job(job_id: int):
    def op(conn: Connection) -> None:
        conn.execute(update(_jobs).where(_jobs.c.id == job_id)
                     .values(enabled=False, updated_at=utcnow()))
    return op


def fetch_run_status(run_id: int):
    def op(conn: Connection) -> str | None:
        return conn.execute(select(_runs.c.status).where(_runs.c.id == run_id)).scalar()
    return op
