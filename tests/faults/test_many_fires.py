"""Exactly one engine per database, and every fire accounted for under load."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.engine.test_crash_recovery import start_daemon
from tests.helpers import wait_for
from tui_scheduler.engine.lock import read_holder
from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import Run


def all_runs(store) -> list[Run]:
    with store.session() as session:
        return list(session.exec(select(Run)).all())


def test_two_daemons_one_engine_each_fire_once(store, db_path):
    jobs = [create_job(store, {"name": f"tick-{i}", "schedule": "* * * * * *",
                               "target": "true"}) for i in range(10)]
    first, second = start_daemon(db_path), start_daemon(db_path)
    try:
        wait_for(lambda: read_holder(store) is not None, timeout=20, what="an engine")
        loser = wait_for(lambda: next((p for p in (first, second) if p.poll() is not None),
                                      None), timeout=20, what="the second daemon to refuse")
        output = loser.stdout.read()
        assert loser.returncode == 1 and "another engine is running" in output
        winner = first if loser is second else second
        assert read_holder(store).pid == winner.pid
        third = subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", db_path,
                                "daemon"], capture_output=True, text=True, timeout=60,
                               check=False)
        assert third.returncode == 1 and f"pid {winner.pid}" in third.stderr
        wait_for(lambda: len([r for r in all_runs(store) if r.status != "missed"]) >= 200,
                 timeout=60, what="200 fires")
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    runs = all_runs(store)
    per_fire = Counter((r.job_id, r.scheduled_for) for r in runs)
    assert max(per_fire.values()) == 1
    for job in jobs:
        times = sorted(r.scheduled_for for r in runs if r.job_id == job.id)
        span = int((times[-1] - times[0]).total_seconds()) + 1
        assert len(times) == span  # no second without its record
    assert len({r.host for r in runs if r.status == "succeeded"}) == 1
    assert {r.owner.rsplit(":", 1)[1] for r in runs if r.owner} == {str(winner.pid)}


@pytest.mark.slow
def test_500_jobs_every_second_for_a_minute(store, make_engine, tmp_path, monkeypatch):
    module = tmp_path / "fault_noop.py"
    module.write_text("def noop(ctx):\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    jobs = [create_job(store, {"name": f"n{i}", "schedule": "* * * * * *", "kind": "python",
                               "target": "fault_noop:noop"}) for i in range(500)]
    engine = make_engine()
    start = engine.started_at
    time.sleep(60)
    engine.shutdown()
    end = start + timedelta(seconds=60)
    runs = [r for r in all_runs(store) if r.scheduled_for and start < r.scheduled_for <= end
            - timedelta(seconds=2)]
    per_fire = Counter((r.job_id, r.scheduled_for) for r in runs)
    assert max(per_fire.values()) == 1
    statuses = Counter(r.status for r in runs)
    assert set(statuses) <= {"succeeded", "skipped", "missed", "stopped"}, statuses
    seconds = {r.scheduled_for for r in runs}
    expected = len(jobs) * len(seconds)
    assert len(runs) == expected, (len(runs), expected, statuses)
    print(f"\n{len(runs)} fires: {dict(statuses)}")
