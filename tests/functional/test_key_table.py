"""Every key in the README's "Keys" table, driven with Pilot in both set-ups: the console
with its own engine, and the console attached to a real ``tui-scheduler daemon``
subprocess on the same SQLite file. Each key must do the same thing in both."""

from __future__ import annotations

import signal

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from tests.engine.test_crash_recovery import start_daemon
from tests.functional.console_support import (
    add_job,
    cell,
    console,
    job_row,
    record_notifications,
    shown_names,
    until,
)
from tests.functional.test_console_attached import attach
from tests.helpers import finished_runs, output_text, runs_of, wait_for
from tui_scheduler.engine import Engine
from tui_scheduler.engine.lock import live_holder
from tui_scheduler.store.jobs import list_jobs
from tui_scheduler.ui import actions
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.help import HelpScreen
from tui_scheduler.ui.screens.job_detail import JobDetailScreen
from tui_scheduler.ui.screens.job_form import JobFormScreen
from tui_scheduler.ui.screens.params import ParamsScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen


@pytest.fixture(params=["own", "attached"])
def start_engine(request, store, db_path):
    """Starts the console's engine once the test has added its jobs: its own, or a
    stand-in attached to a daemon subprocess holding the same database."""
    made: dict = {}

    def start():
        if request.param == "own":
            engine = Engine(store, heartbeat_s=0.5, tick_s=0.05, poll_s=0.1)
            engine.start()
        else:
            daemon = made["daemon"] = start_daemon(db_path)
            wait_for(lambda: (h := live_holder(store)) is not None and h.pid == daemon.pid,
                     timeout=30, what="the daemon to hold the database")
            engine = attach(store)
        made["engine"] = engine
        return engine

    start.mode = request.param
    yield start
    if "engine" in made:
        made["engine"].shutdown(timeout=10)
    if "daemon" in made:
        made["daemon"].send_signal(signal.SIGTERM)
        made["daemon"].wait(timeout=30)


def select(app, job_id: int) -> None:
    app.home.table.move_cursor(row=app.home.table.get_row_index(str(job_id)))


async def confirm(app, pilot, *words: str) -> ConfirmScreen:
    return await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and all(
        word in app.screen.question for word in words) and app.screen,
        what=f"a question with {words}")


async def test_r_runs_and_shift_r_runs_with_params(store, start_engine):
    job = add_job(store, "greet", 'echo "hello $PARAM_WHO"', params={"WHO": "nobody"})
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        runs = await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        assert runs[0].status == "succeeded" and runs[0].trigger == "manual"
        assert output_text(store, runs[0].id) == [("out", "hello nobody")]
        await until(pilot, lambda: cell(app, job.id, "last").startswith("✔"))
        await pilot.press("R")
        form = await until(pilot, lambda: isinstance(app.screen, ParamsScreen) and app.screen)
        form.query_one("#params-text").text = "WHO=world\n"
        await pilot.press("ctrl+s")
        runs = await until(pilot, lambda: len(finished_runs(store, job.id)) == 2 and
                           finished_runs(store, job.id), timeout=15)
        assert output_text(store, runs[1].id) == [("out", "hello world")]


async def test_p_pauses_and_x_disables(store, start_engine):
    job = add_job(store, "tick", "true", "*/5 * * * *")
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        await pilot.press("p")
        await until(pilot, lambda: job_row(store, job.id).paused)
        await until(pilot, lambda: cell(app, job.id, "state") == "‖ paused")
        await until(pilot, lambda: engine.next_run_time(job.id) is None)
        await pilot.press("p")
        await until(pilot, lambda: cell(app, job.id, "state") == "· idle")
        await pilot.press("x")
        await until(pilot, lambda: not job_row(store, job.id).enabled)
        await until(pilot, lambda: cell(app, job.id, "state") == "○ disabled")
        await pilot.press("x")
        await until(pilot, lambda: cell(app, job.id, "state") == "· idle")
        assert job_row(store, job.id).enabled and not job_row(store, job.id).paused
        said = [t.split("|")[1] for t in toasts]
        assert said == ["tick paused.", "tick resumed.", "tick disabled.", "tick enabled."]


async def test_s_stops_and_offers_sigkill_when_sigterm_is_ignored(store, start_engine,
                                                                 monkeypatch):
    monkeypatch.setattr(actions, "STOP_PATIENCE_S", 0.5)
    plain = add_job(store, "sleepy", "sleep 60", stop_grace_s=30)
    stubborn = add_job(store, "stubborn", "trap '' TERM; sleep 60", stop_grace_s=60)
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        select(app, plain.id)
        await pilot.press("r")
        await until(pilot, lambda: cell(app, plain.id, "state") == "▶ running", timeout=15)
        await pilot.press("s")
        await confirm(app, pilot, "sleepy", "SIGTERM")
        await pilot.press("y")
        runs = await until(pilot, lambda: finished_runs(store, plain.id), timeout=15)
        assert runs[0].status == "stopped"
        await until(pilot, lambda: any("Stopped sleepy." in t for t in toasts))
        select(app, stubborn.id)
        await pilot.press("r")
        # The trap is set once the shell has started: wait for its pid to be recorded.
        await until(pilot, lambda: (r := runs_of(store, stubborn.id)) and r[-1].pid,
                    timeout=15)
        await until(pilot, lambda: cell(app, stubborn.id, "state") == "▶ running")
        await pilot.press("s")
        await confirm(app, pilot, "stubborn")
        await pilot.press("y")
        await confirm(app, pilot, "SIGKILL", "still running")
        await pilot.press("y")
        runs = await until(pilot, lambda: finished_runs(store, stubborn.id), timeout=15)
        assert runs[0].status == "stopped"
        await until(pilot, lambda: cell(app, stubborn.id, "state") != "▶ running")
        assert not any("failed" in t.split("|")[1] for t in toasts), toasts


async def test_d_asks_then_deletes_and_keeps_history(store, start_engine):
    job = add_job(store, "old", "echo bye")
    other = add_job(store, "zeta")
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        await pilot.press("d")
        await confirm(app, pilot, "old", "history")
        await pilot.press("n")
        await pilot.pause(0.3)
        assert job_row(store, job.id).deleted_at is None
        await pilot.press("d")
        await confirm(app, pilot, "old")
        await pilot.press("y")
        await until(pilot, lambda: job.id not in app.home.table.shown_ids)
        assert app.home.table.shown_ids == [other.id]
        assert job_row(store, job.id).deleted_at is not None
        assert len(finished_runs(store, job.id)) == 1


async def test_e_edits_and_n_creates_a_job_the_engine_runs(store, start_engine):
    job = add_job(store, "edit-me", "echo old")
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and
                           app.screen._baseline is not None and app.screen)
        form.query_one("#f-target", Input).value = "echo new"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is app.home)
        assert job_row(store, job.id).target == "echo new"
        await pilot.press("n")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and
                           app.screen._baseline is not None and app.screen)
        await pilot.press(*"fresh")
        form.query_one("#f-schedule", Input).value = "manual"
        form.query_one("#f-target", Input).value = "echo made-here"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is app.home)
        created = next(j for j in list_jobs(store) if j.name == "fresh")
        await until(pilot, lambda: app.home.table.selected_job_id == created.id)
        await pilot.press("r")  # the engine (here or in the daemon) knows the new job
        runs = await until(pilot, lambda: finished_runs(store, created.id), timeout=15)
        assert output_text(store, runs[0].id) == [("out", "made-here")]
        select(app, job.id)
        await pilot.press("r")
        runs = await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        assert output_text(store, runs[0].id) == [("out", "new")]


LOG_SCRIPT = ("for i in $(seq 1 80); do echo line $i; done; echo ERROR: disk full >&2; "
              "for i in $(seq 81 90); do echo line $i; done")


async def test_enter_opens_detail_and_log_whose_keys_work(store, start_engine):
    job = add_job(store, "talker", LOG_SCRIPT)
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        runs = await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                             app.screen)
        await until(pilot, lambda: detail._cursor_key() == str(runs[0].id),
                    what="the run in the detail table")
        await pilot.press("j", "k", "enter")
        log = await until(pilot, lambda: isinstance(app.screen, RunLogScreen) and app.screen)
        view = log.view
        await until(pilot, lambda: len(view.lines) == 91, what="the whole log")
        await pilot.press("E")
        assert view.lines[view.current] == ("err", "ERROR: disk full")
        await pilot.press("g")
        await until(pilot, lambda: view.scroll_y == 0)
        await pilot.press("j", "j")
        await until(pilot, lambda: view.scroll_y == 2)
        await pilot.press("k")
        await until(pilot, lambda: view.scroll_y == 1)
        await pilot.press("G")
        await until(pilot, lambda: view.scroll_y == view.max_scroll_y)
        await pilot.press("slash", *"line 8", "enter")
        assert view.lines[view.current][1].startswith("line 8")
        first = view.current
        await pilot.press("n")
        assert view.current != first
        await pilot.press("N")
        assert view.current == first
        following = view.follow
        await pilot.press("f")
        assert view.follow is not following
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is detail)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)


async def test_filter_sort_cron_and_cursor_keys(store, start_engine):
    add_job(store, "alpha", tags=["db"])
    add_job(store, "beta", schedule="0 9 * * *")
    add_job(store, "gamma")
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        table = app.home.table
        await pilot.press("slash", *"alp")
        await until(pilot, lambda: shown_names(app) == ["alpha"])
        await pilot.press("escape")
        await until(pilot, lambda: shown_names(app) == ["alpha", "beta", "gamma"])
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        column = table.sort_column
        await pilot.press("o")
        assert table.sort_column != column
        beta = next(jid for jid in table.shown_ids if table.rows_by_id[jid].job.name == "beta")
        await pilot.press("c")
        await until(pilot, lambda: cell(app, beta, "schedule") == "0 9 * * *")
        await pilot.press("c")
        await until(pilot, lambda: cell(app, beta, "schedule") != "0 9 * * *")


async def test_help_palette_and_quit(store, start_engine):
    job = add_job(store, "long", "sleep 60")
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and
                                  app.screen)
        keys = {key for _where, key, _text in help_screen.rows}
        assert {"r", "R", "p", "s", "x", "d", "e", "n", "/", "o", "c", "q", "ctrl+p"} <= keys
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"run job long")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: cell(app, job.id, "state") == "▶ running", timeout=15)
        await pilot.press("q")
        if start_engine.mode == "own":
            # Quitting here stops the engine: say so and ask.
            await confirm(app, pilot, "long", "recorded as stopped")
            await pilot.press("y")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    if start_engine.mode == "attached":
        # The daemon's run carries on after the console has gone.
        assert runs_of(store, job.id)[-1].status == "running"


async def test_both_engines_have_the_one_console_surface(store, start_engine):
    from tui_scheduler.engine.surface import SURFACE_ATTRIBUTES, EngineSurface, RunHandle

    job = add_job(store, "long", "sleep 60")
    engine = start_engine()
    assert isinstance(engine, EngineSurface)
    assert [name for name in SURFACE_ATTRIBUTES if not hasattr(engine, name)] == []
    assert engine.attached is (start_engine.mode == "attached")
    started = engine.run_now(job.id)
    assert isinstance(started, RunHandle) and started.recorded.wait(10)
    running = wait_for(lambda: engine.running_runs(job.id), timeout=15)
    assert all(isinstance(run, RunHandle) for run in running)
    engine.stop_job(job.id)
    assert running[0].finished.wait(15)


async def test_header_table_and_detail_agree_in_both_modes(store, start_engine):
    job = add_job(store, "flaky", "exit 3")
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        await until(pilot, lambda: cell(app, job.id, "state") == "✘ failing")
        await until(pilot, lambda: "✘ 1 failed in 24h" in app.home.header.render().plain,
                    what=app.home.header.render().plain)
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                             app.screen)
        await until(pilot, lambda: "flaky — ✘ failing · 1 run" in
                    str(detail.query_one("#detail-title").render()))


async def test_the_detail_screen_keys_act_on_its_job(store, start_engine):
    add_job(store, "aaa-other")
    job = add_job(store, "sleepy", "sleep 60", "0 4 * * *", stop_grace_s=5,
                  params={"WHO": "x"})
    engine = start_engine()
    async with console(store, engine) as (app, pilot):
        select(app, job.id)
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                             app.screen.job is not None and app.screen)
        await pilot.press("r")
        await until(pilot, lambda: runs_of(store, job.id) and
                    runs_of(store, job.id)[-1].status == "running", timeout=15)
        await until(pilot, lambda: "▶ running" in str(detail.query_one("#detail-title")
                                                          .render()))
        await pilot.press("s")
        await confirm(app, pilot, "sleepy", "SIGTERM")
        await pilot.press("y")
        await until(pilot, lambda: finished_runs(store, job.id), timeout=15)
        assert finished_runs(store, job.id)[0].status == "stopped"
        await pilot.press("p")
        await until(pilot, lambda: job_row(store, job.id).paused)
        await pilot.press("x")
        await until(pilot, lambda: not job_row(store, job.id).enabled)
        await until(pilot, lambda: "○ disabled, ‖ paused" in
                    str(detail.query_one("#detail-title").render()))
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ParamsScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is detail)
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and
                           app.screen)
        assert form.job_id == job.id
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is detail)
        await pilot.press("d")
        await confirm(app, pilot, "sleepy")
        await pilot.press("y")
        await until(pilot, lambda: job_row(store, job.id).deleted_at is not None)
        await until(pilot, lambda: "deleted" in str(detail.query_one("#detail-title")
                                                    .render()))
