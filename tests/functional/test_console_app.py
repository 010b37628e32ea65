"""Pilot tests of the app around the table: help, quit, the command palette, drilling
down and the editor keys, plus launching (lock held, demo data)."""

from __future__ import annotations

import argparse

from textual.command import CommandPalette

from tests.functional.console_support import add_job, cell, console, job_row, until
from tests.helpers import finished_runs
from tui_scheduler.store.jobs import list_jobs
from tui_scheduler.ui.demo import SAMPLE_JOBS, populate
from tui_scheduler.ui.launch import launch_console
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.help import HelpScreen

TABLE_KEYS = {"r", "R", "p", "s", "x", "d", "e", "n", "/", "esc", "o", "c", "j", "k", "⏎",
              "?", "q", "ctrl+p"}


async def test_question_mark_lists_every_key(store, make_engine):
    add_job(store, "any")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("question_mark")
        screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        keys = {key for _where, key, _text in screen.rows}
        assert keys >= TABLE_KEYS, TABLE_KEYS - keys
        assert all(text for _where, _key, text in screen.rows)
        await pilot.press("escape")
        assert app.screen is app.home


async def test_q_quits_at_once_when_nothing_runs(store, make_engine):
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")


async def test_q_with_a_running_job_says_what_happens_and_asks(store, make_engine):
    job = add_job(store, "long", "sleep 30")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("r")
        await until(pilot, lambda: cell(app, job.id, "state") == "▶ running")
        await pilot.press("q")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "long" in confirm.question and "recorded as stopped" in confirm.question
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.screen is app.home and app.return_code is None
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    engine.shutdown(timeout=10)  # what launch does after the app returns
    assert finished_runs(store, job.id)[0].status == "stopped"


async def test_the_palette_offers_actions_and_runs_them(store, make_engine):
    job = add_job(store, "nightly", "true", "0 2 * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"pause or resume")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: job_row(store, job.id).paused, what="the job paused")


async def test_the_palette_runs_a_job_by_name(store, make_engine):
    add_job(store, "alpha")
    job = add_job(store, "zulu", "echo from-palette")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"run job zulu")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: finished_runs(store, job.id), what="the palette's run")


async def test_enter_opens_the_job_detail_and_escape_returns(store, make_engine):
    from tui_scheduler.ui.screens.job_detail import JobDetailScreen

    job = add_job(store, "look-at-me")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("enter")
        screen = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                             app.screen)
        assert screen.job_id == job.id
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)


async def test_e_edits_and_n_creates_with_the_job_form(store, make_engine):
    from tui_scheduler.ui.screens.job_form import JobFormScreen

    job = add_job(store, "edit-me")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and app.screen)
        assert form.job_id == job.id
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)
        await pilot.press("n")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and app.screen)
        assert form.job_id is None


async def test_a_saved_form_reloads_the_engine_and_selects_the_job(store, make_engine):
    add_job(store, "aaa")
    add_job(store, "bbb")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        created = add_job(store, "ccc", "true", "@hourly")
        app._after_edit(created.id)  # what the form's dismiss(saved id) leads to
        await until(pilot, lambda: app.home.table.selected_job_id == created.id, timeout=5)
        assert engine.job(created.id) is not None


def test_launch_attaches_when_another_engine_holds_the_database(store, make_engine):
    from tui_scheduler.engine.attached import AttachedEngine
    from tui_scheduler.ui.boot import start_or_attach

    holder = make_engine()
    engine = start_or_attach(store)
    try:
        assert isinstance(engine, AttachedEngine)
        assert (engine.lock.host, engine.lock.pid) == (holder.lock.host, holder.lock.pid)
    finally:
        engine.shutdown()
    assert holder.running  # detaching leaves the holding engine alone


def test_launch_reports_a_bad_database_in_one_line(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    code = launch_console(argparse.Namespace(db=str(notes), demo=False))
    assert code == 2  # not a database of ours: bad input, as the CLI says it
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an SQLite database" in err[0]


def test_demo_data_has_every_kind_of_job(store):
    populate(store)
    jobs = {job.name: job for job in list_jobs(store)}
    assert set(jobs) == {spec["name"] for spec in SAMPLE_JOBS}
    assert any(job.paused for job in jobs.values())
    assert any(job.schedule == "manual" for job in jobs.values())
    assert any(job.schedule == "@reboot" for job in jobs.values())
    assert sum(job.schedule not in ("manual", "@reboot") and not job.schedule.startswith(
        "every") for job in jobs.values()) >= 2


async def test_demo_console_comes_alive(store, make_engine):
    from tui_scheduler.ui.demo import kick

    ids = populate(store)
    engine = make_engine()
    kick(engine, ids)
    async with console(store, engine) as (app, pilot):
        progress_job = ids[0]
        await until(pilot, lambda: "%" in cell(app, progress_job, "last"), timeout=10,
                    what="the demo's progress job to report progress")
        assert "left" in cell(app, progress_job, "last")  # ETA from the made-up history


async def test_keys_typed_right_after_e_land_in_the_filled_form(store, make_engine,
                                                                monkeypatch):
    # On a loaded machine a database read can take a second; the form must not open
    # blank and then overwrite what the operator typed meanwhile.
    import time

    from tui_scheduler.ui.screens import job_form
    from tui_scheduler.ui.screens.job_form import JobFormScreen

    real_get_job = job_form.get_job

    def slow_get_job(*args, **kwargs):
        time.sleep(1.5)
        return real_get_job(*args, **kwargs)

    monkeypatch.setattr(job_form, "get_job", slow_get_job)
    job = add_job(store, "edit-me", "true", "0 9 * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and app.screen)
        await pilot.press("end", "backspace", "1")  # the schedule field has the focus
        await pilot.pause(2.0)
        assert form.query_one("#f-name").value == "edit-me"
        assert form.query_one("#f-schedule").value == "0 9 * * 1"
        assert job.id == form.job_id
