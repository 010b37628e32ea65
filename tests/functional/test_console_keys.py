"""Pilot tests of the job table's action keys against a real engine, a real SQLite file
and real processes: r, R, p, s (and the kill offer), x, d, j/k."""

from __future__ import annotations

from tests.functional.console_support import add_job, cell, console, job_row, until
from tests.helpers import finished_runs, output_text, runs_of
from tui_scheduler.ui import actions
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.params import ParamsScreen


async def test_r_runs_the_job_and_the_row_shows_the_result(store, make_engine):
    job = add_job(store, "hello", "echo hi")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        assert cell(app, job.id, "last") == "never run"
        await pilot.press("r")
        runs = await until(pilot, lambda: finished_runs(store, job.id), what="a finished run")
        assert runs[0].status == "succeeded" and runs[0].trigger == "manual"
        assert output_text(store, runs[0].id) == [("out", "hi")]
        await until(pilot, lambda: cell(app, job.id, "last").startswith("✔"),
                    what="the last result cell to show success")


async def test_shift_r_asks_for_params_and_runs_with_them(store, make_engine):
    job = add_job(store, "greet", 'echo "hello $PARAM_WHO"', params={"WHO": "nobody"})
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("R")
        form = await until(pilot, lambda: isinstance(app.screen, ParamsScreen) and app.screen)
        assert "WHO=nobody" in form.query_one("#params-text").text
        form.query_one("#params-text").text = "WHO=world\n"
        await pilot.press("ctrl+s")
        runs = await until(pilot, lambda: finished_runs(store, job.id), what="a finished run")
        assert output_text(store, runs[0].id) == [("out", "hello world")]


async def test_params_form_refuses_bad_lines_and_escape_cancels(store, make_engine):
    job = add_job(store, "greet", "echo hi")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("R")
        form = await until(pilot, lambda: isinstance(app.screen, ParamsScreen) and app.screen)
        form.query_one("#params-text").text = "no equals sign here\n"
        await pilot.press("ctrl+s")
        assert app.screen is form
        assert "expected KEY=VALUE" in str(form.query_one("#params-error").render())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)
        await pilot.pause(0.3)
        assert runs_of(store, job.id) == []


async def test_p_pauses_and_resumes_in_the_database(store, make_engine):
    job = add_job(store, "tick", "true", "*/5 * * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        assert cell(app, job.id, "state") == "· idle"
        await pilot.press("p")
        await until(pilot, lambda: job_row(store, job.id).paused, what="paused in the db")
        await until(pilot, lambda: cell(app, job.id, "state") == "‖ paused")
        assert cell(app, job.id, "next") == "-"
        assert engine.next_run_time(job.id) is None
        await pilot.press("p")
        await until(pilot, lambda: not job_row(store, job.id).paused, what="resumed in the db")
        await until(pilot, lambda: cell(app, job.id, "state") == "· idle")
        assert cell(app, job.id, "next").startswith("in ")


async def test_s_asks_then_stops_a_running_job(store, make_engine):
    job = add_job(store, "sleepy", "sleep 30")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: cell(app, job.id, "state") == "▶ running")
        await pilot.press("s")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "sleepy" in confirm.question and "SIGTERM" in confirm.question
        await pilot.press("y")
        runs = await until(pilot, lambda: finished_runs(store, job.id), what="the stopped run")
        assert runs[0].status == "stopped"
        await until(pilot, lambda: cell(app, job.id, "last").startswith("■"))
        assert cell(app, job.id, "state") == "· idle"


async def test_s_answered_no_keeps_the_run(store, make_engine):
    job = add_job(store, "sleepy", "sleep 30")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: engine.running_runs(job.id))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause(0.3)
        assert engine.running_runs(job.id)


async def test_s_offers_kill_when_sigterm_is_ignored(store, make_engine, monkeypatch):
    monkeypatch.setattr(actions, "STOP_PATIENCE_S", 0.5)
    job = add_job(store, "stubborn", "trap '' TERM; sleep 30", stop_grace_s=60)
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: engine.running_runs(job.id) and
                    engine.running_runs(job.id)[0].pid)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        kill = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and
                           "SIGKILL" in app.screen.question and app.screen, timeout=5)
        assert "still running" in kill.question
        await pilot.press("y")
        runs = await until(pilot, lambda: finished_runs(store, job.id), what="the killed run")
        assert runs[0].status == "stopped"


async def test_x_disables_and_enables(store, make_engine):
    job = add_job(store, "nightly", "true", "0 2 * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("x")
        await until(pilot, lambda: not job_row(store, job.id).enabled)
        await until(pilot, lambda: cell(app, job.id, "state") == "○ disabled")
        await pilot.press("x")
        await until(pilot, lambda: job_row(store, job.id).enabled)
        await until(pilot, lambda: cell(app, job.id, "state") == "· idle")


async def test_d_asks_and_deletes_but_keeps_history(store, make_engine):
    job = add_job(store, "old", "echo bye")
    other = add_job(store, "zeta", "true")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: finished_runs(store, job.id))
        await pilot.press("d")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "old" in confirm.question and "history" in confirm.question
        await pilot.press("n")
        await pilot.pause(0.3)
        assert job_row(store, job.id).deleted_at is None
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: job_row(store, job.id).deleted_at is not None)
        await until(pilot, lambda: job.id not in app.home.table.shown_ids)
        assert app.home.table.shown_ids == [other.id]
        assert len(finished_runs(store, job.id)) == 1


async def test_j_and_k_move_like_the_arrows(store, make_engine):
    for name in ("a-job", "b-job", "c-job"):
        add_job(store, name)
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        table = app.home.table
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("down")
        assert table.cursor_row == 2
        assert app.home.job_name(table.selected_job_id) == "c-job"
