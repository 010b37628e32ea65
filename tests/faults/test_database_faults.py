"""The database fights back: another writer holds the lock for seconds; the disk fills up.

No error escapes the engine, nothing is lost or half-written, and the engine says what
is wrong while it waits.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from datetime import UTC, datetime

from sqlalchemy import event

from tests.helpers import finished_runs, output_text, runs_of, wait_for
from tui_scheduler.engine.events import EngineTrouble
from tui_scheduler.store.jobs import create_job

COUNTER = "for i in $(seq 1 40); do echo line $i; sleep 0.05; done"


def test_long_foreign_write_lock_loses_nothing(store, db_path, make_engine):
    job = create_job(store, {"name": "talker", "target": COUNTER})
    engine = make_engine()
    run = engine.run_now(job.id)
    time.sleep(0.3)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("UPDATE meta SET value = value")
    time.sleep(3.0)  # heartbeats, output and the run's end all queue behind this lock
    blocker.execute("COMMIT")
    blocker.close()
    assert run.finished.wait(20)
    record = finished_runs(store, job.id)[-1]
    assert record.status == "succeeded"
    assert [line for _, line in output_text(store, record.id)] == \
        [f"line {i}" for i in range(1, 41)]
    assert engine.writer.trouble is None


def test_disk_full_is_reported_and_nothing_is_half_written(store, make_engine):
    limit = {"pages": None}

    @event.listens_for(store.engine, "checkout")
    def cap_pages(dbapi_connection, _record, _proxy):
        # SQLite's page cap makes writes fail with SQLITE_FULL, as a full disk does.
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages'] or 1073741823}")

    job = create_job(store, {"name": "writer", "target": "head -c 3000000 /dev/zero | "
                                                       "tr '\\0' 'x' | fold -w 100"})
    engine = make_engine()
    troubles: list[str | None] = []
    engine.bus.subscribe(lambda e: troubles.append(e.message)
                         if isinstance(e, EngineTrouble) else None)
    with sqlite3.connect(store.location) as conn:
        used = conn.execute("PRAGMA page_count").fetchone()[0]
    limit["pages"] = used + 5
    engine.writer._drop_connection()  # the next batch connects with the cap
    run = engine.run_now(job.id)
    wait_for(lambda: any(troubles), timeout=20, what="the engine to report the full disk")
    assert "disk is full" in next(t for t in troubles if t)
    assert not run.finished.is_set()
    limit["pages"] = None
    engine.writer._drop_connection()
    assert run.finished.wait(60)
    wait_for(lambda: troubles and troubles[-1] is None, what="the recovery to be reported")
    record = finished_runs(store, job.id)[-1]
    assert record.status == "succeeded"
    lines = output_text(store, record.id)
    assert len(lines) == 30000 and all(line == "x" * 100 for _, line in lines)
    with sqlite3.connect(store.location) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _fill_to_the_cap(path: str, cap: int, filler_job: int) -> None:
    """Insert rows through a connection capped at ``cap`` pages until not even the
    smallest row fits: every page is used and the run table's last page is full, so
    the engine's next run record needs a page the "disk" does not have."""
    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    conn.execute(f"PRAGMA max_page_count = {cap}")
    try:
        for size in (2000, 500, 100, 20, 0):
            while True:
                try:
                    conn.execute(
                        "INSERT INTO run (job_id, trigger, status, created_at, error, attempt,"
                        " host, progress_message, output_bytes, output_truncated, params,"
                        " owner, shard) VALUES (?, 'manual', 'succeeded', "
                        "'2026-01-01 00:00:00', ?, 1, '', '', 0, 0, '{}', '', '')",
                        (filler_job, "f" * size))
                except sqlite3.OperationalError as exc:
                    assert "full" in str(exc), exc
                    break
    finally:
        conn.close()


def test_fires_the_full_disk_kept_from_starting_say_so(store, make_engine):
    """Issue 11 item 6: while no run could be recorded, a 1-second job's fires were
    labelled `skipped: run #N was still running` though run #N had not started (its
    record was waiting for space). Such fires are `missed`, naming the database."""
    limit = {"pages": None}

    @event.listens_for(store.engine, "checkout")
    def cap_pages(dbapi_connection, _record, _proxy):
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages'] or 1073741823}")

    tick = create_job(store, {"name": "tick", "schedule": "* * * * * *", "target": "true"})
    filler = create_job(store, {"name": "filler", "schedule": "manual", "target": "true"})
    engine = make_engine()
    troubles: list[str | None] = []
    engine.bus.subscribe(lambda e: troubles.append(e.message)
                         if isinstance(e, EngineTrouble) else None)
    wait_for(lambda: len(finished_runs(store, tick.id)) >= 2, timeout=10, what="two fires")
    with sqlite3.connect(store.location) as conn:
        cap = conn.execute("PRAGMA page_count").fetchone()[0] + 2
    limit["pages"] = cap
    engine.writer.call(lambda conn: conn.exec_driver_sql(f"PRAGMA max_page_count = {cap}"))
    _fill_to_the_cap(store.location, cap, filler.id)
    wait_for(lambda: any(troubles), timeout=20, what="the engine to report the full disk")
    full_from = datetime.now(UTC)
    time.sleep(5.0)  # five fires fall due while nothing can be recorded
    full_until = datetime.now(UTC)
    limit["pages"] = None  # the writer reconnects after each failure: space is back
    wait_for(lambda: troubles[-1] is None, timeout=30, what="the writes to recover")
    time.sleep(2.5)
    runs = [r for r in runs_of(store, tick.id) if r.scheduled_for is not None]
    during = [r for r in runs if full_from <= r.scheduled_for <= full_until]
    assert len(during) >= 4, [(r.scheduled_for, r.status) for r in runs]
    wrong = [(r.id, r.status, r.error) for r in during if "still running" in r.error]
    assert not wrong, wrong
    missed = [r for r in during if r.status == "missed"]
    assert len(missed) >= 3, [(r.id, r.status, r.error) for r in during]
    # The fires that found the slot taken, and the one held up in it (which follows its
    # misfire policy rather than running late), both name the database and why.
    assert {r.error for r in missed} <= {
        "the database could not record the start: the disk is full; free some space",
        *(r.error for r in missed if r.error.startswith(
            "could not start on time: the database could not record it for ")
          and r.error.endswith("(the disk is full; free some space; misfire policy: skip)"))
    }, {r.error for r in missed}
    assert all(r.finished_at is not None and r.started_at is None for r in missed)
    # No fire ran long after it fell due (the first one held up used to start once space
    # came back, and pushed the next on-time fire out as "still running").
    late = [(r.id, r.status, (r.started_at - r.scheduled_for).total_seconds())
            for r in runs if r.started_at and (r.started_at - r.scheduled_for).total_seconds() > 3]
    assert not late, late
    after = [r for r in runs if r.scheduled_for > full_until and r.status == "skipped"]
    assert not after, [(r.id, r.error) for r in after]
    # Every second still has exactly one record: nothing lost, nothing doubled.
    seconds = sorted(r.scheduled_for for r in runs)
    assert len(set(seconds)) == len(seconds)
    assert all((b - a).total_seconds() == 1.0 for a, b in itertools.pairwise(seconds)), seconds
