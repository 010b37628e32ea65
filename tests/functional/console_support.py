"""Helpers for the console's Pilot tests: a running console over a real engine and
SQLite file, polling with a deadline, and reading what the job table shows."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot

from tui_scheduler.store.jobs import create_job, get_job_by_id
from tui_scheduler.store.models import Job
from tui_scheduler.ui.app import SchedulerApp


async def until(pilot: Pilot, predicate: Callable[[], Any], timeout: float = 10.0,
                what: str = "condition") -> Any:
    """Let the app run until ``predicate()`` is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def add_job(store, name: str, target: str = "echo hi", schedule: str = "manual",
            **fields: Any) -> Job:
    return create_job(store, {"name": name, "target": target, "schedule": schedule, **fields})


def job_row(store, job_id: int) -> Job:
    job = get_job_by_id(store, job_id)
    assert job is not None
    return job


def cell(app: SchedulerApp, job_id: int, column: str) -> str:
    """The text a shown row has in a column ('' when the row is not shown)."""
    cells = app.home.table._drawn.get(job_id)
    return cells[column].plain if cells and column in cells else ""


def shown_names(app: SchedulerApp) -> list[str]:
    """Job names in table order."""
    table = app.home.table
    ordered = sorted(table.shown_ids, key=lambda jid: table.get_row_index(str(jid)))
    return [table.rows_by_id[jid].job.name for jid in ordered]


@asynccontextmanager
async def console(store, engine, *, size: tuple[int, int] = (120, 36),
                  **kwargs: Any) -> AsyncIterator[tuple[SchedulerApp, Pilot]]:
    """The console, loaded and ready for keys."""
    app = SchedulerApp(store, engine, **kwargs)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.home.loaded, what="the job table to load")
        yield app, pilot


def record_notifications(app: SchedulerApp) -> list[str]:
    """Capture every toast's title and text (the app keeps showing them too)."""
    seen: list[str] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append(f"{kwargs.get('title') or ''}|{message}|{kwargs.get('severity', '')}")
        original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


def screen_lines(app: SchedulerApp) -> list[str]:
    """What the terminal shows right now, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]
