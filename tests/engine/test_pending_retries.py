"""A retry waiting for its delay is held by pause and can be cancelled: the engine with a
real SQLite file, real processes and short real timers, and the CLI against a daemon."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime

from tests.engine.test_crash_recovery import cli, start_daemon, wait_engine
from tests.helpers import runs_of, wait_for
from tui_scheduler.store.jobs import create_job, set_job_flags

DELAY_S = 2.0


def _failing(store, name="flaky"):
    return create_job(store, {"name": name, "schedule": "manual", "target": "exit 1",
                              "retries": 2, "retry_delay_s": DELAY_S, "retry_backoff": 1.0})


def _set_paused(store, engine, job, paused: bool) -> None:
    set_job_flags(store, job.id, paused=paused)
    engine.reload({job.id})


def _first_attempt_failed(store, make_engine):
    """A failing job run once: (job, engine, its retry waiting for the delay)."""
    job = _failing(store)
    engine = make_engine()
    engine.run_now(job.id)
    return job, engine, _pending_retry(store, job.id)


def _pending_retry(store, job_id):
    """Wait until the first attempt failed and its retry is recorded as waiting."""
    return wait_for(lambda: next((r for r in runs_of(store, job_id)
                                  if r.trigger == "retry" and r.status == "scheduled"), None),
                    what="the pending retry")


def test_pause_holds_a_pending_retry_and_resume_runs_it(store, make_engine):
    job, engine, retry = _first_attempt_failed(store, make_engine)
    _set_paused(store, engine, job, True)
    time.sleep(DELAY_S + 1.5)  # well past the retry's due time
    runs = runs_of(store, job.id)
    assert [(r.trigger, r.status) for r in runs] == [("manual", "failed"),
                                                    ("retry", "scheduled")]
    assert runs[1].started_at is None
    # Resumed after its due time: the held retry runs at once, and the chain goes on.
    _set_paused(store, engine, job, False)
    wait_for(lambda: [r.status for r in runs_of(store, job.id)][:2] == ["failed", "failed"],
             timeout=5, what="the held retry to run on resume")
    started = runs_of(store, job.id)[1]
    assert started.id == retry.id and started.attempt == 2 and started.trigger == "retry"


def test_stopping_a_pending_retry_cancels_and_records_it(store, make_engine):
    job, engine, retry = _first_attempt_failed(store, make_engine)
    assert engine.stop_run(retry.id) is True
    time.sleep(DELAY_S + 1.0)
    runs = runs_of(store, job.id)
    assert [(r.trigger, r.status) for r in runs] == [("manual", "failed"),
                                                    ("retry", "stopped")]
    assert runs[1].error == "retry cancelled" and runs[1].started_at is None
    assert runs[1].finished_at is not None
    assert engine.stop_run(retry.id) is False  # settled: nothing left to stop


def test_stopping_a_held_retry_of_a_paused_job_cancels_it(store, make_engine):
    job, engine, retry = _first_attempt_failed(store, make_engine)
    _set_paused(store, engine, job, True)
    assert engine.stop_run(retry.id) is True
    _set_paused(store, engine, job, False)
    time.sleep(DELAY_S + 1.0)
    assert [(r.trigger, r.status) for r in runs_of(store, job.id)] == [
        ("manual", "failed"), ("retry", "stopped")]


def test_a_pending_retry_held_across_an_engine_restart(store, make_engine):
    job, engine, _retry = _first_attempt_failed(store, make_engine)
    _set_paused(store, engine, job, True)
    engine.shutdown(timeout=10)
    make_engine()  # recovery finds the waiting retry of a paused job: still held
    time.sleep(DELAY_S + 1.0)
    assert [r.status for r in runs_of(store, job.id)] == ["failed", "scheduled"]


def _past_due(retry) -> None:
    """Sleep until a second and a half after the retry would have run."""
    left = (retry.scheduled_for - datetime.now(UTC)).total_seconds() + 1.5
    time.sleep(max(0.0, left))


def test_cli_stop_cancels_a_pending_retry_in_the_daemon(store, db_path):
    # A long delay: a CLI call takes seconds on a busy machine.
    job = create_job(store, {"name": "flaky", "schedule": "manual", "target": "exit 1",
                             "retries": 2, "retry_delay_s": 12, "retry_backoff": 1.0})
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        assert cli(db_path, "run", "flaky").returncode == 0
        retry = _pending_retry(store, job.id)
        stopped = cli(db_path, "stop", str(retry.id))
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.strip() == f"run {retry.id}: retry cancelled"
        _past_due(retry)
        runs = runs_of(store, job.id)
        assert [(r.trigger, r.status, r.error) for r in runs] == [
            ("manual", "failed", "exit code 1"), ("retry", "stopped", "retry cancelled")]
        # By name: the next pending retry is found and cancelled the same way.
        assert cli(db_path, "run", "flaky").returncode == 0
        wait_for(lambda: len(runs_of(store, job.id)) == 4, what="a second pending retry")
        second = runs_of(store, job.id)[-1]
        assert second.status == "scheduled"
        by_name = cli(db_path, "stop", "flaky")
        assert by_name.returncode == 0 and \
            by_name.stdout.strip() == f"run {second.id}: retry cancelled", by_name
        _past_due(second)
        assert runs_of(store, job.id)[-1].status == "stopped"
        assert len(runs_of(store, job.id)) == 4
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
