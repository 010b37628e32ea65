"""What the console draws at 120x36, 80x24 and 60x20: no two words run together, the
header keeps its failed count, footers show whole keys, the job table fits the width
(names shrink and the schedule goes before the state column would), and a run's status
cell widens when its status gets longer.

Read from the composed screen (``screen_lines``), the text a terminal shows, over the
pinned demo scene (``tests/snapshots/scene.py``) with an engine that fires nothing.
"""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.functional.console_support import add_job, console, screen_lines, until
from tests.snapshots import scene
from tui_scheduler.engine import Engine
from tui_scheduler.store.jobs import update_job
from tui_scheduler.store.runs import list_runs

SIZES = [(120, 36), (80, 24), (60, 20)]
RUN_TOGETHER = ("runningon", "stopped7", "45%14s", "%of last", "3host", "✔ succeed ")


@pytest.fixture
def pinned(store):
    """(app, job ids, run_test context) for a size: the demo scene with a started engine
    (the header reads "running"); the jobs' pinned creation time lies ahead, so nothing
    fires."""
    engines = []

    def make(size):
        ids = scene.build(store)
        update_job(store, ids[2], {"schedule": "manual"})  # @reboot would really run
        engine = Engine(store)
        engine.start()
        engines.append(engine)
        app = scene.pinned_app(store, engine)
        return app, ids, app.run_test(size=size)

    with scene.utc_zone():
        yield make
        for engine in engines:
            engine.shutdown(timeout=10)


def assert_apart(lines: list[str]) -> None:
    text = "\n".join(lines)
    for joined in RUN_TOGETHER:
        assert joined not in text, f"{joined!r} in:\n{text}"


async def assert_footer_whole(app, pilot) -> None:
    """Every key the footer shows lies inside it, and '? Help' is among them."""
    footer = app.screen.query_one(Footer)
    await until(pilot, lambda: footer.query(FooterKey), what="the footer's keys")
    await pilot.pause()
    shown = [key for key in footer.query(FooterKey) if key.display]
    assert shown and all(key.region.right <= footer.region.right for key in shown), \
        [(key.key_display, key.region) for key in shown]
    assert any(key.key_display == "?" for key in shown)


@pytest.mark.parametrize("size", SIZES)
async def test_home_keeps_words_apart_and_fits_the_width(pinned, size):
    app, ids, running = pinned(size)
    async with running as pilot:
        await scene.settle(pilot, app, ids)
        lines = screen_lines(app)
        assert_apart(lines)
        header = lines[0]
        assert "✘ 12 failed" in header, header
        assert "45% 14s" in "\n".join(lines)
        for word in ("✘ failing", "‖ paused", "▶ running", "· idle"):
            assert any(f" {word} " in line for line in lines), (word, lines)
        table = app.home.table
        # Nothing scrolls sideways: the last column is on screen, whole.
        assert table.virtual_size.width <= table.scrollable_content_region.width, \
            (table.virtual_size, table.scrollable_content_region)
        assert any("never run" in line for line in lines)
        names = [line for line in lines if "nightly-backup" in line]
        assert names, lines  # shrinking drops the schedule before a name is cut
        await assert_footer_whole(app, pilot)


async def test_header_with_the_engine_stopped_or_attached_keeps_the_failed_count(pinned):
    app, ids, running = pinned((80, 24))
    async with running as pilot:
        await scene.settle(pilot, app, ids)
        header = app.home.header
        header.attached = "ops-box.example.internal (pid 424242, since 09:12)"
        await pilot.pause()
        line = screen_lines(app)[0]
        assert "⇄" in line and "ops-box" in line and "✘ 12 failed" in line, line
        header.attached = None
        header.engine_state = "stopped"
        app.engine.shutdown(timeout=5)  # the tick now reads it as stopped too
        await pilot.pause(0.6)
        line = screen_lines(app)[0]
        assert "○ engine stopped  7 jobs" in line and "✘ 12 failed" in line, line


@pytest.mark.parametrize("size", SIZES)
async def test_detail_and_run_log_keep_words_apart(pinned, size):
    app, ids, running = pinned(size)
    async with running as pilot:
        await scene.settle(pilot, app, ids)
        app.open_detail(ids[0])
        await until(pilot, lambda: any("of last 12" in line for line in screen_lines(app)),
                    what="the detail statistics")
        lines = screen_lines(app)
        assert_apart(lines)
        assert any("100% of last 12" in line for line in lines)
        await assert_footer_whole(app, pilot)
        if size[0] >= 80:
            assert "esc Back" in screen_lines(app)[-1], screen_lines(app)[-1]
        await pilot.press("escape")
        failing = list_runs(app.store, ids[1], limit=1)[0]
        app.open_run_log(failing.id)
        await until(pilot, lambda: any("exit code" in line for line in screen_lines(app)),
                    what="the run log header")
        lines = screen_lines(app)
        assert_apart(lines)
        assert any("exit code 3   host demo" in line for line in lines) or size[0] < 80, lines
        await assert_footer_whole(app, pilot)


async def test_detail_status_cell_widens_when_a_run_finishes(store, make_engine):
    engine = make_engine()
    job = add_job(store, "short", "sleep 1.5")
    async with console(store, engine, size=(120, 36)) as (app, pilot):
        app.open_detail(job.id)
        await pilot.pause(0.3)
        await pilot.press("r")
        await until(pilot, lambda: any("▶ running" in line and "manual" in line
                                       for line in screen_lines(app)), timeout=10,
                    what="the run to show as running")
        await until(pilot, lambda: any("✔ succeeded" in line for line in screen_lines(app)),
                    timeout=15, what="the finished run to read '✔ succeeded' whole")
        assert_apart(screen_lines(app))
