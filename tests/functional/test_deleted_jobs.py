"""Pilot tests: a deleted job's history in the console, reached with `D` or the palette,
down to its run log; keys that act on a live job do nothing there."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import DataTable

from tests.functional.console_support import add_job, console, until
from tests.helpers import finished_runs, runs_of, wait_for
from tui_scheduler.store.deleted import purge_jobs
from tui_scheduler.store.jobs import delete_job
from tui_scheduler.ui.screens.deleted_jobs import DeletedJobRunsScreen, DeletedJobsScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen


def row_keys(table: DataTable) -> list[str]:
    return [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]


async def test_d_then_D_reaches_the_deleted_jobs_runs_and_log(store, make_engine):
    job = add_job(store, "old-report", "echo kept-output-line")
    add_job(store, "still-here")
    engine = make_engine()
    engine.run_now(job.id)
    run = wait_for(lambda: finished_runs(store, job.id), what="the run")[0]
    async with console(store, engine) as (app, pilot):
        # Delete it the way an operator does: d on its row, then y.
        await until(pilot, lambda: job.id in app.home.table.shown_ids)
        app.home.table.move_cursor(row=app.home.table.get_row_index(str(job.id)))
        await pilot.press("d")
        await until(pilot, lambda: app.screen is not app.home, what="the question")
        await pilot.press("y")
        await until(pilot, lambda: job.id not in app.home.table.shown_ids,
                    what="the row to go")
        await pilot.press("D")
        screen = await until(pilot, lambda: isinstance(app.screen, DeletedJobsScreen)
                             and app.screen.rows is not None and app.screen)
        table = screen.query_one(DataTable)
        assert row_keys(table) == [str(job.id)]
        cells = [str(cell) for cell in table.get_row(str(job.id))]
        assert cells[1] == "old-report" and cells[3] == "1" and "succeeded" in cells[4]
        await pilot.press("enter")
        runs = await until(pilot, lambda: isinstance(app.screen, DeletedJobRunsScreen)
                           and app.screen.job is not None and app.screen)
        assert runs.job_id == job.id
        title = str(runs.query_one("#detail-title").render())
        assert "old-report" in title and "deleted" in title
        assert "deleted: never fires again" in str(runs.query_one("#detail-next").render())
        assert row_keys(runs.query_one(DataTable)) == [str(run.id)]
        # The keys that act on a live job are not there for a deleted one.
        await pilot.press("r", "e", "d", "p", "x")
        await pilot.pause(0.3)
        assert app.screen is runs and len(runs_of(store, job.id)) == 1
        await pilot.press("enter")
        log = await until(pilot, lambda: isinstance(app.screen, RunLogScreen) and app.screen)
        assert log.run_id == run.id
        await until(pilot, lambda: log.job_name == "old-report", what="the log to load")
        for back in (DeletedJobRunsScreen, DeletedJobsScreen):
            await pilot.press("escape")
            await until(pilot, lambda back=back: isinstance(app.screen, back))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)


async def test_the_palette_opens_deleted_jobs_and_a_reused_name_stays_apart(store,
                                                                             make_engine):
    first = add_job(store, "nightly")
    delete_job(store, first.id)
    live = add_job(store, "nightly")  # the name is free again once deleted
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"deleted jobs")
        await pilot.pause(0.5)
        await pilot.press("enter")
        screen = await until(pilot, lambda: isinstance(app.screen, DeletedJobsScreen)
                             and app.screen.rows is not None and app.screen)
        assert row_keys(screen.query_one(DataTable)) == [str(first.id)]
        # Deleting the live one too: the open list reads again and shows both, newest first.
        delete_job(store, live.id)
        engine.reload({live.id})
        await until(pilot, lambda: row_keys(screen.query_one(DataTable)) ==
                    [str(live.id), str(first.id)], what="the second deleted job")
        # A purge (from the CLI, say) tells no engine: the open list still catches up.
        purge_jobs(store, [first.id])
        await until(pilot, lambda: row_keys(screen.query_one(DataTable)) == [str(live.id)],
                    what="the purged job to go")


async def test_no_deleted_jobs_says_so(store, make_engine):
    add_job(store, "alive")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("D")
        screen = await until(pilot, lambda: isinstance(app.screen, DeletedJobsScreen)
                             and app.screen.rows is not None and app.screen)
        assert screen.query_one(DataTable).row_count == 0
        assert "No deleted jobs" in str(screen.query_one("#deleted-about").render())
