"""The overlap policy holds across engines: with three engines sharing one PostgreSQL
database, a job whose run outlasts its interval never has two runs at once, whichever
engines claim its fires (`skip` records the extra fires, `queue` starts them one after
another)."""

from __future__ import annotations

import signal
import time
from itertools import pairwise

import pytest

from tests.helpers import runs_of, wait_for
from tests.postgres.test_postgres import daemon, live_engines
from tui_scheduler.store.jobs import create_job


def assert_never_two_at_once(runs) -> None:
    ran = sorted((r for r in runs if r.started_at is not None and r.status != "skipped"),
                 key=lambda r: r.started_at)
    for before, after in pairwise(ran):
        assert before.finished_at is not None and after.started_at >= before.finished_at, (
            f"run #{after.id} ({after.owner}) started at {after.started_at} while run "
            f"#{before.id} ({before.owner}) ran until {before.finished_at}")


def three_engines_for(pg_url, pg_store, seconds: float) -> None:
    engines = [daemon(pg_url) for _ in range(3)]
    try:
        wait_for(lambda: live_engines(pg_store) == 3, timeout=30, what="three engines")
        time.sleep(seconds)
    finally:
        for proc in engines:
            proc.send_signal(signal.SIGTERM)
        for proc in engines:
            proc.wait(timeout=30)


@pytest.mark.slow
def test_skip_overlap_holds_across_engines(pg_url, pg_store):
    job = create_job(pg_store, {"name": "slow", "schedule": "* * * * * *",
                                "target": "sleep 2.5", "overlap": "skip"})
    three_engines_for(pg_url, pg_store, 9)
    runs = runs_of(pg_store, job.id)
    assert_never_two_at_once(runs)
    ran = [r for r in runs if r.status == "succeeded"]
    skipped = [r for r in runs if r.status == "skipped"]
    assert len(ran) >= 2 and len(skipped) >= 4, [(r.status, r.error) for r in runs]
    assert any("another engine" in r.error for r in skipped), [r.error for r in skipped]


@pytest.mark.slow
def test_queue_overlap_holds_across_engines(pg_url, pg_store):
    job = create_job(pg_store, {"name": "queued", "schedule": "*/2 * * * * *",
                                "target": "sleep 3", "overlap": "queue"})
    three_engines_for(pg_url, pg_store, 13)
    runs = runs_of(pg_store, job.id)
    assert_never_two_at_once(runs)
    ran = [r for r in runs if r.started_at is not None and r.status != "skipped"]
    assert len(ran) >= 3, [(r.status, r.owner, r.error) for r in runs]
    # The fires no engine could start at once waited and ran (or were marked missed when
    # the engines shut down); none was dropped.
    assert {r.status for r in runs} <= {"succeeded", "stopped", "missed", "scheduled"}
