"""The help screen: every line of it can be scrolled onto the screen, down to the last
key and the closing hint, at 80x24 as at 120x36."""

from __future__ import annotations

import pytest

from tests.functional.console_support import add_job, console, screen_lines, until
from tui_scheduler.ui.screens.help import HelpScreen


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_every_line_of_help_can_be_reached(store, make_engine, size):
    add_job(store, "any")
    engine = make_engine()
    async with console(store, engine, size=size) as (app, pilot):
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and
                                  app.screen)
        _where, last_key, last_text = help_screen.rows[-1]
        assert last_key == "ctrl+p"
        for _ in range(60):  # scroll down a line at a time, as a reader would
            await pilot.press("j")
        await pilot.pause(0.1)
        shown = screen_lines(app)
        rows = [line for line in shown if "ctrl+p" in line]
        assert rows and last_text.split()[0] in rows[-1], shown
        assert any(" q " in f" {line} " and "Quit" in line for line in shown), shown
        closing = next(i for i, line in enumerate(shown) if "escape, q or ? closes this" in line)
        # The help's last line (the end of the note on p and x) sits right above it.
        assert shown[closing - 1].split("█")[1].strip().endswith("x and p."), shown
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)
