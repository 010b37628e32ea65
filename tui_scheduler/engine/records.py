"""Write operations for run records, as functions the batch writer runs in a transaction.

Each run transition is one of these; they are small so a burst of them shares a commit.

The burst paths (recording many fires, ending many runs) go straight to the SQLite driver
with ``executemany``: through SQLAlchemy a thousand-row insert with RETURNING runs as a
thousand statements, each converting its timestamps in Python, and cost ~100 ms of the
one interpreter lock the fires are waiting for. Values are still converted by the
columns' own SQLAlchemy types (so the stored text is identical), once per distinct value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
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
        key = conn.execute(insert(_runs).values(**row)).inserted_primary_key
        assert key is not None  # a one-row INSERT always reports its key
        run_id: int = key[0]
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
            error: str = "", shard: str = "", created_at: datetime | None = None,
            ) -> dict[str, Any]:
    return {
        "job_id": job_id, "trigger": trigger, "status": status, "scheduled_for": scheduled_for,
        "created_at": created_at or utcnow(), "started_at": started_at, "finished_at": finished_at,
        "attempt": attempt, "params": json.dumps(params, sort_keys=True) if params else "{}",
        "host": host,
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
        if not rows:
            return []
        if conn.dialect.name == "sqlite":
            return _insert_runs_sqlite(conn, rows)
        return _insert_runs_postgres(conn, rows)
    return op


def _is_fire(row: dict[str, Any]) -> bool:
    """A scheduled fire: the database keeps one record of it."""
    return row["trigger"] in _FIRE_TRIGGERS and row["scheduled_for"] is not None


def _fire_marks(rows) -> dict[datetime, list[int]]:
    """The jobs whose fire mark (``last_fire_at``) the recorded fires among ``rows`` move,
    by the time it moves to: a burst of a thousand jobs due on the same second moves all
    their marks in one statement, not a thousand round trips."""
    marks: dict[int, datetime] = {}
    for row in rows:
        if _is_fire(row):
            job_id, when = row["job_id"], row["scheduled_for"]
            marks[job_id] = max(marks.get(job_id, when), when)
    by_mark: dict[datetime, list[int]] = {}
    for job_id, mark in marks.items():
        by_mark.setdefault(mark, []).append(job_id)
    return by_mark


def _insert_runs_postgres(conn: Connection, rows: list[dict[str, Any]]) -> list[int | None]:
    """``insert_runs`` on PostgreSQL, where engines sharing the database race for each
    fire: the unique index decides, and only the engine whose row lands runs it."""
    by_row: dict[int, int] = {}
    fire_rows = [r for r in rows if _is_fire(r)]
    if fire_rows:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        # executemany form: SQLAlchemy caches one compiled statement and sends the rows
        # in batches (a VALUES list would be compiled anew each time).
        landed = conn.execute(
            pg_insert(_runs).on_conflict_do_nothing(
                index_elements=["job_id", "scheduled_for", "shard"],
                # Literal, not bound: once psycopg prepares the statement, a parameter
                # here no longer matches the partial index.
                index_where=text("trigger IN ('schedule', 'catch-up')"))
            .returning(_runs.c.id, _runs.c.job_id, _runs.c.scheduled_for, _runs.c.shard),
            fire_rows).all()
        ids_by_fire = {(job_id, when, shard): run_id for run_id, job_id, when, shard in landed}
        for r in fire_rows:
            run_id = ids_by_fire.get((r["job_id"], r["scheduled_for"], r["shard"]))
            if run_id is not None:
                by_row[id(r)] = run_id
    rest = [r for r in rows if not _is_fire(r)]
    if rest:
        result = conn.execute(insert(_runs).returning(_runs.c.id, sort_by_parameter_order=True),
                              rest)
        by_row.update({id(r): row[0] for r, row in zip(rest, result, strict=True)})
    for mark, job_ids in _fire_marks(r for r in fire_rows if id(r) in by_row).items():
        conn.execute(update(_jobs).where(_jobs.c.id.in_(job_ids))
                     .where((_jobs.c.last_fire_at.is_(None)) | (_jobs.c.last_fire_at < mark))
                     .values(last_fire_at=mark))
    return [by_row.get(id(r)) for r in rows]


_PROCESSORS: dict[tuple[str, str], dict[str, Any]] = {}


class _Binder:
    """Column values as the driver takes them, converted by the columns' SQLAlchemy types;
    a burst's rows share their timestamps, so each distinct one is converted once."""

    def __init__(self, conn: Connection, table):
        key = (conn.dialect.name, table.name)
        procs = _PROCESSORS.get(key)
        if procs is None:
            dialect = conn.dialect
            procs = {column.name: column.type.dialect_impl(dialect).bind_processor(dialect)
                     for column in table.columns}
            _PROCESSORS[key] = procs
        self.procs = procs
        self.memo: dict[Any, Any] = {}

    def __call__(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        proc = self.procs[name]
        if proc is None:
            return value
        key = (proc, value)
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = proc(value)
        return got

    def flat(self, keys: list[str] | tuple[str, ...], rows) -> list[Any]:
        """The values of ``rows`` (dicts) under ``keys``, converted, in one flat list."""
        plan = [(key, self.procs.get(key)) for key in keys]
        memo = self.memo
        out: list[Any] = []
        append = out.append
        for row in rows:
            for key, proc in plan:
                value = row[key]
                if proc is None or value is None:
                    append(value)
                    continue
                memo_key = (proc, value)
                got = memo.get(memo_key)
                if got is None:
                    got = memo[memo_key] = proc(value)
                append(got)
        return out


def _quoted(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _insert_runs_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[int | None]:
    """``insert_runs`` on SQLite: one look-up, an insert per 500 rows, one mark per fire
    time."""
    bind = _Binder(conn, _runs)
    keys = list(rows[0])
    # The fire's identity as stored: (job id, scheduled_for as text, shard).
    fire_keys = [(r["job_id"], bind("scheduled_for", r["scheduled_for"]), r["shard"])
                 if _is_fire(r) else None for r in rows]
    fires = [key for key in fire_keys if key is not None]
    taken: set[tuple[int, str, str]] = set()
    if fires:
        # The engine is the only writer of runs on SQLite; this look-up (on the partial
        # unique index: the predicate is literal) keeps a recorded fire from a second row,
        # and the index itself refuses one should anything slip past.
        job_ids = ",".join(str(int(job_id)) for job_id in sorted({f[0] for f in fires}))
        times = sorted({f[1] for f in fires})
        found = conn.exec_driver_sql(
            "SELECT job_id, scheduled_for, shard FROM run "
            "WHERE trigger IN ('schedule', 'catch-up') "
            f"AND job_id IN ({job_ids}) AND scheduled_for BETWEEN ? AND ?",
            (times[0], times[-1]))
        taken = {(job_id, when, shard) for job_id, when, shard in found}
    keep: list[int] = []
    for index, key in enumerate(fire_keys):
        if key is not None:
            if key in taken:
                continue
            taken.add(key)  # the same fire twice in one batch: the first only
        keep.append(index)
    ids: list[int | None] = [None] * len(rows)
    if keep and "job_id" in keys and _sqlite_version(conn) >= (3, 38):
        # A burst's rows differ in their job only: one INSERT ... SELECT per set of the
        # other values, over the job ids as a JSON array, with those values bound once.
        rest = [key for key in keys if key != "job_id"]
        shared = itemgetter(*rest)
        groups: dict[tuple, list[int]] = {}
        for index in keep:
            groups.setdefault(shared(rows[index]), []).append(index)
        sql = (f"INSERT INTO run (\"job_id\", {_quoted(rest)}) SELECT value, "
               f"{', '.join('?' * len(rest))} FROM json_each(?) ORDER BY key")
        for values, members in groups.items():
            conn.exec_driver_sql(sql, (
                *(bind(key, value) for key, value in zip(rest, values, strict=True)),
                json.dumps([int(rows[index]["job_id"]) for index in members])))
            _take_ids(conn, members, ids)
    elif keep:
        head = f"INSERT INTO run ({_quoted(keys)}) VALUES "
        one = f"({', '.join('?' * len(keys))})"
        for chunk in _chunks(conn, keep, len(keys)):
            conn.exec_driver_sql(head + ", ".join([one] * len(chunk)), tuple(
                bind.flat(keys, [rows[index] for index in chunk])))
            _take_ids(conn, chunk, ids)
    job_bind = _Binder(conn, _jobs)
    for mark, marked in _fire_marks(rows[index] for index in keep).items():
        value = job_bind("last_fire_at", mark)
        conn.exec_driver_sql(
            "UPDATE job SET last_fire_at = ? WHERE id IN "
            f"({','.join(str(int(job_id)) for job_id in marked)}) "
            "AND (last_fire_at IS NULL OR last_fire_at < ?)", (value, value))
    return ids


# Statements, not rows, are what cost under load: the driver lets go of the interpreter
# lock around every statement (every row of an executemany), and taking it back from busy
# threads can take a whole switch interval (5 ms). An 800-row executemany measured 6 ms
# on a quiet process and 580 ms beside three busy threads; one multi-row statement, 34 ms.
_MAX_ROWS = 500


def _chunks(conn: Connection, items: list, columns: int) -> list[list]:
    limit = 32766 if _sqlite_version(conn) >= (3, 32) else 999
    size = max(1, min(_MAX_ROWS, limit // columns))
    return [items[start:start + size] for start in range(0, len(items), size)]


def _sqlite_version(conn: Connection) -> tuple[int, ...]:
    """The SQLite library's version (only asked of SQLite connections)."""
    dbapi = conn.dialect.dbapi
    assert dbapi is not None  # a connected dialect always has its driver module
    version: tuple[int, ...] = dbapi.sqlite_version_info
    return version


def _take_ids(conn: Connection, members: list[int], ids: list[int | None]) -> None:
    """The ids of the rows the last statement inserted, for ``members`` in order.

    Rows inserted without an id get max(id)+1 each, in the order inserted, and the
    transaction holds the write lock from its first row on: they are the last ones."""
    last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
    for offset, index in enumerate(members):
        ids[index] = last - len(members) + 1 + offset


def _update_many(conn: Connection, table, by_keys: dict[tuple[str, ...], list[dict[str, Any]]],
                 ) -> None:
    """UPDATE table SET <keys> WHERE id = b_id for many rows: on SQLite one UPDATE ... FROM
    (VALUES ...) per 500 rows and set of keys; elsewhere an executemany."""
    if conn.dialect.name != "sqlite" or _sqlite_version(conn) < (3, 33):
        for params in by_keys.values():
            conn.execute(_update_by_id(table), params)
        return
    bind = _Binder(conn, table)
    for keys, params in by_keys.items():
        sets = ", ".join(f'"{key}" = v.column{number}'
                         for number, key in enumerate(keys, start=2))
        one = f"({', '.join('?' * (len(keys) + 1))})"
        for chunk in _chunks(conn, params, len(keys) + 1):
            conn.exec_driver_sql(
                f"UPDATE {table.name} SET {sets} FROM (VALUES {', '.join([one] * len(chunk))})"
                f" AS v WHERE {table.name}.id = v.column1",
                tuple(bind.flat(("b_id", *keys), chunk)))


def mark_running(run_id: int, *, started_at: datetime, host: str, owner: str):
    def op(conn: Connection) -> None:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(
            status="running", started_at=started_at, heartbeat_at=started_at, host=host,
            owner=owner))
    return op


def finish_values(*, status: str, exit_code: int | None, error: str,
                  progress: tuple[float | None, float | None, str] | None, output_bytes: int,
                  started_at: datetime | None = None) -> dict[str, Any]:
    """The columns a run's end writes (``started_at`` too when the row's was provisional)."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "exit_code": exit_code,
                              "error": error[:500], "output_bytes": output_bytes}
    if progress is not None:
        values.update(progress_done=progress[0], progress_total=progress[1],
                      progress_message=progress[2][:500])
    if started_at is not None:
        values["started_at"] = started_at
    return values


def finish_run(run_id: int, *, status: str, exit_code: int | None, error: str,
               progress: tuple[float | None, float | None, str] | None, output_bytes: int,
               job_state: tuple[int, dict[str, Any]] | None = None,
               started_at: datetime | None = None):
    values = finish_values(status=status, exit_code=exit_code, error=error, progress=progress,
                           output_bytes=output_bytes, started_at=started_at)

    def op(conn: Connection) -> dict[int, str]:
        return apply_finishes(conn, [(run_id, values, job_state)])
    return op


Finish = tuple[int, dict[str, Any], "tuple[int, dict[str, Any]] | None"]
"""(run id, the columns from ``finish_values``, (job id, state to save) or None)."""


def apply_finishes(conn: Connection, finishes: list[Finish]) -> dict[int, str]:
    """Record the end of many runs: one executemany per set of columns, not one
    statement per run (a burst of a thousand short runs ends in a handful of these).

    Returns the runs left alone because another engine settled them first (run id ->
    the status it recorded): their end here must not overwrite that decision."""
    settled = _settled_elsewhere(conn, [run_id for run_id, _, _ in finishes])
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    states: list[dict[str, Any]] = []
    for run_id, values, job_state in finishes:
        if run_id in settled:
            continue
        by_keys.setdefault(tuple(values), []).append({"b_id": run_id, **values})
        if job_state is not None:
            states.append({"b_id": job_state[0], "state": json.dumps(
                job_state[1], sort_keys=True, default=str)})
    _update_many(conn, _runs, by_keys)
    if states:
        _update_many(conn, _jobs, {("state",): states})
    return settled


OPEN_STATUSES = ("running", "scheduled")
"""A run in one of these has no outcome yet; any other status is final."""


def _settled_elsewhere(conn: Connection, run_ids: list[int]) -> dict[int, str]:
    """On a shared database: which of these runs already have an outcome (a survivor
    took this engine's runs over while it was frozen). The rows stay locked until the
    commit, so none is settled between this look and the update. SQLite has one engine,
    the only writer of its runs: nothing to look at there."""
    if conn.dialect.name == "sqlite" or not run_ids:
        return {}
    rows = conn.execute(select(_runs.c.id, _runs.c.status).where(_runs.c.id.in_(run_ids))
                        .order_by(_runs.c.id).with_for_update())
    return {run_id: status for run_id, status in rows if status not in OPEN_STATUSES}


def _update_by_id(table):
    # The SET clause comes from the parameter keys; the id is bound under another name
    # (SQLAlchemy reserves column names for the SET clause).
    return update(table).where(table.c.id == bindparam("b_id"))


def live_updates(rows: list[dict[str, Any]]):
    """Progress, pid and heartbeat of many running runs, one executemany per column set."""
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = {key: value for key, value in row.items() if key != "id"}
        by_keys.setdefault(tuple(values), []).append({"b_id": row["id"], **values})

    def op(conn: Connection) -> None:
        _update_many(conn, _runs, by_keys)
    return op


def set_status(run_id: int, status: str, error: str = ""):
    def op(conn: Connection) -> None:
        conn.execute(update(_runs).where(_runs.c.id == run_id)
                     .values(status=status, error=error[:500], finished_at=utcnow()))
    return op


def unstart(run_id: int, status: str, error: str):
    """A run recorded as starting that never did (its fire came too late): settled as
    ``status`` with no start, host or owner, as if it had been decided so at once."""
    def op(conn: Connection) -> None:
        conn.execute(update(_runs).where(_runs.c.id == run_id)
                     .values(status=status, error=error[:500], started_at=None, host="",
                             owner="", finished_at=utcnow()))
    return op


def settle(run_id: int, status: str, error: str, *, was: str, owner: str):
    """Give a run left by a dead engine its outcome, unless someone settled it first (the
    engine itself, or another survivor); the op returns whether this one did."""
    def op(conn: Connection) -> bool:
        result = conn.execute(update(_runs).where(_runs.c.id == run_id)
                              .where(_runs.c.status == was, _runs.c.owner == owner)
                              .values(status=status, error=error[:500], finished_at=utcnow()))
        return result.rowcount == 1
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
