"""Snapshot tests of the job table (pytest-textual-snapshot): the demo jobs at 120x36 and
80x24 with a running job, the empty database's first-run hint, and the help screen.

Clock, host name and local zone are pinned and the engine is not started, so nothing
fires and every SVG is the same on every run (update with ``--snapshot-update``).
"""

from __future__ import annotations

import pytest

from tests.snapshots import scene
from tui_scheduler.engine import Engine


@pytest.fixture
def utc():
    old = scene.use_utc()
    yield
    scene.restore_tz(old)


@pytest.fixture
def demo_app(store, utc):
    ids = scene.build(store)
    return scene.pinned_app(store, Engine(store)), ids


def test_table_120x36(snap_compare, demo_app):
    app, ids = demo_app

    async def run_before(pilot) -> None:
        await scene.settle(pilot, app, ids)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_table_80x24(snap_compare, demo_app):
    app, ids = demo_app

    async def run_before(pilot) -> None:
        await scene.settle(pilot, app, ids)
        await pilot.press("j")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_table_wide_sorted_by_next_run(snap_compare, demo_app):
    app, ids = demo_app

    async def run_before(pilot) -> None:
        await scene.settle(pilot, app, ids)
        await pilot.press("o", "o")

    assert snap_compare(app, terminal_size=(180, 30), run_before=run_before)


def test_empty_database_hint(snap_compare, store, utc):
    app = scene.pinned_app(store, Engine(store))

    async def run_before(pilot) -> None:
        await scene.settle(pilot, app)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_help_screen(snap_compare, demo_app):
    app, _ids = demo_app

    async def run_before(pilot) -> None:
        await scene.settle(pilot, app)
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
