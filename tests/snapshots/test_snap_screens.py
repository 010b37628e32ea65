"""Snapshot tests of the editor (valid and invalid expression), the job detail screen and
the run log, each pushed on the small screen app with fixed data.

The clock is pinned (``screen_data.NOW``), the host name is fixed in the data, the local
zone is UTC, cursors do not blink and no engine runs, so every SVG is the same on every
run (update with ``--snapshot-update``).
"""

from __future__ import annotations

import os
import time

import pytest
import tzlocal
from textual.widgets import Input

from tests.functional.screen_app import ScreenApp
from tests.functional.screen_data import NOW, seed_job, seed_output, seed_runs
from tui_scheduler.ui.screens.job_detail import JobDetailScreen
from tui_scheduler.ui.screens.job_form import JobFormScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen

OUTPUT = (
    [("out", f"pg_dump: dumping contents of table public.orders_{i:02d}") for i in range(12)]
    + [("err", "pg_dump: error: connection to server lost"), ("err", "\tretrying in 5s"),
       ("out", "pg_dump: reconnected to db1")]
    + [("sys", "[... 3.2 MiB of output truncated: the first and last 5.0 MiB are kept ...]")]
    + [("out", f"pg_dump: dumping contents of table public.events_{i:02d} "
               + "(" + "x" * (3 * i) + ")") for i in range(14)]
)


@pytest.fixture(autouse=True)
def utc():
    """Local time is UTC for the whole test, for Python and for tzlocal."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    tzlocal.reload_localzone()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()
    tzlocal.reload_localzone()


async def settle(pilot, ready) -> None:
    """Wait until the screen has read its data, then stop cursors blinking."""
    deadline = time.monotonic() + 10
    while not ready(pilot.app.screen) and time.monotonic() < deadline:
        await pilot.pause(0.05)
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause(0.2)


def editor(store, schedule: str | None = None):
    job_id = seed_job(store)
    app = ScreenApp(store, lambda: JobFormScreen(job_id), now=NOW)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda s: isinstance(s, JobFormScreen) and s._baseline)
        if schedule is not None:
            field = pilot.app.screen.query_one("#f-schedule", Input)
            field.value = schedule
            field.cursor_position = len(schedule)
            await pilot.pause(0.2)

    return app, run_before


def test_editor_valid_expression(snap_compare, store):
    app, run_before = editor(store)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_editor_invalid_expression(snap_compare, store):
    app, run_before = editor(store, "0 9 * * mon-fry")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def detail(store):
    job_id = seed_job(store)
    seed_runs(store, job_id, 80, running=True)
    app = ScreenApp(store, lambda: JobDetailScreen(job_id), now=NOW)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda s: isinstance(s, JobDetailScreen) and s.job is not None)

    return app, run_before


def test_detail_80x24(snap_compare, store):
    app, run_before = detail(store)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_detail_120x36(snap_compare, store):
    app, run_before = detail(store)
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def run_log(store, index: int, press: tuple[str, ...] = ()):
    job_id = seed_job(store)
    run_id = seed_runs(store, job_id, 10, running=True)[index]
    seed_output(store, run_id, OUTPUT)
    app = ScreenApp(store, lambda: RunLogScreen(run_id), now=NOW)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda s: isinstance(s, RunLogScreen) and s.run is not None)
        if press:
            await pilot.press(*press)
            await pilot.pause(0.2)

    return app, run_before


def test_run_log_failed_run_searched(snap_compare, store):
    # The 4th seeded run failed; search for "error" highlights and scrolls to it.
    app, run_before = run_log(store, 3, ("slash", *"error", "enter"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_run_log_running_with_progress(snap_compare, store):
    app, run_before = run_log(store, 10)
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
