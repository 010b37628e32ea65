"""The console remembers the chosen theme in the user's config file, and a damaged or
unwritable file never stops it."""

from __future__ import annotations

import json

from tests.functional.console_support import console
from tui_scheduler.ui.preferences import Preferences


async def test_the_chosen_theme_is_there_next_time(store, make_engine, tmp_path):
    path = tmp_path / "config" / "tui-scheduler" / "console.json"
    engine = make_engine()
    async with console(store, engine, preferences=Preferences(path)) as (app, pilot):
        assert app.theme != "textual-light"
        app.theme = "textual-light"  # what the palette's theme picker does
        await pilot.pause()
    assert json.loads(path.read_text())["theme"] == "textual-light"
    assert path.stat().st_mode & 0o077 == 0
    async with console(store, engine, preferences=Preferences(path)) as (app, pilot):
        assert app.theme == "textual-light"


async def test_a_damaged_preferences_file_is_ignored(store, make_engine, tmp_path):
    path = tmp_path / "console.json"
    path.write_text("{not json")
    engine = make_engine()
    async with console(store, engine, preferences=Preferences(path)) as (app, pilot):
        assert app.theme == "textual-dark"
        app.theme = "nord"
        await pilot.pause()
    assert json.loads(path.read_text()) == {"theme": "nord"}


def test_an_unwritable_folder_keeps_the_preference_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    prefs = Preferences(blocker / "console.json")  # its folder cannot be made
    assert prefs.set("theme", "nord") is False
    assert prefs.get("theme") == "nord"
