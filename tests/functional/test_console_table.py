"""Pilot tests of the job table itself: the first-run hint, filter, sort, cron text,
live progress by cell updates, changes made by another process, the header, toasts."""

from __future__ import annotations

from textual import events

from tests.functional.console_support import (
    add_job,
    cell,
    console,
    record_notifications,
    shown_names,
    until,
)
from tests.helpers import finished_runs
from tui_scheduler.engine import Engine
from tui_scheduler.engine.events import EngineTrouble
from tui_scheduler.store.jobs import create_job, set_job_flags
from tui_scheduler.ui import messages as msg
from tui_scheduler.ui.app import SchedulerApp


async def test_empty_database_shows_a_first_run_hint(store, make_engine):
    engine = make_engine()
    async with console(store, engine) as (app, _pilot):
        hint = app.home.query_one("#hint")
        assert hint.display and not app.home.table.display
        assert "No jobs yet" in str(hint.render()) and "n" in str(hint.render())
        assert app.home.header.jobs == 0


async def test_slash_filters_by_name_or_tag_and_escape_clears(store, make_engine):
    add_job(store, "alpha", tags=["db"])
    add_job(store, "beta")
    add_job(store, "gamma", tags=["web"])
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        assert shown_names(app) == ["alpha", "beta", "gamma"]
        await pilot.press("slash")
        assert app.focused.id == "filter"
        await pilot.press("m", "m")
        assert shown_names(app) == ["gamma"]
        await pilot.press("backspace", "backspace", "d", "b")
        assert shown_names(app) == ["alpha"]  # by tag
        await pilot.press("x", "y", "z")
        assert shown_names(app) == []
        assert "No job matches" in str(app.home.query_one("#hint").render())
        await pilot.press("escape")
        assert shown_names(app) == ["alpha", "beta", "gamma"]
        assert not app.home.query_one("#filter").display
        assert app.focused is app.home.table


async def test_filter_enter_returns_to_the_table_and_keys_act_on_the_match(store, make_engine):
    add_job(store, "alpha")
    beta = add_job(store, "beta", "true", "*/5 * * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("slash", "b", "e", "enter")
        assert app.focused is app.home.table and shown_names(app) == ["beta"]
        await pilot.press("p")
        await until(pilot, lambda: cell(app, beta.id, "state") == "‖ paused")


async def test_o_cycles_the_sort_column_and_a_header_click_sorts(store, make_engine):
    add_job(store, "b-daily", "true", "0 3 * * *")
    add_job(store, "a-paused", "true", "*/5 * * * *", paused=True)
    add_job(store, "c-minutely", "true", "* * * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        table = app.home.table
        assert shown_names(app) == ["a-paused", "b-daily", "c-minutely"]
        await pilot.press("o")
        assert table.sort_column == "state"
        assert shown_names(app)[-1] == "a-paused"  # idle before paused
        await pilot.press("o")
        assert table.sort_column == "next"
        assert shown_names(app) == ["c-minutely", "b-daily", "a-paused"]  # paused: no next
        assert str(table.columns["next"].label).endswith("▲")
        await pilot.press("O")  # back one column
        assert table.sort_column == "state"
        await pilot.press("o", "o", "o")
        assert table.sort_column == "schedule"
        # By when each schedule fires next, not by its words ("At 03:00" < "Every ...").
        assert shown_names(app) == ["c-minutely", "b-daily", "a-paused"]
        await pilot.click("JobTable", offset=(3, 0))  # the State header
        assert table.sort_column == "state"
        await pilot.click("JobTable", offset=(3, 0))
        assert table.sort_reverse and shown_names(app)[0] == "a-paused"


async def test_c_shows_cron_text_instead_of_words(store, make_engine):
    job = add_job(store, "weekdays", "true", "0 9 * * 1-5")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        assert cell(app, job.id, "schedule").startswith("At 09:00")
        await pilot.press("c")
        assert cell(app, job.id, "schedule") == "0 9 * * 1-5"
        await pilot.press("c")
        assert cell(app, job.id, "schedule").startswith("At 09:00")


async def test_progress_updates_cells_live_without_rebuilding(store, make_engine):
    script = ('for i in 10 20 30 40 50 60 70 80 90; do '
              'printf \'{"progress": {"done": %d, "total": 100}, "message": "step %d"}\\n\' '
              '$i $i; sleep 0.25; done')
    job = add_job(store, "mover", script)
    idle = add_job(store, "quiet")
    engine = make_engine()
    async with console(store, engine, size=(180, 36)) as (app, pilot):
        table = app.home.table
        rebuilds = []
        original = table.rebuild
        table.rebuild = lambda now: (rebuilds.append(now), original(now))
        await pilot.press("r")
        await until(pilot, lambda: "%" in cell(app, job.id, "progress"), what="a percentage")
        seen = set()
        await until(pilot, lambda: seen.add(cell(app, job.id, "progress").split()[1]) or
                    len(seen) >= 3, what="the percentage to move")
        assert "step" in cell(app, job.id, "progress")
        assert cell(app, job.id, "state") == "▶ running"
        assert app.home.header.running == 1
        await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        await until(pilot, lambda: cell(app, job.id, "last").startswith("✔"))
        assert cell(app, job.id, "progress") == ""
        assert rebuilds == []  # only update_cell by row key
        assert table.shown_ids == [job.id, idle.id]


async def test_a_job_without_progress_shows_an_indeterminate_bar(store, make_engine):
    job = add_job(store, "opaque", "sleep 5")
    engine = make_engine()
    async with console(store, engine, size=(80, 24)) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: "▓" in cell(app, job.id, "last"), what="a bouncing bar")
        assert "%" not in cell(app, job.id, "last")


async def test_a_job_added_by_another_process_appears(store, make_engine):
    add_job(store, "first")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        # As `tui-scheduler add` does: straight into the database; the engine notices.
        create_job(store, {"name": "second", "target": "true", "schedule": "@daily"})
        await until(pilot, lambda: shown_names(app) == ["first", "second"], timeout=5)
        assert app.home.header.jobs == 2


async def test_a_failed_run_raises_a_toast_naming_the_job(store, make_engine):
    job = add_job(store, "broken", "echo oops >&2; exit 3")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        await pilot.press("r")
        await until(pilot, lambda: any("broken failed" in t for t in toasts), what="a toast")
        toast = next(t for t in toasts if "broken failed" in t)
        assert "exit code 3" in toast and toast.endswith("|error")
        await until(pilot, lambda: cell(app, job.id, "state") == "✘ failing")
        await until(pilot, lambda: app.home.header.failed_24h == 1)


async def test_repeated_failures_raise_one_toast_and_m_mutes_them(store, make_engine):
    job = add_job(store, "flaky", "exit 3", "* * * * * *")  # fails every second
    other = add_job(store, "other", "exit 4")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        await until(pilot, lambda: len(finished_runs(store, job.id)) >= 3, timeout=10,
                    what="three failures")
        # The app hears of each end a moment after it is stored: wait for the first toast,
        # then give the other ends time to arrive before counting.
        await until(pilot, lambda: any("flaky failed" in t for t in toasts), what="a toast")
        count = len(finished_runs(store, job.id))
        await until(pilot, lambda: len(finished_runs(store, job.id)) >= count + 1, timeout=10)
        await pilot.pause(0.5)
        assert sum("flaky failed" in t for t in toasts) == 1
        await pilot.press("m")  # the cursor is on the first row: flaky
        assert any("flaky: failure toasts muted" in t for t in toasts)
        app.failure_toasts._jobs.clear()  # as if the quiet time had passed
        count = len(finished_runs(store, job.id))
        await until(pilot, lambda: len(finished_runs(store, job.id)) >= count + 2, timeout=10)
        assert sum("flaky failed" in t for t in toasts) == 1
        engine.run_now(other.id)  # other jobs still raise theirs
        await until(pilot, lambda: any("other failed" in t for t in toasts), what="a toast")


async def test_the_header_shows_engine_trouble_and_recovery(store, make_engine):
    add_job(store, "any")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        header = app.home.header
        assert header.engine_state == "running" and header.trouble is None
        assert "engine running" in str(header.render())
        engine.bus.emit(EngineTrouble("database is locked; retrying"))
        await until(pilot, lambda: header.trouble == "database is locked; retrying")
        assert "⚠ engine trouble: database is locked" in str(header.render())
        engine.bus.emit(EngineTrouble(None))
        await until(pilot, lambda: header.trouble is None)


async def test_the_table_fits_80_columns(store, make_engine):
    job = add_job(store, "a-rather-long-job-name-for-the-table", "true", "0 9 * * 1-5",
                  tags=["nightly"])
    engine = make_engine()
    async with console(store, engine, size=(80, 24)) as (app, _pilot):
        table = app.home.table
        assert sum(col.get_render_width(table) for col in table.columns.values()) <= 79
        assert cell(app, job.id, "next").startswith("in ")
        assert cell(app, job.id, "name").endswith("…")


async def test_the_drawn_table_follows_cell_updates(store, make_engine):
    job = add_job(store, "hello", "echo hi")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        table = app.home.table
        assert "never run" in table.render_line(1).text  # line 0 is the header
        await pilot.press("r")
        await until(pilot, lambda: "✔" in table.render_line(1).text, what="the drawn ✔")
        assert cell(app, job.id, "last").startswith("✔")


async def test_rows_out_of_view_catch_up_when_scrolled_to(store, make_engine):
    jobs = [add_job(store, f"job-{n:02d}", "true", "0 3 * * *") for n in range(60)]
    last = jobs[-1]
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        table = app.home.table
        set_job_flags(store, last.id, paused=True)
        engine.reload({last.id})
        await until(pilot, lambda: table.rows_by_id[last.id].job.paused)
        await pilot.pause(0.6)
        assert cell(app, last.id, "state") == "· idle"  # out of view: not drawn yet
        await pilot.press("ctrl+end")
        await until(pilot, lambda: cell(app, last.id, "state") == "‖ paused")
        assert "paused" in table.render_line(table.size.height - 1).text


async def test_keys_typed_right_behind_the_slash_land_in_the_filter(store, make_engine):
    add_job(store, "alpha")
    add_job(store, "beta")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        # All queued at once, as a paste or a fast typist delivers them.
        for key, char in (("slash", "/"), ("b", "b"), ("e", "e")):
            app.post_message(events.Key(key, char))
        await until(pilot, lambda: app.home.query_one("#filter").value == "be")
        assert shown_names(app) == ["beta"]
        await pilot.press("slash")  # in the box, a slash is just text
        assert app.home.query_one("#filter").value == "be/"


async def test_rows_past_the_first_hundred_are_drawn_when_they_come_into_view(store):
    from tui_scheduler.ui.widgets.job_table import EAGER_ROWS

    for n in range(EAGER_ROWS + 50):
        add_job(store, f"mass-{n:03d}")
    app = SchedulerApp(store, Engine(store))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.home.loaded)
        table = app.home.table
        ids = sorted(table.shown_ids, key=lambda jid: table.get_row_index(str(jid)))
        assert cell(app, ids[0], "name").startswith("mass-")
        assert cell(app, ids[-1], "name") == ""  # laid out blank: nobody looked yet
        await pilot.press("ctrl+end")
        await until(pilot, lambda: cell(app, ids[-1], "name").startswith("mass-"))
        assert table.rows_by_id[ids[-1]].job.name in table.render_line(
            table.size.height - 1).text


async def test_a_live_update_repaints_only_its_row(store):
    job = add_job(store, "mover")
    add_job(store, "still")
    app = SchedulerApp(store, Engine(store))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.home.loaded)
        table = app.home.table
        painted = []
        table.refresh = lambda *regions, **kw: painted.append(regions)  # type: ignore
        app.post_message(msg.RunStarted(77, job.id, "manual", app.now()))
        await until(pilot, lambda: "running" in cell(app, job.id, "state"))
        row = table.get_row_index(str(job.id))
        assert painted and all(len(regions) == 1 and regions[0].height == 1 and
                               regions[0].y == row + table.header_height
                               for regions in painted), painted
