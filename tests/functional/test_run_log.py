"""Pilot tests of the run log: streams told apart, a huge log opened tail first and paged,
search with n/N, the jump to the first error, and following a live run."""

from __future__ import annotations

import sqlite3
import time

from tests.functional.console_support import until
from tests.functional.screen_app import ScreenApp
from tests.functional.screen_data import NOW, seed_job, seed_output, seed_runs
from tui_scheduler.store.jobs import create_job
from tui_scheduler.ui.screens.run_log import RunLogScreen
from tui_scheduler.ui.widgets.log_view import LogView, clean_lines

OUTPUT = (
    [("out", f"copying table t{i}") for i in range(40)]
    + [("err", "pg_dump: error: connection lost"), ("out", "reconnected")]
    + [("sys", "[... 3.0 MiB of output truncated: the first and last 5.0 MiB are kept ...]")]
    + [("out", f"copying table u{i}") for i in range(40)]
)


def log_app(store, run_id, **kwargs) -> ScreenApp:
    return ScreenApp(store, lambda: RunLogScreen(run_id), **kwargs)


async def ready(app, pilot) -> RunLogScreen:
    screen = await until(pilot, lambda: isinstance(app.screen, RunLogScreen) and app.screen)
    await until(pilot, lambda: screen._loaded and screen.run is not None, what="the log")
    await pilot.pause()  # the view settles at the end after its first layout
    return screen


def drawn(view: LogView) -> list[str]:
    """The text of the lines on screen."""
    return [view.render_line(y).text for y in range(view.size.height)]


def failed_run(store) -> int:
    job_id = seed_job(store)
    run_id = seed_runs(store, job_id, 4)[3]  # seed_runs fails the 4th run
    seed_output(store, run_id, OUTPUT)
    return run_id


async def test_header_and_streams_told_apart_without_colour(store):
    run_id = failed_run(store)
    app = log_app(store, run_id, now=NOW)
    async with app.run_test(size=(100, 52)) as pilot:
        screen = await ready(app, pilot)
        title = str(screen.query_one("#log-title").render())
        assert "backup-db" in title and f"run #{run_id}" in title and "✘ failed" in title
        header = str(screen.query_one("#log-header").render())
        assert "exit code 1" in header and "connection refused" in header
        assert "attempt" in header and "trigger" in header and "duration" in header
        view = screen.view
        assert len(view.lines) == len(OUTPUT)
        assert not view.follow  # a finished run does not follow
        lines = drawn(view)
        assert lines[-1].strip() == "copying table u39"  # opens at the end
        await pilot.press("g")
        lines = drawn(view)
        err = next(line for line in lines if "connection lost" in line)
        assert err.startswith("┃ ")
        marker = next(line for line in lines if "truncated" in line)
        assert marker.startswith("» ")
        assert next(line for line in lines if "reconnected" in line).startswith("  ")


async def test_search_highlights_and_n_moves_between_matches(store):
    run_id = failed_run(store)
    app = log_app(store, run_id, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        view = screen.view
        await pilot.press("slash")
        assert screen.query_one("#log-search").has_class("-shown")
        await pilot.press(*"table t1", "enter")
        # "table t1" is in t1 and t10-t19: 11 lines, the first after the top.
        first = view.current
        assert view.lines[first][1] == "copying table t1"
        assert view.match_position() == (1, 11)
        assert "1/11" in str(screen.query_one("#log-status").render())
        assert first in range(int(view.scroll_y), int(view.scroll_y) + view.size.height)
        await pilot.press("n", "n")
        assert view.lines[view.current][1] == "copying table t11"
        await pilot.press("N")
        assert view.lines[view.current][1] == "copying table t10"
        await pilot.press("N", "N")  # wraps to the last match
        assert view.lines[view.current][1] == "copying table t19"
        assert not screen.query_one("#log-search").has_class("-shown")


async def test_escape_closes_the_search_first_then_leaves(store):
    run_id = failed_run(store)
    app = log_app(store, run_id, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        await pilot.press("escape")
        assert not screen.query_one("#log-search").has_class("-shown")
        assert app.screen is screen
        await pilot.press("escape")
        await until(pilot, lambda: app.dismissed == [None])


def seed_huge_output(db_path: str, run_id: int, *, lines: int = 120_000) -> int:
    """About 10 MiB in 64 KiB chunks like the engine writes; an error line early on."""
    rows, chunk, size, seq = [], [], 0, 0
    for i in range(lines):
        line = f"{i:06d} " + ("processing record batch with a long description " * 2)[:80]
        if i == 5:
            line = "000005 WARNING: retry 1 failed, will retry"
        chunk.append(line)
        size += len(line) + 1
        if size >= 64 * 1024 or i == lines - 1:
            seq += 1
            text = "\n".join(chunk) + "\n"
            rows.append((run_id, seq, "out", text, len(chunk), len(text)))
            chunk, size = [], 0
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executemany("INSERT INTO run_output (run_id, seq, stream, text, lines, nbytes) "
                         "VALUES (?,?,?,?,?,?)", rows)
    conn.close()
    return sum(r[5] for r in rows)


async def test_a_huge_log_opens_tail_first_and_pages_older_output_in(store, db_path):
    job_id = seed_job(store)
    run_id = seed_runs(store, job_id, 1)[0]
    total_bytes = seed_huge_output(db_path, run_id)
    assert total_bytes > 10 * 1024 * 1024
    app = log_app(store, run_id, now=NOW)
    start = time.perf_counter()  # includes starting the app itself
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        opened = time.perf_counter() - start
        view = screen.view
        loaded = len(view.lines)
        assert 1000 <= loaded < 20_000
        assert view.lines[-1][1].startswith("119999 ")
        assert drawn(view)[-1].startswith("  119999 ")
        # Scrolling to the top of what is loaded pages older output in, keeping the view.
        await pilot.press("g")
        await until(pilot, lambda: len(view.lines) > loaded, what="older output")
        top_line = view.lines[int(view.scroll_y)][1]
        assert int(top_line[:6]) == 120_000 - loaded
        # A search covers the whole log: it loads the rest first, then finds the match.
        await pilot.press("slash", *"000003 p", "enter")
        await until(pilot, lambda: view.current is not None, what="the match")
        assert len(view.lines) == 120_000 and view.current == 3
        # E jumps to the first line that looks like an error.
        await pilot.press("E")
        assert view.lines[view.current][1].startswith("000005 WARNING: retry 1 failed")
        assert any("000005 WARNING" in line for line in drawn(view))
    print(f"huge log: {loaded} lines shown {opened * 1000:.0f} ms after starting")
    assert opened < 3.0, f"opening took {opened:.2f}s"


async def test_first_error_prefers_the_first_stderr_or_error_line(store):
    run_id = failed_run(store)
    app = log_app(store, run_id, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("E")
        view = screen.view
        assert view.lines[view.current][1] == "pg_dump: error: connection lost"


async def test_a_live_run_is_followed_and_f_toggles(store, make_engine, tmp_path):
    # The run prints, then waits for the test to let it finish (a busy machine must not
    # let it end before the screen opens).
    gate = tmp_path / "go"
    script = (f"for i in $(seq 1 60); do echo line $i; echo oops $i >&2; sleep 0.02; done;"
              f" while [ ! -e {gate} ]; do sleep 0.05; done; echo line 61")
    job = create_job(store, {"name": "talker", "schedule": "manual", "target": script})
    engine = make_engine()
    run = engine.run_now(job.id)
    run.recorded.wait(5)
    app = log_app(store, run.run_id, engine=engine)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await ready(app, pilot)
        view = screen.view
        assert view.follow
        await until(pilot, lambda: len(view.lines) > 40, what="more output")
        assert view.scroll_y == view.max_scroll_y
        await pilot.press("f")
        assert not view.follow
        assert "not following" in str(screen.query_one("#log-status").render())
        await pilot.press("f")
        assert view.follow
        await until(pilot, lambda: ("err", "oops 60") in view.lines, what="all 60 lines")
        gate.touch()
        await until(pilot, lambda: screen.run.status == "succeeded", timeout=15)
        await until(pilot, lambda: ("out", "line 61") in view.lines)
        await pilot.pause(0.2)
        assert view.scroll_y == view.max_scroll_y
        assert drawn(view)[-1].strip() == "line 61"
        assert ("err", "oops 1") in view.lines
        assert "succeeded" in str(screen.query_one("#log-title").render())
        assert screen._poller is None  # polling stops once the run is over


async def test_scrolling_up_stops_following(store, make_engine):
    job = create_job(store, {"name": "slow", "schedule": "manual",
                             "target": "for i in $(seq 1 80); do echo $i; done; sleep 30"})
    engine = make_engine()
    run = engine.run_now(job.id)
    run.recorded.wait(5)
    app = log_app(store, run.run_id, engine=engine)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await ready(app, pilot)
        view = screen.view
        await until(pilot, lambda: len(view.lines) >= 80, timeout=20)
        assert view.follow
        await pilot.press("k", "k")
        assert not view.follow
        await pilot.press("G")  # the end of a live run: following again
        assert view.follow
        assert "following" in str(screen.query_one("#log-status").render())
        await pilot.press("k")
        assert not view.follow
        # No progress reported: the bar is shown, indeterminate.
        assert screen.query_one("#log-progress").has_class("-shown")
        engine.stop_job(job.id)


def test_clean_lines_shows_escapes_and_keeps_carriage_return_redraws():
    lines, width = clean_lines("out", "\x1b[31mred\x1b[0m\n10%\r50%\r100%\na\tb\x07\x9b\n")
    assert lines == [("out", "^[[31mred^[[0m"), ("out", "100%"), ("out", "a       b^G\\x9b")]
    assert width == 15


async def test_a_one_line_log_says_one_line(store):
    job_id = seed_job(store)
    run_id = seed_runs(store, job_id, 1)[0]
    seed_output(store, run_id, [("out", "done")])
    app = log_app(store, run_id, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        status = str(screen.query_one("#log-status").render())
        assert "1 line" in status and "1 lines" not in status
