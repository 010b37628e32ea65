"""Pilot tests of the job detail screen: settings (secrets masked), next fires,
statistics, the paged runs table, live updates by row key, and every key."""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Sparkline

from tests.functional.console_support import until
from tests.functional.screen_app import ScreenApp
from tests.functional.screen_data import NOW, bulk_runs, seed_job, seed_runs
from tests.helpers import finished_runs
from tui_scheduler.core.schedule import next_fires, parse_schedule, resolve_zone
from tui_scheduler.store.jobs import create_job, get_job_by_id
from tui_scheduler.ui.screens.job_detail import PAGE, JobDetailScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen


def detail_app(store, job_id, **kwargs) -> ScreenApp:
    return ScreenApp(store, lambda: JobDetailScreen(job_id), **kwargs)


async def ready(app, pilot) -> JobDetailScreen:
    screen = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen)
    await until(pilot, lambda: screen.job is not None, what="the job to load")
    return screen


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def row_ids(table: DataTable) -> list[int]:
    return [int(table.coordinate_to_cell_key((i, 0)).row_key.value)
            for i in range(table.row_count)]


async def test_settings_next_fires_and_statistics(store):
    job_id = seed_job(store)
    seed_runs(store, job_id, 30)
    app = detail_app(store, job_id, now=NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        settings = text(screen, "#detail-settings")
        assert "At 09:00, Monday through Friday" in settings
        assert "PGPASSWORD=********" in settings and "hunter2" not in settings
        assert "PGHOST=db1" in settings and "pg_dump -Fc prod" in settings
        title = text(screen, "#detail-title")
        assert "backup-db" in title and "30 runs" in title and "· idle" in title
        fires = next_fires(parse_schedule("0 9 * * 1-5"), NOW,
                           resolve_zone("America/New_York"), 5)
        shown = text(screen, "#detail-next")
        assert fires[0].strftime("%a %b %d %H:%M") in shown and "in 2d" in shown
        stats = text(screen, "#detail-stats")
        # seed_runs fails every 7th run: 4 of 30.
        assert "87%" in stats and "median" in stats and "p95" in stats
        spark = screen.query_one(Sparkline)
        assert len(spark.data) == 30 and spark.display


async def test_runs_newest_first_with_status_words(store):
    job_id = seed_job(store)
    ids = seed_runs(store, job_id, 10)
    app = detail_app(store, job_id, now=NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        table = screen.query_one(DataTable)
        assert row_ids(table) == list(reversed(ids))
        failed = table.get_row(str(ids[3]))
        assert str(failed[1]) == "✘ failed" and str(failed[6]) == "1"
        assert "connection refused" in str(failed[8])
        ok = table.get_row(str(ids[0]))
        assert str(ok[1]) == "✔ succeeded" and str(ok[2]) == "schedule"


async def test_runs_are_paged_as_the_cursor_nears_the_end(store):
    job_id = seed_job(store)
    ids = seed_runs(store, job_id, 130)
    app = detail_app(store, job_id, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == PAGE
        table.move_cursor(row=PAGE - 5)
        await until(pilot, lambda: table.row_count == 2 * PAGE, what="the second page")
        table.move_cursor(row=2 * PAGE - 1)
        await until(pilot, lambda: table.row_count == 130, what="the last page")
        assert row_ids(table) == list(reversed(ids))
        await pilot.pause(0.3)
        assert screen._exhausted and table.row_count == 130


@pytest.mark.slow
async def test_a_million_runs_open_quickly(store, db_path):
    job_id = seed_job(store)
    bulk_runs(db_path, job_id, 1_000_000)
    app = detail_app(store, job_id, now=NOW)
    start = time.perf_counter()  # includes starting the app itself
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == PAGE)
        opened = time.perf_counter() - start
        assert "1,000,000 runs" in text(screen, "#detail-title")
        table.move_cursor(row=PAGE - 1)
        await until(pilot, lambda: table.row_count == 2 * PAGE)
        # Paging never scans: the oldest shown is exactly the 100th newest.
        assert row_ids(table)[-1] == row_ids(table)[0] - 99
    print(f"1,000,000 runs: first page shown {opened * 1000:.0f} ms after starting")
    assert opened < 3.0, f"opening took {opened:.2f}s"


async def test_live_runs_appear_at_the_top_and_update_in_place(store, make_engine, tmp_path):
    gate = tmp_path / "go"  # the run ends when the test says so
    job = create_job(store, {"name": "live", "schedule": "manual", "target":
                             f"echo 50%; while [ ! -e {gate} ]; do sleep 0.05; done"})
    seed_runs(store, job.id, 3)
    engine = make_engine()
    app = detail_app(store, job.id, engine=engine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        table = screen.query_one(DataTable)
        before = row_ids(table)
        table.move_cursor(row=1)
        await pilot.press("r")
        assert app.calls == [("run", job.id)]
        await until(pilot, lambda: table.row_count == 4, what="the new run's row")
        new_id = row_ids(table)[0]
        assert row_ids(table)[1:] == before
        # The cursor stays on the run it was on.
        assert row_ids(table)[table.cursor_row] == before[1]
        await until(pilot, lambda: "running" in str(table.get_row(str(new_id))[1]))
        await until(pilot, lambda: screen.query_one("#detail-live").has_class("-active"))
        await until(pilot, lambda: "50%" in text(screen, "#detail-live"))
        gate.touch()
        await until(pilot, lambda: str(table.get_row(str(new_id))[1]) == "✔ succeeded",
                    timeout=15)
        assert not screen.query_one("#detail-live").has_class("-active")
        assert table.row_count == 4 and row_ids(table)[1:] == before
        assert "4 runs" in text(screen, "#detail-title")
    assert finished_runs(store, job.id)[-1].id == new_id


async def test_action_keys_call_the_app_for_this_job(store):
    job_id = seed_job(store)
    seed_runs(store, job_id, 5)
    app = detail_app(store, job_id, now=NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        for key in ("R", "p", "s", "x"):
            await pilot.press(key)
        assert app.calls == [("run_with_params", job_id), ("toggle_pause", job_id),
                             ("stop", job_id), ("toggle_enabled", job_id)]
        job = get_job_by_id(store, job_id)
        assert job.paused and not job.enabled
        screen = app.screen
        await until(pilot, lambda: "disabled" in text(screen, "#detail-title"))
        assert "no fires until resumed" in text(screen, "#detail-next")
        await pilot.press("e")
        assert app.calls[-1] == ("editor", job_id)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("d")
        assert app.calls[-1] == ("delete", job_id)
        await until(pilot, lambda: "deleted" in text(screen, "#detail-title"))


async def test_enter_opens_the_run_log_and_j_k_move(store):
    job_id = seed_job(store)
    ids = seed_runs(store, job_id, 5)
    app = detail_app(store, job_id, now=NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        table = screen.query_one(DataTable)
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("enter")
        log = await until(pilot, lambda: isinstance(app.screen, RunLogScreen) and app.screen)
        assert log.run_id == ids[-2] and app.calls[-1] == ("run_log", ids[-2])
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("escape")
        await until(pilot, lambda: app.dismissed == [None])


def test_every_binding_has_an_id_and_a_description():
    from tui_scheduler.ui.screens.job_form import JobFormScreen

    for screen in (JobDetailScreen, RunLogScreen, JobFormScreen):
        for binding in screen.BINDINGS:
            assert binding.id and binding.description, (screen.__name__, binding)


async def test_in_the_real_console_from_table_to_detail_to_log_and_editor(store, make_engine):
    from tests.functional.console_support import console
    from tui_scheduler.ui.screens.job_form import JobFormScreen

    job = create_job(store, {"name": "real", "schedule": "0 3 * * *",
                             "target": "echo fine; echo trouble >&2"})
    engine = make_engine()
    engine.run_now(job.id).finished.wait(10)
    async with console(store, engine) as (app, pilot):
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen)
                             and app.screen)
        table = detail.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 1, what="the run row")
        assert "At 03:00" in text(detail, "#detail-settings")
        await pilot.press("enter")
        log = await until(pilot, lambda: isinstance(app.screen, RunLogScreen) and app.screen)
        await until(pilot, lambda: ("err", "trouble") in log.view.lines)
        assert ("out", "fine") in log.view.lines
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is detail)
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and app.screen)
        await until(pilot, lambda: form._baseline is not None)
        form.query_one("#f-schedule").value = "30 4 * * *"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is detail, what="back on the detail screen")
        await until(pilot, lambda: "At 04:30" in text(detail, "#detail-settings"))
        assert engine.next_run_time(job.id).strftime("%M") == "30"
