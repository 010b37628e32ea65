"""A daemon process driven by the CLI: run, stop, log --follow, edits picked up live."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.engine.test_crash_recovery import cli, start_daemon, wait_engine
from tests.helpers import runs_of, wait_for
from tui_scheduler.store.jobs import create_job, get_job


def test_cli_drives_a_running_daemon(store, db_path):
    slow = create_job(store, {"name": "slow", "schedule": "manual", "stop_grace_s": 1,
                              "target": "for i in 1 2 3 4 5 6 7 8 9; do echo line $i; "
                                        "sleep 0.3; done; sleep 300"})
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        started = cli(db_path, "run", "slow")
        assert started.returncode == 0 and "started run" in started.stdout
        run_id = wait_for(lambda: next((r.id for r in runs_of(store, slow.id)
                                        if r.status == "running"), None), what="a run")
        follower = subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", db_path,
                                     "log", str(run_id), "--follow"],
                                    stdout=subprocess.PIPE, text=True)
        time.sleep(3.2)  # the job prints its nine lines, then sleeps
        stopped = cli(db_path, "stop", "slow")
        assert stopped.returncode == 0 and "stopping" in stopped.stdout
        out, _ = follower.communicate(timeout=20)
        assert follower.returncode == 0
        assert out.splitlines()[:9] == [f"line {i}" for i in range(1, 10)]
        run = runs_of(store, slow.id)[-1]
        assert run.status == "stopped" and "operator" in run.error
        nothing = cli(db_path, "stop", "slow")
        assert nothing.returncode == 1 and "no running run" in nothing.stderr
        assert cli(db_path, "run", "slow").returncode == 0
        wait_for(lambda: any(r.status == "running" for r in runs_of(store, slow.id)),
                 what="a second run")
        killed = cli(db_path, "stop", "slow", "--kill")
        assert killed.returncode == 0 and "killing (SIGKILL)" in killed.stdout, killed.stdout
        wait_for(lambda: all(r.status != "running" for r in runs_of(store, slow.id)),
                 what="the killed run to end")

        # An edit made by the CLI reaches the daemon without a restart.
        assert cli(db_path, "add", "ticker", "--cron", "* * * * * *", "--command",
                   "true").returncode == 0
        ticker = get_job(store, "ticker")
        wait_for(lambda: len(runs_of(store, ticker.id)) >= 2, timeout=10,
                 what="the new job to fire in the daemon")
        assert cli(db_path, "pause", "ticker").returncode == 0
        time.sleep(1.0)
        count = len(runs_of(store, ticker.id))
        time.sleep(2.5)
        assert len(runs_of(store, ticker.id)) == count  # paused: no more fires
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_reboot_jobs_fire_when_the_engine_starts(store, make_engine):
    job = create_job(store, {"name": "boot", "schedule": "@reboot", "target": "echo up"})
    engine = make_engine()
    wait_for(lambda: [r.status for r in runs_of(store, job.id)] == ["succeeded"],
             what="the @reboot run")
    assert runs_of(store, job.id)[0].scheduled_for == engine.started_at


def test_sighup_reloads_and_drain_lets_runs_finish(store, db_path):
    import sqlite3

    job = create_job(store, {"name": "finisher", "schedule": "manual",
                             "target": "sleep 1.5; echo finished"})
    proc = subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", db_path, "daemon",
                             "--drain", "20s"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_engine(store, proc)
        # A change written behind the engine's back (no change counter): SIGHUP finds it.
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE job SET schedule = '* * * * * *' WHERE name = 'finisher'")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(r.trigger == "schedule" for r in runs_of(store, job.id)),
                 timeout=10, what="the reloaded schedule to fire")
        wait_for(lambda: any(r.status == "running" for r in runs_of(store, job.id)),
                 what="a running run")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read()
    assert "reloading job definitions" in output and "letting 1 running jobs finish" in output
    runs = [r for r in runs_of(store, job.id) if r.status != "skipped"]
    assert runs[-1].status == "succeeded"  # drained, not stopped
    assert not [r for r in runs if r.status in ("running", "stopped")]


def test_service_unit_names_the_database_and_restarts_on_failure(db_path):
    result = cli(db_path, "service-unit", "--drain", "2m")
    assert result.returncode == 0
    unit = result.stdout
    assert f"--db {db_path} daemon --drain 120s" in unit
    assert "Restart=on-failure" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert "WantedBy=default.target" in unit
    system = cli(db_path, "service-unit", "--system").stdout
    assert "WantedBy=multi-user.target" in system and "User=" in system
