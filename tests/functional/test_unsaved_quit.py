"""Quitting never loses typed input without asking: ``q`` in the job editor (outside a
text field), ctrl+q, ctrl+c and the palette's quit all ask while a form holds unsaved
changes, a ``q`` typed into a field is text, and the footer never offers ``q Quit`` over
a form."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Button, Input
from textual.widgets._footer import FooterKey

from tests.functional.console_support import add_job, console, job_row, until
from tui_scheduler.store.jobs import list_jobs
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.job_form import JobFormScreen
from tui_scheduler.ui.screens.params import ParamsScreen


def footer_offers_quit(app) -> bool:
    return any(key.key == "q" for key in app.screen.query(FooterKey))


async def open_form(app, pilot, key: str) -> JobFormScreen:
    await pilot.press(key)
    return await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and
                       app.screen._baseline is not None and app.screen, what="the form")


async def asked(app, pilot) -> ConfirmScreen:
    return await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and
                       "Not saved" in app.screen.question and app.screen,
                       what="the unsaved-changes question")


async def quit_is_refused(app, pilot, form, keys: list[str], what: str) -> None:
    """Press ``keys``: the question names what would be lost; answer no, stay in ``form``."""
    await pilot.press(*keys)
    question = await asked(app, pilot)
    assert what in question.question, keys
    await pilot.press("n")
    await until(pilot, lambda: app.screen is form)
    assert app.return_code is None


async def test_q_on_a_preset_button_of_a_new_job_asks_and_keeps_the_edit(store, make_engine):
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await until(pilot, lambda: footer_offers_quit(app), what="q Quit on the table")
        form = await open_form(app, pilot, "n")
        await pilot.press(*"quarterly", "tab", "ctrl+u", "ctrl+k", *"0", "space", "9", "space",
                          "*", "space", "*", "space", "*", "tab")
        assert isinstance(app.focused, Button)  # the first preset button
        assert form.query_one("#f-name", Input).value == "quarterly"  # q typed is text
        await until(pilot, lambda: any(key.key == "ctrl+s" for key in app.screen.query(FooterKey)),
                    what="the form's footer")
        assert not footer_offers_quit(app)
        await quit_is_refused(app, pilot, form, ["q"], "the new job")
        assert form.query_one("#f-name", Input).value == "quarterly"
        assert form.query_one("#f-schedule", Input).value == "0 9 * * *"
        await pilot.press("q")
        await asked(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert list_jobs(store) == []


async def test_every_way_to_quit_asks_while_an_edit_is_unsaved(store, make_engine):
    job = add_job(store, "nightly", "true", "0 2 * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        form = await open_form(app, pilot, "e")
        form.query_one("#f-schedule", Input).value = "0 3 * * *"
        await pilot.press("tab")
        for keys in (["q"], ["ctrl+q"], ["ctrl+c"]):
            await quit_is_refused(app, pilot, form, keys, "your changes to job nightly")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"quit")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await asked(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#f-schedule", Input).value == "0 3 * * *"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is app.home)
        assert job_row(store, job.id).schedule == "0 3 * * *"
        await pilot.press("q")  # nothing unsaved, nothing running: no question
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")


async def test_an_unchanged_form_quits_without_asking(store, make_engine):
    add_job(store, "nightly", "true", "0 2 * * *")
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await open_form(app, pilot, "e")
        await pilot.press("tab", "tab")
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")


async def test_typed_run_params_are_not_lost_to_q(store, make_engine):
    add_job(store, "greet", "echo hi", params={"WHO": "nobody"})
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("R")
        form = await until(pilot, lambda: isinstance(app.screen, ParamsScreen) and app.screen)
        await pilot.press(*"q=1")
        assert "q=1" in form.query_one("#params-text").text  # q typed is text
        form.query_one("#params-run", Button).focus()
        await quit_is_refused(app, pilot, form, ["q"], "greet")
