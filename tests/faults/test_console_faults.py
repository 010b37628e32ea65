"""The console under real faults: a job flooding its output, a disk that fills up and a
file system that turns read-only. The real ``SchedulerApp`` runs over a real engine and
SQLite file; the console must stay responsive, say what is wrong, and never crash.

Responsiveness is measured on the UI loop itself (``console_fault_support.Heartbeat``: the
longest gap between the ticks of a 50 ms timer) and by timing keys from the driver to
their effect, never through ``pilot.press`` (it waits for idle). Bounds are generous:
CI has two cores and runs other heavy tests beside these.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from textual.widgets import DataTable

from tests.faults.console_fault_support import (
    Heartbeat,
    PeakMemory,
    ext4_loop,
    fail_readonly,
    fill,
    is_readonly,
    key_latency,
    tmpfs,
)
from tests.faults.test_output_flood import FLOOD
from tests.functional.console_support import add_job, cell, console, record_notifications, until
from tests.helpers import finished_runs, output_text, wait_for
from tui_scheduler.store.db import open_store
from tui_scheduler.ui.screens import run_log
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.job_detail import JobDetailScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen

MAX_GAP_S = 1.5
"""The longest the UI loop may stall (a 50 ms timer's worst gap) during a fault."""
MAX_KEY_S = 1.5
"""The longest a key may take to show its effect during a fault."""


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def time_keys_then_open_log(app, pilot, job_id: int) -> tuple[list[float], RunLogScreen]:
    """Four cursor keys timed from the driver, then the job's detail and its only run's
    log opened: what an operator does to see what is happening during the fault."""
    table = app.home.table
    table.move_cursor(row=0)
    keys = []
    for key in ("j", "k", "j", "k"):
        row = table.cursor_row
        keys.append(await key_latency(app, key, lambda r=row: table.cursor_row != r))
    table.select_job(job_id)
    await pilot.press("enter")
    detail = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                         app.screen, what="the job detail")
    runs = detail.query_one(DataTable)
    await until(pilot, lambda: runs.row_count == 1, what="the run row")
    return keys, await open_log(app, pilot)


async def open_log(app, pilot) -> RunLogScreen:
    """From the job detail screen: enter on the newest run opens its log."""
    await pilot.press("enter")
    screen = await until(pilot, lambda: isinstance(app.screen, RunLogScreen) and app.screen,
                         what="the run log")
    await until(pilot, lambda: screen._loaded and screen.run is not None, what="the log")
    return screen


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_the_console_stays_responsive_while_a_job_floods_250_mb(store, make_engine):
    flood = add_job(store, "flood", FLOOD)
    for i in range(6):
        add_job(store, f"idle-{i}", "true", "0 3 * * *")
    engine = make_engine()
    memory = PeakMemory()
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        beat = Heartbeat(app)
        table = app.home.table
        table.move_cursor(row=0)
        table.select_job(flood.id)
        await pilot.press("r")
        await until(pilot, lambda: cell(app, flood.id, "state") == "▶ running",
                    what="the flood to start")
        beat.restart()  # the window measured: the whole flood, from here to its end

        # The job table: j and k move the cursor while the flood runs.
        home_keys = []
        for _ in range(3):
            for key in ("j", "k"):
                row = table.cursor_row
                home_keys.append(await key_latency(app, key, lambda r=row: table.cursor_row != r))
        assert table.selected_job_id == flood.id

        # Drill down: the job, its runs, the flooding run's log, while it floods.
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                             app.screen, what="the job detail")
        runs = detail.query_one(DataTable)
        await until(pilot, lambda: runs.row_count == 1, what="the run row")
        log = await open_log(app, pilot)
        view = log.view
        await until(pilot, lambda: any(text.startswith("flood line") for _, text in
                                       view.lines[-50:]), what="flood lines in the log")
        assert log.run.status == "running", "the flood ended before the log was looked at"
        assert view.follow
        assert "running" in text_of(log, "#log-title")

        # The log stays usable: k scrolls up (and so stops following), f follows again.
        log_keys = []
        for _ in range(3):
            log_keys.append(await key_latency(app, "k", lambda: not view.follow))
            log_keys.append(await key_latency(app, "f", lambda: view.follow))
        # Scrolled up for a while: the reader's lines stay put, and the flood's new output
        # is not piled up in memory behind them; f follows the end again.
        await key_latency(app, "k", lambda: not view.follow)
        await until(pilot, lambda: log._holding or log.run.status != "running", timeout=30,
                    what="the view to stop taking new output")
        if log.run.status == "running":
            held, top, reads = len(view.lines), view.scroll_y, log._generation
            await pilot.pause(1.0)
            assert log.run.status != "running" or (len(view.lines) == held and
                                                   view.scroll_y == top)
            log_keys.append(await key_latency(app, "f", lambda: view.follow))
            await until(pilot, lambda: not log._holding and log._generation > reads,
                        what="the tail read again once following again")
        still_flooding = log.run.status == "running"

        await until(pilot, lambda: log.run.status != "running", timeout=200,
                    what="the flood to end")
        flood_gap = beat.max_gap
        flood_beats = beat.summary()

        # The end: the real exit code, the truncation, the last lines.
        assert log.run.status == "failed" and log.run.exit_code == 3
        await until(pilot, lambda: "✘ failed" in text_of(log, "#log-title"))
        header = text_of(log, "#log-header")
        assert "exit code 3" in header and "output truncated" in header
        await until(pilot, lambda: view.lines[-1:] == [("out", "tail-marker")],
                    what="the last line in the followed log")
        assert view.lines[-2] == ("out", "bad \ufffd\ufffd utf8 \ufffd nul")
        assert any("flood failed" in t and "exit code 3" in t for t in toasts), toasts

        # Once it ends, the log that followed the flood is the stored log (not the 250 MB
        # that streamed past): a search reads it all and finds the truncation marker.
        stored = output_text(store, log.run.id)
        await find_marker(pilot, log)
        same_lines(view.lines, stored)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is detail)
        await until(pilot, lambda: "3" in str(runs.get_cell_at((0, exit_column(runs)))),
                    what="exit code 3 in the runs table")
        # And so is the log opened afresh.
        fresh = await open_log(app, pilot)
        assert fresh.view.lines[-1] == ("out", "tail-marker")
        await find_marker(pilot, fresh)
        same_lines(fresh.view.lines, stored)
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen is app.home)
        await until(pilot, lambda: cell(app, flood.id, "state") == "✘ failing")
        assert app.return_code is None
    growth = memory.stop()
    worst_key = max(home_keys + log_keys)
    print(f"\nflood: UI {flood_beats}; keys: table max {max(home_keys) * 1000:.0f} ms, "
          f"log max {max(log_keys) * 1000:.0f} ms; peak memory growth {growth:.0f} MiB; "
          f"still flooding after the key checks: {still_flooding}")
    assert flood_gap < MAX_GAP_S, f"the UI loop stalled for {flood_gap:.2f}s ({flood_beats})"
    assert worst_key < MAX_KEY_S, f"a key took {worst_key:.2f}s"
    assert growth < 250, f"memory grew by {growth:.0f} MiB"


def gated_talker(gate) -> str:
    """Three bursts of lines (a, b, c) far past a small cap, each after its gate file and
    each taking a couple of seconds (so several polls see it)."""
    parts = []
    for n, name in enumerate("abc"):
        if n:
            parts.append(f"while [ ! -e {gate}{n} ]; do sleep 0.02; done")
        parts.append(f'for i in $(seq 1 {BURST}); do echo "{name} $i {"x" * 36}"; '
                     f'if [ $((i % 1000)) = 0 ]; then sleep 0.1; fi; done')
    parts.append(f"while [ ! -e {gate}3 ]; do sleep 0.02; done; echo done-marker")
    return "; ".join(parts)


BURST = 20_000


async def test_a_followed_log_of_a_truncated_run_stays_bounded_and_ends_as_stored(
        store, make_engine, tmp_path, monkeypatch):
    """The flood test's fix at a small scale: a 64 KiB cap, a 48 KiB live bound."""
    from tests.functional.test_run_log import log_app, ready

    monkeypatch.setattr(run_log, "LIVE_MAX_BYTES", 48 * 1024)
    gate = tmp_path / "gate"
    job = add_job(store, "bursts", gated_talker(gate))
    engine = make_engine(output_cap=64 * 1024)
    run = engine.run_now(job.id)
    assert run.recorded.wait(5)
    wait_for(lambda: output_text(store, run.run_id)[-1:] == [("out", f"a {BURST} {'x' * 36}")],
             what="the first burst stored")
    app = log_app(store, run.run_id, engine=engine)
    async with app.run_test(size=(100, 30)) as pilot:
        log = await ready(app, pilot)
        view = log.view
        assert view.follow and log.run.output_truncated
        # Following: 20,000 more lines stream past, the view keeps about the stored log.
        (tmp_path / "gate1").touch()
        await until(pilot, lambda: view.lines[-1][1].startswith(f"b {BURST} "),
                    what="the second burst")
        assert log._generation >= 1 and len(view.lines) < 4000, len(view.lines)
        # Scrolled up: the reader's place stays, the new burst is not piled up behind it.
        await pilot.press("k")
        assert not view.follow
        top = view.scroll_y
        (tmp_path / "gate2").touch()
        await until(pilot, lambda: log._holding, what="new output to be left unread")
        held = len(view.lines)
        await until(pilot, lambda: output_text(store, run.run_id)[-1][1].startswith(
            f"c {BURST} "), what="the third burst stored")
        await pilot.pause(0.5)
        assert view.scroll_y == top and len(view.lines) == held < 4000, len(view.lines)
        # f follows again: the tail is read afresh.
        await pilot.press("f")
        await until(pilot, lambda: view.lines[-1][1].startswith(f"c {BURST} "),
                    what="the third burst once following")
        assert len(view.lines) < 4000, len(view.lines)
        # The end: the view is read once more and is exactly the stored log.
        (tmp_path / "gate3").touch()
        await until(pilot, lambda: log.run.status == "succeeded", what="the run to end")
        await until(pilot, lambda: view.lines[-1:] == [("out", "done-marker")])
        await find_marker(pilot, log)
        same_lines(view.lines, output_text(store, run.run_id))


async def find_marker(pilot, log: RunLogScreen) -> None:
    """Search the log for the truncation marker: the search reads the whole log first."""
    await pilot.press("slash", *"of output truncated", "enter")
    view = log.view
    await until(pilot, lambda: view.current is not None, what="the truncation marker")
    stream, marker = view.lines[view.current]
    assert stream == "sys" and "of output truncated" in marker
    assert sum(stream == "sys" for stream, _ in view.lines) == 1


def same_lines(shown: list, stored: list) -> None:
    """The view shows exactly the stored log (said briefly when it does not)."""
    if shown != stored:
        at = next((i for i, (a, b) in enumerate(zip(shown, stored, strict=False)) if a != b),
                  min(len(shown), len(stored)))
        raise AssertionError(f"the view has {len(shown):,} lines, the stored log "
                             f"{len(stored):,}; they differ from line {at:,}")


def exit_column(table: DataTable) -> int:
    return list(table.columns).index("exit")


# ---- a disk that fills up, a file system that turns read-only ---------------------------

WRITER = "head -c 4000000 /dev/zero | tr '\\0' 'x' | fold -w 100"
"""40,000 lines of 100 x's: 4 MB of output, more than the full disk has room for."""


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs (needs root: CI runs as root), unmounted after the engine stops."""
    with tmpfs(tmp_path / "disk", "16m") as path:
        yield path


@pytest.fixture
def disk_store(small_disk):
    store = open_store(str(small_disk / "scheduler.db"))
    yield store
    store.close()


def assert_only_engine_errors(caplog) -> None:
    """Errors logged came from the engine's retries (it says what fails), not the UI."""
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= 40]
    assert all(e.startswith(("tui_scheduler.store", "tui_scheduler.engine"))
               for e in errors), errors


def watch_trouble(app) -> list[str | None]:
    """Every value the header's trouble takes, in order."""
    seen: list[str | None] = []
    app.watch(app.home.header, "trouble", lambda value: seen.append(value), init=False)
    return seen


async def test_a_full_disk_shows_in_the_header_and_clears_once_space_is_freed(
        small_disk, disk_store, make_engine, caplog):
    store = disk_store
    writer = add_job(store, "writer", WRITER)
    after = add_job(store, "after", "seq 1 5000")
    for i in range(5):
        add_job(store, f"idle-{i}", "true", "0 3 * * *")
    engine = make_engine(store=store)
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        troubles = watch_trouble(app)
        header, table = app.home.header, app.home.table
        beat = Heartbeat(app)
        filler = fill(small_disk, leave=256 * 1024)
        table.select_job(writer.id)
        await pilot.press("r")
        await until(pilot, lambda: header.trouble, timeout=30, what="the header to say why")
        assert "disk is full" in header.trouble, troubles
        assert "⚠ engine trouble: the disk is full" in str(header.render())
        await until(pilot, lambda: any(t.startswith("Engine trouble|the disk is full")
                                       for t in toasts), what="the toast")
        # Still responsive, still showing the run, while nothing can be written.
        beat.restart()
        # Reads still work: the job, its running run, and what of its output got stored.
        keys, log = await time_keys_then_open_log(app, pilot, writer.id)
        assert log.run.status == "running" and log.view.follow
        await until(pilot, lambda: ("out", "x" * 100) in log.view.lines[-5:],
                    what="the stored output")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen is app.home)
        # A run asked for now waits for the disk (the header says why) and is not lost.
        table.select_job(after.id)
        await pilot.press("r")
        await pilot.pause(1.0)
        assert cell(app, writer.id, "state") == "▶ running"
        assert header.trouble and "disk is full" in header.trouble
        full_beats, full_gap = beat.summary(), beat.max_gap

        filler.unlink()
        await until(pilot, lambda: header.trouble is None, timeout=40,
                    what="the trouble to clear once space is freed")
        assert "● engine running" in str(header.render())
        await until(pilot, lambda: cell(app, writer.id, "last").startswith("✔"), timeout=30,
                    what="the interrupted run to finish")
        await until(pilot, lambda: cell(app, after.id, "last").startswith("✔"), timeout=30,
                    what="the run asked for while the disk was full")
        # A new run after the recovery is recorded completely.
        table.select_job(after.id)
        await pilot.press("r")
        await until(pilot, lambda: len(finished_runs(store, after.id)) == 2, timeout=30,
                    what="a new run after the recovery")
        await until(pilot, lambda: any("Started after" in t for t in toasts))
        assert app.return_code is None
        assert not [t for t in toasts if "failed" in t], toasts
    print(f"\ndisk full: UI {full_beats}; keys max {max(keys) * 1000:.0f} ms; "
          f"header troubles seen: {troubles}")
    assert all(t is None or "disk is full" in t for t in troubles), troubles
    assert full_gap < MAX_GAP_S and max(keys) < MAX_KEY_S
    assert_only_engine_errors(caplog)
    record = finished_runs(store, writer.id)[-1]
    assert record.status == "succeeded" and record.exit_code == 0
    lines = output_text(store, record.id)
    assert len(lines) == 40_000 and all(line == ("out", "x" * 100) for line in lines)
    for record in finished_runs(store, after.id):
        assert record.status == "succeeded"
        assert [line for _, line in output_text(store, record.id)] == \
            [str(i) for i in range(1, 5001)]
    with sqlite3.connect(store.location) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.fixture
def failing_disk(tmp_path):
    """An ext4 file system on a loop device that the test turns read-only under the
    running engine, as the kernel does after an I/O error (errors=remount-ro)."""
    with ext4_loop(tmp_path / "ext4", tmp_path / "ext4.img") as device:
        yield tmp_path / "ext4", device


@pytest.fixture
def failing_store(failing_disk):
    store = open_store(str(failing_disk[0] / "scheduler.db"))
    yield store
    store.close()


TALKER = "for i in $(seq 1 400); do echo line $i; sleep 0.05; done"


async def test_a_file_system_turning_read_only_shows_in_the_header(
        failing_disk, failing_store, make_engine, caplog):
    path, device = failing_disk
    store = failing_store
    talker = add_job(store, "talker", TALKER)
    for i in range(5):
        add_job(store, f"idle-{i}", "true", "0 3 * * *")
    engine = make_engine(store=store)
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        troubles = watch_trouble(app)
        header, table = app.home.header, app.home.table
        table.select_job(talker.id)
        await pilot.press("r")
        await until(pilot, lambda: cell(app, talker.id, "state") == "▶ running")
        await pilot.pause(0.5)
        beat = Heartbeat(app)
        fail_readonly(device)
        assert is_readonly(path)
        await until(pilot, lambda: header.trouble, timeout=30, what="the header to say why")
        assert f"⚠ engine trouble: {header.trouble}" in str(header.render())
        assert any(t.startswith("Engine trouble|") for t in toasts), toasts
        # Responsive, and what was stored before the failure can still be read.
        keys, log = await time_keys_then_open_log(app, pilot, talker.id)
        await until(pilot, lambda: ("out", "line 1") in log.view.lines, what="stored output")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen is app.home)
        await pilot.pause(1.0)
        assert header.trouble, troubles  # nothing was written, so it never cleared
        ro_beats, ro_gap = beat.summary(), beat.max_gap
        # Quitting asks first (a run is going) and exits cleanly.
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
        assert not [t for t in toasts if "failed:" in t], toasts
    started = time.monotonic()
    engine.shutdown(timeout=10)  # what the launcher does after the app returns
    shutdown_s = time.monotonic() - started
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= 40]
    print(f"\nread-only: UI {ro_beats}; keys max {max(keys) * 1000:.0f} ms; header troubles "
          f"seen: {troubles}; engine shutdown took {shutdown_s:.1f}s; errors logged: {errors}")
    assert ro_gap < MAX_GAP_S and max(keys) < MAX_KEY_S
    assert_only_engine_errors(caplog)
    # The writer gives up on the unwritable disk a few seconds after close, not after a
    # retry budget per queued batch.
    assert shutdown_s < 15
    assert "file system went read-only" in header.trouble, header.trouble
