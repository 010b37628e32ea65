"""Render an SVG of every console screen into ``screenshots/`` (for the README).

    /work/venv/bin/python scripts/screenshots.py [--only NAME ...]

Each shot runs the real app on a fresh temporary database holding the demo jobs, with the
clock, host name and local zone pinned (``tests/snapshots/scene.py``), and a real engine
started so the header reads as it does in use. Nothing fires while a shot is taken: the
jobs were "created" at the pinned time, which lies in the future. Two runs are shown
live through the same messages the engine posts. Re-run after any visible change.

Each SVG says ``xml:space="preserve"``: Rich writes every run of same-styled text as its
own ``<text>`` starting where its cell starts, and without that attribute an SVG renderer
may drop a run's leading space (librsvg does), so "running" and " on ops-box" were drawn
as "runningon ops-box" and rows starting with a plain space shifted left by a column.
Check the result as PNGs: ``rsvg-convert -w 1400 screenshots/table.svg -o /tmp/t.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.snapshots import scene
from tui_scheduler.engine import Engine
from tui_scheduler.store.db import open_store
from tui_scheduler.store.jobs import update_job
from tui_scheduler.store.runs import list_runs
from tui_scheduler.ui.app import SchedulerApp

OUT = ROOT / "screenshots"
Step = Callable[[SchedulerApp, object, list[int]], Awaitable[None]]


async def _wait(pilot, predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    await pilot.pause(0.6)


async def home(app, pilot, ids) -> None:
    pass


async def light(app, pilot, ids) -> None:
    app.theme = "textual-light"
    await pilot.pause(0.6)


async def sorted_by_next(app, pilot, ids) -> None:
    await pilot.press("o", "o")


async def filtered(app, pilot, ids) -> None:
    await pilot.press("slash", *"back")


async def help_screen(app, pilot, ids) -> None:
    await pilot.press("question_mark")
    await _wait(pilot, lambda: type(app.screen).__name__ == "HelpScreen")


async def confirm_delete(app, pilot, ids) -> None:
    app.home.table.select_job(ids[5])
    await pilot.press("d")
    await _wait(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")


async def params(app, pilot, ids) -> None:
    app.home.table.select_job(ids[6])
    await pilot.press("R")
    await _wait(pilot, lambda: type(app.screen).__name__ == "ParamsScreen")


async def palette(app, pilot, ids) -> None:
    await pilot.press("ctrl+p", *"run job")
    await pilot.pause(0.8)


async def form_new(app, pilot, ids) -> None:
    app.open_editor(None)
    await _wait(pilot, lambda: type(app.screen).__name__ == "JobFormScreen")


async def form_edit(app, pilot, ids) -> None:
    app.open_editor(ids[4])
    await _wait(pilot, lambda: type(app.screen).__name__ == "JobFormScreen")
    await pilot.pause(0.5)


async def form_invalid(app, pilot, ids) -> None:
    await form_edit(app, pilot, ids)
    app.screen.query_one("#f-schedule").value = "0 0 31 2 *"
    await pilot.pause(0.8)


async def detail(app, pilot, ids) -> None:
    app.open_detail(ids[0])
    await _wait(pilot, lambda: type(app.screen).__name__ == "JobDetailScreen")
    await pilot.pause(0.5)


async def run_log(app, pilot, ids) -> None:
    app.open_run_log(list_runs(app.store, ids[1], limit=1)[0].id)
    await _wait(pilot, lambda: type(app.screen).__name__ == "RunLogScreen")
    await pilot.pause(0.5)


# name -> (size, step, with the demo jobs)
SHOTS: dict[str, tuple[tuple[int, int], Step, bool]] = {
    "table": ((120, 36), home, True),
    "table-80x24": ((80, 24), home, True),
    "table-light": ((120, 36), light, True),
    "table-wide": ((180, 36), sorted_by_next, True),
    "table-filter": ((120, 36), filtered, True),
    "first-run": ((100, 30), home, False),
    "help": ((120, 36), help_screen, True),
    "confirm-delete": ((120, 36), confirm_delete, True),
    "run-with-params": ((120, 36), params, True),
    "palette": ((120, 36), palette, True),
    "editor-new": ((120, 36), form_new, True),
    "editor-valid": ((120, 36), form_edit, True),
    "editor-invalid": ((120, 36), form_invalid, True),
    "job-detail": ((120, 36), detail, True),
    "run-log": ((120, 36), run_log, True),
}


async def shoot(name: str) -> Path:
    size, step, with_jobs = SHOTS[name]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(str(Path(folder) / "shots.db"))
        ids = scene.build(store) if with_jobs else []
        if ids:
            # @reboot would really start at engine start-up; the shot stages its run.
            update_job(store, ids[2], {"schedule": "manual"})
        engine = Engine(store)
        engine.start()
        if ids:
            # Back to @reboot once the engine has started (it fires only at start-up), so
            # the table reads as the live demo's: "At engine start", "at start".
            update_job(store, ids[2], {"schedule": "@reboot"})
        try:
            app = scene.pinned_app(store, engine)
            async with app.run_test(size=size) as pilot:
                await scene.settle(pilot, app, ids or None)
                await step(app, pilot, ids)
                await pilot.pause(0.3)
                path = Path(app.save_screenshot(f"{name}.svg", str(OUT)))
                keep_spaces(path)
                app.exit()
        finally:
            engine.shutdown(timeout=10)
            store.close()
    return path


def keep_spaces(path: Path) -> None:
    """Mark the SVG's text as whitespace-preserving (see the module docstring)."""
    svg = path.read_text(encoding="utf-8")
    if 'xml:space="preserve"' not in svg:
        svg = svg.replace("<svg ", '<svg xml:space="preserve" ', 1)
        path.write_text(svg, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SHOTS), default=None)
    names = parser.parse_args().only or list(SHOTS)
    OUT.mkdir(exist_ok=True)
    old_tz = scene.use_utc()
    try:
        for name in names:
            try:
                print(asyncio.run(shoot(name)).relative_to(ROOT))
            except Exception as exc:  # noqa: BLE001 - one broken screen must not stop the rest
                print(f"{name}: failed: {exc!r}", file=sys.stderr)
    finally:
        scene.restore_tz(old_tz)
    return 0


if __name__ == "__main__":
    sys.exit(main())
