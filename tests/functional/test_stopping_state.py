"""Between SIGTERM and the process's exit a run reads "■ stopping": in the job table's
state column and in the job detail (header and the run's status cell), in a console
with its own engine and in one attached to a daemon. The job traps SIGTERM and takes
2 s to exit, as a job that cleans up does."""

from __future__ import annotations

import signal

import pytest
from textual.widgets import DataTable

from tests.engine.test_crash_recovery import start_daemon
from tests.functional.console_support import add_job, cell, console, until
from tests.functional.test_console_attached import attach
from tests.helpers import runs_of, wait_for
from tui_scheduler.engine.lock import live_holder
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.job_detail import JobDetailScreen

TRAPS_TERM = "trap 'sleep 2; exit 0' TERM; while :; do sleep 0.1; done"


@pytest.fixture(params=["own", "attached"])
def engine_kind(request, store, db_path, make_engine):
    """(engine, kind): an engine in the console's process, or one attached to a daemon."""
    if request.param == "own":
        yield make_engine(), "own"
        return
    daemon = start_daemon(db_path)
    try:
        wait_for(lambda: (h := live_holder(store)) is not None and h.pid == daemon.pid,
                 timeout=20, what="the daemon to serve the database")
        engine = attach(store)
        yield engine, "attached"
        engine.shutdown()
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)


async def start_and_stop(app, pilot, engine, job_id: int) -> None:
    await pilot.press("r")
    await until(pilot, lambda: engine.running_runs(job_id), timeout=15,
                what="the run to start")
    await pilot.pause(0.5)  # the shell has set its trap
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the stop question")
    await pilot.press("y")


def status_cell(screen: JobDetailScreen, run_id: int) -> str:
    return str(screen.query_one(DataTable).get_cell(str(run_id), "status"))


async def test_a_stopped_run_reads_stopping_until_it_exits(store, engine_kind):
    engine, _ = engine_kind
    job = add_job(store, "cleaner", TRAPS_TERM, stop_grace_s=10)
    async with console(store, engine) as (app, pilot):
        app.home.table.select_job(job.id)
        await start_and_stop(app, pilot, engine, job.id)
        await until(pilot, lambda: cell(app, job.id, "state") == "■ stopping", timeout=2,
                    what="the table to say stopping")
        assert runs_of(store, job.id)[-1].status == "running"  # still cleaning up
        await until(pilot, lambda: runs_of(store, job.id)[-1].status == "stopped", timeout=15,
                    what="the run to end as stopped")
        await until(pilot, lambda: cell(app, job.id, "state") != "■ stopping", timeout=5,
                    what="the table to drop 'stopping' once the run ended")

        app.open_detail(job.id)
        screen = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen)
                             and app.screen.job is not None and app.screen)
        await start_and_stop(app, pilot, engine, job.id)
        run_id = max(run.id for run in runs_of(store, job.id))
        await until(pilot, lambda: "■ stopping" in str(screen.query_one("#detail-title")
                                                        .render()), timeout=2,
                    what="the detail header to say stopping")
        await until(pilot, lambda: status_cell(screen, run_id) == "■ stopping", timeout=2,
                    what="the run's status cell to say stopping")
        await until(pilot, lambda: status_cell(screen, run_id) == "■ stopped", timeout=15,
                    what="the run's status to end as stopped")
        # The header follows on the next engine event (the run leaving the running set).
        await until(pilot, lambda: "stopping" not in str(screen.query_one("#detail-title")
                                                         .render()), timeout=5,
                    what="the detail header to stop saying stopping")
