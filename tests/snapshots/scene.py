"""The pinned scene shared by the snapshot tests and ``scripts/screenshots.py``: the demo
jobs created at a fixed time, a fixed host name, the local zone set to UTC, and two runs
shown as live through the same messages the engine would post."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from tui_scheduler.ui import messages as msg
from tui_scheduler.ui.app import SchedulerApp
from tui_scheduler.ui.demo import populate

PINNED_NOW = datetime(2027, 3, 2, 9, 41, 0, tzinfo=UTC)
HOSTNAME = "ops-box"


def use_utc() -> str | None:
    """Make local time UTC (the table shows local wall times); returns the old TZ."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    return old


def restore_tz(old: str | None) -> None:
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@contextmanager
def utc_zone() -> Iterator[None]:
    """Local time is UTC inside the block."""
    old = use_utc()
    try:
        yield
    finally:
        restore_tz(old)


def build(store) -> list[int]:
    """The demo jobs and their made-up history, as of ``PINNED_NOW``."""
    return populate(store, now=PINNED_NOW)


def pinned_app(store, engine) -> SchedulerApp:
    return SchedulerApp(store, engine, clock=lambda: PINNED_NOW, hostname=HOSTNAME)


def stage_live_runs(app: SchedulerApp, job_ids: list[int]) -> None:
    """Show the progress job at 45% and the long job without progress, as if running."""
    progress_job, long_job = job_ids[0], job_ids[2]
    started = PINNED_NOW - timedelta(seconds=14)
    app.post_message(msg.RunStarted(9001, progress_job, "schedule", started))
    app.post_message(msg.RunProgress(9001, progress_job, 45, 100, "copying batch 9 of 20"))
    app.post_message(msg.RunStarted(9002, long_job, "schedule",
                                    PINNED_NOW - timedelta(minutes=3, seconds=12)))


async def settle(pilot, app: SchedulerApp, job_ids: list[int] | None = None) -> None:
    """Wait for the table (and, with staged runs, the ETA's typical duration)."""
    deadline = time.monotonic() + 10
    while not app.home.loaded and time.monotonic() < deadline:
        await pilot.pause(0.05)
    if job_ids:
        stage_live_runs(app, job_ids)
        row = app.home.table.rows_by_id[job_ids[0]]
        while (row.typical_s is None or not row.live) and time.monotonic() < deadline:
            await pilot.pause(0.05)
    await pilot.pause(0.6)  # one tick draws everything
