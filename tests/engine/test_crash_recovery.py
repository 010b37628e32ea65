"""Crash safety: an engine process killed with SIGKILL mid-run, then a restart.

Runs left running become ``interrupted``, restartable jobs run again, fires missed while
no engine ran follow each job's misfire policy, and the database passes integrity_check.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

import psutil
import pytest

from tests.helpers import runs_of, wait_for
from tui_scheduler.engine.lock import EngineLockedError, read_holder
from tui_scheduler.store.jobs import create_job


def start_daemon(db_path: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", db_path, "daemon"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc


def wait_engine(store, proc) -> None:
    wait_for(lambda: (h := read_holder(store)) is not None and h.pid == proc.pid, timeout=20,
             what="the daemon to take the lock")


def cli(db_path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", db_path, *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_sigkill_mid_run_then_restart(store, db_path, make_engine, tmp_path):
    pidfile = tmp_path / "plain.pid"
    plain = create_job(store, {"name": "plain", "schedule": "manual",
                               "target": f"echo $$ > {pidfile}; sleep 300"})
    again = create_job(store, {"name": "again", "schedule": "manual", "restartable": True,
                               "target": "echo attempt $TUI_SCHEDULER_TRIGGER; sleep 1"})
    every = create_job(store, {"name": "every", "schedule": "* * * * * *", "target": "true",
                               "misfire": "skip"})
    once = create_job(store, {"name": "once", "schedule": "* * * * * *", "target": "true",
                              "misfire": "once"})
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        for name in ("plain", "again"):
            assert cli(db_path, "run", name).returncode == 0
        wait_for(lambda: pidfile.exists() and all(
            any(r.status == "running" and r.pid for r in runs_of(store, j.id))
            for j in (plain, again)), what="both runs to be running with pids")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    job_pid = int(pidfile.read_text())
    assert psutil.pid_exists(job_pid)  # the job outlives its engine...
    time.sleep(3)  # ...and fires are missed while no engine runs
    killed_at = max(r.scheduled_for for r in runs_of(store, every.id) if r.scheduled_for)
    once_killed_at = max(r.scheduled_for for r in runs_of(store, once.id) if r.scheduled_for)

    engine = make_engine()
    plain_runs = runs_of(store, plain.id)
    assert [r.status for r in plain_runs] == ["interrupted"]
    assert "engine stopped" in plain_runs[0].error
    wait_for(lambda: not psutil.pid_exists(job_pid) or
             psutil.Process(job_pid).status() == psutil.STATUS_ZOMBIE,
             what="the orphaned job to be stopped")  # ...until recovery stops it

    wait_for(lambda: [(r.trigger, r.status) for r in runs_of(store, again.id)] ==
             [("manual", "interrupted"), ("restart", "succeeded")], timeout=10,
             what="the restartable job to run again")
    assert runs_of(store, again.id)[1].attempt == 2

    start = engine.started_at
    every_runs = runs_of(store, every.id)
    missed = [r for r in every_runs if r.status == "missed"]
    assert len(missed) >= 2
    assert all("no engine was running" in r.error for r in missed)
    # Every second from the first fire to the restart is accounted for exactly once.
    seconds = sorted(r.scheduled_for for r in every_runs if r.scheduled_for <= start)
    assert len(seconds) == len(set(seconds))
    expected = int((seconds[-1] - seconds[0]).total_seconds()) + 1
    assert len(seconds) == expected
    downtime = [r for r in every_runs if killed_at < r.scheduled_for <= start]
    assert len(downtime) >= 2 and {r.status for r in downtime} == {"missed"}

    once_runs = [r for r in runs_of(store, once.id) if once_killed_at < r.scheduled_for <= start]
    catch_up = [r for r in once_runs if r.trigger == "catch-up"]
    assert len(catch_up) == 1
    assert catch_up[0].scheduled_for == max(r.scheduled_for for r in once_runs)
    engine.shutdown()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_misfire_all_replays_up_to_the_limit(store, make_engine):
    from tui_scheduler.store.models import Job
    job = create_job(store, {"name": "all", "schedule": "* * * * * *", "target": "true",
                             "misfire": "all", "catchup_limit": 3})
    with store.session() as session:
        row = session.get(Job, job.id)
        row.created_at = row.created_at - timedelta(seconds=10)
        session.add(row)
        session.commit()
    make_engine()
    wait_for(lambda: len([r for r in runs_of(store, job.id)
                          if r.trigger == "catch-up" and r.status == "succeeded"]) == 3,
             what="three catch-up runs")
    runs = runs_of(store, job.id)
    assert len([r for r in runs if r.status == "missed"]) >= 6


def test_second_engine_refuses_then_takes_over_a_dead_holder(store, db_path, make_engine):
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        with pytest.raises(EngineLockedError) as info:
            make_engine()
        message = str(info.value)
        assert f"pid {proc.pid}" in message and "host" in message and "since" in message
        result = cli(db_path, "daemon")
        assert result.returncode == 1
        assert "another engine is running" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    engine = make_engine()
    assert engine.lock.previous.pid == proc.pid


def test_daemon_sigterm_stops_runs_and_records_them(store, db_path):
    job = create_job(store, {"name": "long", "schedule": "manual", "target": "sleep 300",
                             "stop_grace_s": 2})
    proc = start_daemon(db_path)
    wait_engine(store, proc)
    assert cli(db_path, "run", "long").returncode == 0
    wait_for(lambda: any(r.status == "running" for r in runs_of(store, job.id)),
             what="the run to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    run = runs_of(store, job.id)[-1]
    assert run.status == "stopped" and "engine shut down" in run.error
    assert read_holder(store) is None


def test_engine_lock_is_not_fooled_by_a_reused_pid(store, make_engine):
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from tui_scheduler.store.models import EngineLock
    long_ago = datetime.now(UTC) - timedelta(days=365 * 30)
    with store.engine.begin() as conn:
        conn.execute(insert(EngineLock.__table__).values(
            id=1, host=os.uname().nodename, pid=1, token="x", started_at=long_ago,
            heartbeat_at=long_ago))
    # pid 1 is alive, but it started after the lock was taken: not the holder.
    make_engine()
