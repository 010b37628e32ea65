"""The burst write paths against a real SQLite file: many fires recorded in one go store
exactly what SQLAlchemy would, a fire is never recorded twice, many ends are written as
one, and an end never overtakes its run's output. Also the runner pool on its own."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from tests.helpers import wait_for
from tui_scheduler.engine import records
from tui_scheduler.engine.batching import FinishBatcher, OrderedWriter
from tui_scheduler.engine.pool import RunnerPool
from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import Run
from tui_scheduler.store.writer import BatchWriter

DUE = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
STARTED = datetime(2030, 1, 2, 4, 4, 5, 250, tzinfo=timezone(timedelta(hours=1)))


def _jobs(store, count):
    return [create_job(store, {"name": f"j{i}", "target": "true"}).id for i in range(count)]


def _raw(store, sql, *args):
    with sqlite3.connect(store.location) as conn:
        return conn.execute(sql, args).fetchall()


def test_many_fires_store_what_sqlalchemy_stores(store):
    ids = _jobs(store, 3)
    row = records.run_row(job_id=ids[0], trigger="schedule", status="running",
                          scheduled_for=DUE, started_at=STARTED, params={"b": 1, "a": [2]},
                          host="h", owner="h:1", created_at=STARTED)
    with store.engine.begin() as conn:
        conn.execute(insert(Run.__table__), [dict(row, job_id=ids[1])])
        [run_id] = records.insert_runs([row])(conn)
    columns = ("trigger, status, scheduled_for, created_at, started_at, finished_at, params, "
               "host, owner, heartbeat_at, output_truncated, shard")
    ours = _raw(store, f"SELECT {columns} FROM run WHERE id = ?", run_id)
    theirs = _raw(store, f"SELECT {columns} FROM run WHERE job_id = ?", ids[1])
    assert ours == theirs
    assert _raw(store, "SELECT job_id FROM run WHERE id = ?", run_id) == [(ids[0],)]
    assert _raw(store, "SELECT last_fire_at FROM job WHERE id = ?", ids[0]) == \
        [(ours[0][2],)]


def test_a_fire_is_recorded_once_however_it_arrives(store):
    ids = _jobs(store, 600)

    def fire(job_id, trigger="schedule", when=DUE):
        return records.run_row(job_id=job_id, trigger=trigger, status="running",
                               scheduled_for=when)

    batch = [fire(job_id) for job_id in ids] + [fire(ids[0]), fire(ids[1], "manual")]
    with store.engine.begin() as conn:
        got = records.insert_runs(batch)(conn)
    assert all(isinstance(run_id, int) for run_id in got[:600])
    assert got[600] is None  # the same fire twice in one batch: once
    assert isinstance(got[601], int)  # a manual run is not a fire
    stored = dict(_raw(store, "SELECT id, job_id FROM run"))
    assert all(stored[run_id] == row["job_id"] for run_id, row in zip(got, batch, strict=True)
               if run_id is not None)
    with store.engine.begin() as conn:
        again = records.insert_runs([fire(ids[5]), fire(ids[5], when=DUE + timedelta(1))])(conn)
    assert again[0] is None and isinstance(again[1], int)
    # The unique index is still the last word.
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(Run.__table__), [fire(ids[7])])


def test_many_ends_write_what_one_end_writes(store):
    ids = _jobs(store, 2)
    with store.engine.begin() as conn:
        runs = records.insert_runs([records.run_row(
            job_id=job_id, trigger="manual", status="running", scheduled_for=None,
            started_at=STARTED) for job_id in ids])(conn)
    values = {"status": "failed", "exit_code": 3, "error": "x" * 600,
              "progress": (2.0, 4.0, "half"), "output_bytes": 12, "started_at": STARTED}
    with store.engine.begin() as conn:
        records.finish_run(runs[0], job_state=(ids[0], {"n": 1}), **values)(conn)
        records.apply_finishes(conn, [(runs[1], records.finish_values(**values),
                                       (ids[1], {"n": 1}))])
    columns = ("status, exit_code, error, progress_done, progress_total, progress_message, "
               "output_bytes, started_at, length(finished_at)")
    one, many = (_raw(store, f"SELECT {columns} FROM run WHERE id = ?", run_id)
                 for run_id in runs)
    assert one == many and one[0][2] == "x" * 500
    assert _raw(store, "SELECT DISTINCT state FROM job") == [('{"n": 1}',)]


def test_an_end_waits_behind_its_runs_output(store):
    writer = BatchWriter(store)  # not started yet: everything stays queued, in order
    ordered = OrderedWriter(writer)
    batcher = FinishBatcher(ordered)
    quiet, chatty = ordered.for_run(), ordered.for_run()
    first = batcher.add((1, {"status": "succeeded"}, None), after=quiet.last)
    chatty.submit(lambda conn: None)  # output written after that gathering was queued
    second = batcher.add((2, {"status": "succeeded"}, None), after=chatty.last)
    third = batcher.add((3, {"status": "succeeded"}, None), after=quiet.last)
    assert second is not first  # would have been written before its output
    assert third is second  # nothing of its own in between: joins the open one
    held = batcher.add((4, {"status": "succeeded"}, None), hold=True)
    assert not held.done()
    batcher.flush()
    writer.start()
    try:
        for future in (first, second, held):
            future.result(10)  # rows 1-4 do not exist: the UPDATEs change nothing
    finally:
        writer.close()


def test_pool_runs_each_item_once_within_its_limit_in_order():
    lock = threading.Lock()
    running, peak, order = [0], [0], []

    def work(item):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            order.append(item)
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    pool = RunnerPool(work, name="t", limit=3, grow_after_s=60)
    pool.submit_many(list(range(20)))
    wait_for(lambda: len(order) == 20 and not running[0], what="all items")
    assert sorted(order) == list(range(20)) and peak[0] == 3
    assert order[3:] == list(range(3, 20))  # beyond the limit: first in, first out
    pool.close()


def test_pool_grows_past_a_stuck_item_and_shrinks_when_idle():
    release = threading.Event()
    done: list[int] = []

    def work(item):
        if item == 0:
            release.wait(10)
        done.append(item)

    pool = RunnerPool(work, name="t", limit=1, grow_after_s=0.1, idle_s=0.2)
    pool.submit_many([0, 1, 2, 3])
    time.sleep(0.05)
    pool.maintain()
    assert pool.queued == 3  # not waited long enough yet
    time.sleep(0.1)
    while pool.queued:
        pool.maintain()
        time.sleep(0.02)
    wait_for(lambda: sorted(done) == [1, 2, 3], what="the queue to move past the stuck item")
    release.set()
    wait_for(lambda: pool.threads == 0, what="idle threads to leave")
    pool.close()


def test_a_python_job_sees_a_stop_asked_before_it_looked():
    from tui_scheduler.engine.pyjob import JobContext

    ctx = JobContext(run_id=1, job_name="j", params={}, trigger="manual",
                     _on_line=lambda stream, line: None, _on_progress=lambda progress: None)
    assert not ctx.should_stop
    ctx._ask_to_stop()
    assert ctx.should_stop and ctx.stopping.is_set() and ctx.stopping.wait(0)
    later = JobContext(run_id=2, job_name="j", params={}, trigger="manual",
                       _on_line=lambda stream, line: None, _on_progress=lambda progress: None)
    event = later.stopping
    assert not event.wait(0.01)
    later._ask_to_stop()
    assert event.is_set() and later.stopping is event
