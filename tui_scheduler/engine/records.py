"""Write operations for run records, as functions the batch writer runs in a transaction.

Each run transition is one of these; they are small so a burst of them shares a commit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from tui_scheduler.store.models import Job, Run

_runs = Run.__table__
_jobs = Job.__table__


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_run(*, advance_fire_mark: bool = False, **fields: Any):
    """An op inserting one run row and returning its id; optionally moves the job's
    fire high-water mark so start-up knows this fire is accounted for."""
    row = run_row(**fields)

    def op(conn: Connection) -> int:
        run_id = conn.execute(insert(_runs).values(**row)).inserted_primary_key[0]
        scheduled_for = row["scheduled_for"]
        if advance_fire_mark and scheduled_for is not None:
            conn.execute(update(_jobs).where(_jobs.c.id == row["job_id"])
                         .where((_jobs.c.last_fire_at.is_(None))
                                | (_jobs.c.last_fire_at < scheduled_for))
                         .values(last_fire_at=scheduled_for))
        return run_id
    return op


def run_row(*, job_id: int, trigger: str, status: str, scheduled_for: datetime | None,
            attempt: int = 1, params: dict | None = None, host: str = "", owner: str = "",
            started_at: datetime | None = None, finished_at: datetime | None = None,
            error: str = "", shard: str = "") -> dict[str, Any]:
    return {
        "job_id": job_id, "trigger": trigger, "status": status, "scheduled_for": scheduled_for,
        "created_at": utcnow(), "started_at": started_at, "finished_at": finished_at,
        "attempt": attempt, "params": json.dumps(params or {}, sort_keys=True), "host": host,
        "owner": owner, "error": error[:500], "heartbeat_at": started_at,
        "progress_message": "", "output_bytes": 0, "output_truncated": False,
        "shard": shard,
    }


_FIRE_TRIGGERS = ("schedule", "catch-up")


def insert_runs(rows: list[dict[str, Any]]):
    """An op inserting many run rows in one statement; returns their ids in order.

    A scheduled fire that already has a record gets None instead of a second row: the
    fire was accounted for before, and running it again would run the job twice.
    """
    def op(conn: Connection) -> list[int | None]:
        fires = [(r["job_id"], r["scheduled_for"]) for r in rows
                 if r["trigger"] in _FIRE_TRIGGERS and r["scheduled_for"] is not None]
        taken: set[tuple[int, datetime, str]] = set()
        # PostgreSQL settles duplicates with ON CONFLICT below; SQLite has one engine, and
        # this look-up (on the partial index: the predicate is literal) is its guard.
        if fires and conn.dialect.name != "postgresql":
            job_ids = sorted({job_id for job_id, _ in fires})
            times = sorted({when for _, when in fires})
            found = conn.execute(select(_runs.c.job_id, _runs.c.scheduled_for, _runs.c.shard)
                                 .where(text("trigger IN ('schedule', 'catch-up')"))
                                 .where(_runs.c.job_id.in_(job_ids))
                                 .where(_runs.c.scheduled_for.between(times[0], times[-1])))
            taken = {(job_id, when, shard) for job_id, when, shard in found}
        keep = [r for r in rows
                if (r["job_id"], r["scheduled_for"], r["shard"]) not in taken
                or r["trigger"] not in _FIRE_TRIGGERS]
        by_row: dict[int, int] = {}
        if conn.dialect.name == "postgresql":
            # Engines sharing the database race for each fire: the unique index decides,
            # and only the engine whose row lands runs it.
            fire_rows = [r for r in keep if r["trigger"] in _FIRE_TRIGGERS
                         and r["scheduled_for"] is not None]
            if fire_rows:
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                # executemany form: SQLAlchemy caches one compiled statement and sends
                # the rows in batches (a VALUES list would be compiled anew each time).
                landed = conn.execute(
                    pg_insert(_runs).on_conflict_do_nothing(
                        index_elements=["job_id", "scheduled_for", "shard"],
                        # Literal, not bound: once psycopg prepares the statement, a
                        # parameter here no longer matches the partial index.
                        index_where=text("trigger IN ('schedule', 'catch-up')"))
                    .returning(_runs.c.id, _runs.c.job_id, _runs.c.scheduled_for,
                               _runs.c.shard), fire_rows).all()
                ids_by_fire = {(job_id, when, shard): run_id
                               for run_id, job_id, when, shard in landed}
                for r in fire_rows:
                    run_id = ids_by_fire.get((r["job_id"], r["scheduled_for"], r["shard"]))
                    if run_id is not None:
                        by_row[id(r)] = run_id
                fire_ids = {id(r) for r in fire_rows}
                keep = [r for r in keep if id(r) not in fire_ids] + \
                    [r for r in fire_rows if id(r) in by_row]
                rest = [r for r in keep if id(r) not in by_row]
            else:
                rest = keep
        else:
            rest = keep
        if rest:
            result = conn.execute(insert(_runs).returning(_runs.c.id,
                                                          sort_by_parameter_order=True), rest)
            by_row.update({id(r): row[0] for r, row in zip(rest, result, strict=True)})
        marks: dict[int, datetime] = {}
        for r in keep:
            if r["trigger"] in _FIRE_TRIGGERS and r["scheduled_for"] is not None:
                job_id = r["job_id"]
                marks[job_id] = max(marks.get(job_id, r["scheduled_for"]), r["scheduled_for"])
        # One UPDATE per distinct fire time: a burst of a thousand jobs due on the same
        # second moves all their marks in one statement, not a thousand round trips.
        by_mark: dict[datetime, list[int]] = {}
        for job_id, mark in marks.items():
            by_mark.setdefault(mark, []).append(job_id)
        for mark, job_ids in by_mark.items():
            conn.execute(update(_jobs).where(_jobs.c.id.in_(job_ids))
                         .where((_jobs.c.last_fire_at.is_(None))
                                | (_jobs.c.last_fire_at < mark))
                         .values(last_fire_at=mark))
        return [by_row.get(id(r)) for r in rows]
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
