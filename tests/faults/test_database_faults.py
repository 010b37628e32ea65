"""The database fights back: another writer holds the lock for seconds; the disk fills up.

No error escapes the engine, nothing is lost or half-written, and the engine says what
is wrong while it waits.
"""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import event

from tests.helpers import finished_runs, output_text, wait_for
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
