"""The engine process dies by SIGKILL: with 20 jobs running, and in the middle of
writing output and progress at a high rate. Nothing stays ``running``, restartable jobs
run again, and the database is intact with every finished run complete."""

from __future__ import annotations

import random
import signal
import sqlite3
import time

import pytest
from sqlmodel import select

from tests.engine.test_crash_recovery import cli, start_daemon, wait_engine
from tests.helpers import runs_of, wait_for
from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import Run


def all_runs(store) -> list[Run]:
    with store.session() as session:
        return list(session.exec(select(Run)).all())


RESUMABLE = 'if [ "$TUI_SCHEDULER_TRIGGER" = restart ]; then echo resumed; else sleep 300; fi'


@pytest.mark.slow
def test_sigkill_with_twenty_runs(store, db_path, make_engine):
    jobs = [create_job(store, {"name": f"j{i}", "schedule": "manual", "restartable": i < 10,
                               "target": RESUMABLE if i < 10 else "sleep 300"})
            for i in range(20)]
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        for job in jobs:
            assert cli(db_path, "run", job.name).returncode == 0
        wait_for(lambda: sum(r.status == "running" for r in all_runs(store)) == 20,
                 timeout=30, what="20 running runs")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    make_engine()
    for job in jobs:
        first = runs_of(store, job.id)[0]
        assert first.status == "interrupted"
    wait_for(lambda: all(
        [(r.trigger, r.status) for r in runs_of(store, job.id)] ==
        [("manual", "interrupted"), ("restart", "succeeded")] for job in jobs[:10]),
        timeout=30, what="the ten restartable jobs to run again")
    for job in jobs[10:]:
        assert len(runs_of(store, job.id)) == 1
    assert not [r for r in all_runs(store) if r.status == "running" and r.trigger != "restart"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


CHATTY = ("i=0; while [ $i -lt 100000 ]; do echo \"$((i % 100))%\"; "
          "echo \"{\\\"progress\\\": 0.5, \\\"message\\\": \\\"line $i\\\"}\"; i=$((i+1)); done")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_power_loss_while_writing_fast(store, db_path, seed):
    for i in range(6):
        create_job(store, {"name": f"chatty{i}", "schedule": "manual", "target": CHATTY})
    quick = create_job(store, {"name": "quick", "schedule": "* * * * * *",
                               "target": "echo done"})
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        for i in range(6):
            assert cli(db_path, "run", f"chatty{i}").returncode == 0
        time.sleep(random.Random(seed).uniform(1.0, 3.0))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finished = [r for r in all_runs(store) if r.status in ("succeeded", "failed")]
    assert any(r.job_id == quick.id for r in finished)
    for run in finished:
        assert run.started_at and run.finished_at and run.exit_code is not None
    result = cli(db_path, "runs", "chatty0", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr
