"""A dropped SSH session: SIGHUP (or SIGTERM) to a console with its own engine shuts the
engine down as ``q`` + yes does: the running job is stopped, its run recorded with the
right end time, the terminal given back. A console attached to a daemon just goes, and
the daemon's job keeps running. The real console in a pseudo-terminal."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

import psutil
import pytest

from tests.engine.test_crash_recovery import start_daemon, wait_engine
from tests.functional.pty_console import PtyConsole
from tests.helpers import runs_of, wait_for
from tui_scheduler.store.jobs import create_job

LEAVE_ALT_SCREEN = "\x1b[?1049l"


@pytest.fixture
def long_job(store, tmp_path):
    """A job that sleeps; its process is killed at the end should a test fail."""
    pidfile = tmp_path / "job.pid"
    job = create_job(store, {"name": "long", "schedule": "manual", "stop_grace_s": 1,
                             "target": f"echo $$ > {pidfile}; exec sleep 300"})
    yield job, pidfile
    if pidfile.exists() and not _gone(pid := int(pidfile.read_text())):
        os.kill(pid, signal.SIGKILL)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _start_in_console(store, term, job, pidfile) -> int:
    assert term.wait_for("long"), term.text
    wait_for(lambda: "engine running" in term.text or "attached to engine" in term.text,
             timeout=20, what="the engine")
    term.press("r")
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=20,
             what="the job to start")
    wait_for(lambda: runs_of(store, job.id) and runs_of(store, job.id)[-1].status == "running",
             what="the run to be recorded running")
    return int(pidfile.read_text())


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_signal_to_the_console_stops_and_records_its_runs(store, db_path, long_job, sig):
    job, pidfile = long_job
    term = PtyConsole("--db", db_path)
    job_pid = _start_in_console(store, term, job, pidfile)
    sent = datetime.now(UTC)
    os.kill(term.pid, sig)
    assert term.wait(8) == 0, term.text
    run = runs_of(store, job.id)[-1]
    assert run.status == "stopped" and "engine shut down" in run.error, run
    assert abs((run.finished_at - sent).total_seconds()) < 2.0, (run.finished_at, sent)
    assert _gone(job_pid)
    assert LEAVE_ALT_SCREEN in term.text  # the driver gave the terminal back


def test_a_closed_terminal_stops_and_records_its_runs(store, db_path, long_job):
    """What sshd's disconnect really does: the terminal goes away (the kernel sends
    SIGHUP) and every later write to it fails."""
    job, pidfile = long_job
    term = PtyConsole("--db", db_path)
    job_pid = _start_in_console(store, term, job, pidfile)
    sent = datetime.now(UTC)
    term.hang_up()
    term.wait(8)
    run = runs_of(store, job.id)[-1]
    assert run.status == "stopped" and "engine shut down" in run.error, run
    assert abs((run.finished_at - sent).total_seconds()) < 2.0, (run.finished_at, sent)
    assert _gone(job_pid)


def test_sighup_to_an_attached_console_leaves_the_daemon_running(store, db_path, long_job):
    job, pidfile = long_job
    daemon = start_daemon(db_path)
    try:
        wait_engine(store, daemon)
        term = PtyConsole("--db", db_path)
        assert term.wait_for("attached to engine"), term.text
        job_pid = _start_in_console(store, term, job, pidfile)
        os.kill(term.pid, signal.SIGHUP)
        assert term.wait(8) == 0, term.text
        assert LEAVE_ALT_SCREEN in term.text
        time.sleep(1.0)
        assert runs_of(store, job.id)[-1].status == "running"
        assert not _gone(job_pid) and daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
