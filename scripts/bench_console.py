"""Measure how the console holds up under load: 2,000 jobs, 20 of them running and
printing progress ten times a second.

    /work/venv/bin/python scripts/bench_console.py [--jobs 2000] [--running 20] [--seconds 15]

Prints the time the UI thread spends per table tick (the half-second redraw pass), how
long the first load took to reach the screen, and key latency: the time from a key
press being queued until the cursor has moved, measured while the load runs. A real
engine and real processes do the work; the app runs headless.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events

from tui_scheduler.engine import Engine
from tui_scheduler.store.db import open_store
from tui_scheduler.store.jobs import bump_change_counter
from tui_scheduler.store.models import Job
from tui_scheduler.ui.app import SchedulerApp

# Ten progress lines a second from one long-lived process. (A shell loop around
# `sleep 0.1` measures the machine instead: 20 of them fork 200 processes a second,
# which starves every thread on a 2-core box; pass --shell to see that.)
PROGRESS = (f"{sys.executable} -u -c 'import time\n"
            "for i in range(3000):\n    print(f\"{i % 100}%\"); time.sleep(0.1)'")
SHELL_PROGRESS = ("i=0; while [ $i -lt 3000 ]; do echo \"$((i % 100))%\"; i=$((i+1)); "
                  "sleep 0.1; done")


def make_jobs(store, total: int, running: int, command: str) -> list[int]:
    """Bulk-insert jobs (create_job is one commit each: fine for people, slow for 2,000)."""
    now = time.time()
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(now, UTC)
    schedules = ["*/5 * * * *", "0 9 * * 1-5", "every 7m", "@daily", "manual", "30 2 * * *"]
    with store.session() as session:
        for n in range(total):
            busy = n < running
            session.add(Job(name=f"job-{n:04d}", target=command if busy else "true",
                            schedule="manual" if busy else schedules[n % len(schedules)],
                            tags="bench" if busy else "", created_at=stamp, updated_at=stamp))
        bump_change_counter(session)
        session.commit()
    with store.session() as session:
        from sqlmodel import select

        return [job.id for job in session.exec(select(Job).order_by(Job.id)).all()][:running]


def timed(obj, name: str, samples: list[float]) -> None:
    """Wrap one method of one object so every call's duration lands in ``samples``."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            samples.append(time.perf_counter() - t0)
    setattr(obj, name, wrapper)


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms over {len(ordered)}")


async def bench(total: int, running: int, seconds: float, command: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(str(Path(folder) / "bench.db"))
        busy = make_jobs(store, total, running, command)
        engine = Engine(store)
        engine.start()
        ticks: list[float] = []
        frames: list[float] = []
        keys: list[float] = []
        try:
            app = SchedulerApp(store, engine)
            started = time.perf_counter()
            async with app.run_test(size=(160, 50)) as pilot:
                while not app.home.loaded:
                    await pilot.pause(0.05)
                print(f"first load on screen: {time.perf_counter() - started:.2f}s "
                      f"({total} jobs)")
                home = app.home
                timed(home.table, "refresh_cells", ticks)
                timed(home.table, "render_lines", frames)
                for job_id in busy:
                    engine.run_now(job_id)
                await pilot.pause(2.0)
                deadline = time.monotonic() + seconds
                table = home.table
                while time.monotonic() < deadline:
                    before = table.cursor_row
                    t0 = time.perf_counter()
                    key = "j" if before < 40 else "k"
                    app.post_message(events.Key(key, key))
                    while table.cursor_row == before:
                        await asyncio.sleep(0.001)
                    keys.append(time.perf_counter() - t0)
                    await pilot.pause(0.1)
                live = sum(len(r.live) for r in table.rows_by_id.values())
                print(f"runs shown live: {live} of {running}")
        finally:
            engine.shutdown(timeout=20)
            store.close()
    print(f"table tick, cell diff + update_cell (UI thread): {summary(ticks)}")
    print(f"table drawing per frame (render_lines): {summary(frames)}")
    print(f"key latency (queued -> cursor moved): {summary(keys)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--running", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--shell", action="store_true",
                        help="progress from shell loops around `sleep` (fork-heavy)")
    args = parser.parse_args()
    asyncio.run(bench(args.jobs, args.running, args.seconds,
                      SHELL_PROGRESS if args.shell else PROGRESS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
