"""A job whose retry waits for its delay: the table says when it runs and which attempt it
is, pause shows it held, and ``s`` cancels it (Pilot, real engine and SQLite file)."""

from __future__ import annotations

import signal

from tests.engine.test_crash_recovery import start_daemon
from tests.functional.console_support import add_job, cell, console, until
from tests.functional.test_console_attached import attach
from tests.helpers import runs_of, wait_for
from tui_scheduler.engine.lock import live_holder
from tui_scheduler.store.runs import get_run


def _waiting(store, job_id):
    return next((r for r in runs_of(store, job_id)
                 if r.trigger == "retry" and r.status == "scheduled"), None)


def _flaky(store):
    return add_job(store, "flaky", "exit 1", retries=2, retry_delay_s=600, retry_backoff=1)


async def test_the_table_shows_a_waiting_retry_and_s_cancels_it(store, make_engine):
    job = _flaky(store)
    await _show_hold_and_cancel(store, make_engine(), job)


async def test_the_same_in_a_console_attached_to_a_daemon(store, db_path):
    job = _flaky(store)
    daemon = start_daemon(db_path)
    try:
        wait_for(lambda: (h := live_holder(store)) is not None and h.pid == daemon.pid,
                 timeout=20, what="the daemon to serve the database")
        engine = attach(store)
        try:
            await _show_hold_and_cancel(store, engine, job)
        finally:
            engine.shutdown()
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)


async def _show_hold_and_cancel(store, engine, job):
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: _waiting(store, job.id), what="the retry to be recorded")
        due = _waiting(store, job.id).scheduled_for.astimezone()
        expected = f"retry at {due:%H:%M} (2/3)"
        await until(pilot, lambda: cell(app, job.id, "next") == expected,
                    what=f"{expected!r} in the table, not {cell(app, job.id, 'next')!r}")
        assert cell(app, job.id, "state").endswith("failing")

        await pilot.press("p")  # pause holds it
        await until(pilot, lambda: cell(app, job.id, "next") == "retry held (2/3)",
                    what="the held retry in the table")
        await pilot.press("p")
        await until(pilot, lambda: cell(app, job.id, "next") == expected,
                    what="the retry back after resume")

        await pilot.press("s")
        await until(pilot, lambda: "Cancel the retry" in getattr(app.screen, "question", ""),
                    what="the question")
        await pilot.press("y")
        retry_id = runs_of(store, job.id)[-1].id
        await until(pilot, lambda: get_run(store, retry_id).status == "stopped",
                    what="the retry to be recorded stopped")
        assert get_run(store, retry_id).error == "retry cancelled"
        await until(pilot, lambda: not cell(app, job.id, "next").startswith("retry"),
                    what="the retry to leave the table")
        assert cell(app, job.id, "next") == "manual"
    assert [r.status for r in runs_of(store, job.id)] == ["failed", "stopped"]
