"""A console attached to a daemon process on the same SQLite database: it runs, stops
and pauses jobs there, shows their live progress, and quitting leaves them running."""

from __future__ import annotations

import signal

from tests.engine.test_crash_recovery import start_daemon
from tests.functional.console_support import add_job, cell, console, job_row, until
from tests.helpers import runs_of, wait_for
from tui_scheduler.engine import Engine, EngineLockedError
from tui_scheduler.engine.attached import AttachedEngine
from tui_scheduler.engine.lock import live_holder
from tui_scheduler.ui.screens.confirm import ConfirmScreen

PROGRESS = "for i in $(seq 1 60); do echo \"$((i * 100 / 60))%\"; sleep 0.1; done"


def attach(store) -> AttachedEngine:
    if store.is_sqlite:
        try:
            Engine(store).start()
        except EngineLockedError as exc:
            engine = AttachedEngine(store, exc.holder)
            engine.start()
            return engine
        raise AssertionError("expected the daemon to hold the database")
    holder = live_holder(store)
    assert holder is not None
    engine = AttachedEngine(store, holder)
    engine.start()
    return engine


async def test_attached_console_drives_the_daemon(backend):
    store, db_path = backend
    slow = add_job(store, "slow", "sleep 120", stop_grace_s=1)
    prog = add_job(store, "prog", PROGRESS)
    ticker = add_job(store, "ticker", "true", "* * * * * *")
    daemon = start_daemon(db_path)
    try:
        wait_for(lambda: (h := live_holder(store)) is not None and h.pid == daemon.pid,
                 timeout=20, what="the daemon to serve the database")
        engine = attach(store)
        async with console(store, engine) as (app, pilot):
            await until(pilot, lambda: "attached to engine" in app.home.header.render().plain
                        and f"pid {daemon.pid}" in app.home.header.render().plain,
                        what="the header to name the daemon")
            app.home.table.move_cursor(row=app.home.table.get_row_index(str(prog.id)))
            await pilot.press("r")
            await until(pilot, lambda: "%" in cell(app, prog.id, "last"), timeout=15,
                        what="live progress from the daemon")
            run = runs_of(store, prog.id)[-1]
            assert run.owner.endswith(f":{daemon.pid}")  # it ran in the daemon
            app.home.table.move_cursor(row=app.home.table.get_row_index(str(slow.id)))
            await pilot.press("r")
            await until(pilot, lambda: engine.running_runs(slow.id),
                        what="the console to see the slow job running in the daemon")
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                        what="the stop question")
            await pilot.press("y")
            await until(pilot, lambda: runs_of(store, slow.id)[-1].status == "stopped",
                        timeout=15, what="the daemon to stop the run")
            app.home.table.move_cursor(row=app.home.table.get_row_index(str(ticker.id)))
            await pilot.press("p")
            await until(pilot, lambda: job_row(store, ticker.id).paused,
                        what="the job to be paused")
            await pilot.pause(1.5)
            count = len(runs_of(store, ticker.id))
            await pilot.pause(2.5)
            assert len(runs_of(store, ticker.id)) == count  # the daemon stopped firing it
            await pilot.press("r")  # start the slow job again, then quit
            app.home.table.move_cursor(row=app.home.table.get_row_index(str(slow.id)))
            await pilot.press("r")
            await until(pilot, lambda: runs_of(store, slow.id)[-1].status == "running",
                        what="a second slow run")
            await pilot.press("q")
        engine.shutdown()
        assert live_holder(store).pid == daemon.pid and daemon.poll() is None
        assert runs_of(store, slow.id)[-1].status == "running"  # quitting left it going
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)


async def test_an_attached_consoles_own_edit_shows_at_once(db_path, store):
    # With a slow poll the periodic change check comes only every 8 polls (80 s here):
    # the row must follow the console's own edit without waiting for it.
    job = add_job(store, "toggled", "true", "*/5 * * * *")
    daemon = start_daemon(db_path)
    try:
        wait_for(lambda: (h := live_holder(store)) is not None and h.pid == daemon.pid,
                 timeout=20, what="the daemon to serve the database")
        engine = AttachedEngine(store, live_holder(store), poll_s=10)
        engine.start()
        async with console(store, engine) as (app, pilot):
            await until(pilot, lambda: cell(app, job.id, "state") == "· idle")
            await pilot.press("p")
            await until(pilot, lambda: cell(app, job.id, "state") == "‖ paused", timeout=5,
                        what="the row to show the pause")
            await pilot.press("x")
            await until(pilot, lambda: cell(app, job.id, "state").startswith("○"), timeout=5,
                        what="the row to show the disable")
        engine.shutdown()
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(20)
