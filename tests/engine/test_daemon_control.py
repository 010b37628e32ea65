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
