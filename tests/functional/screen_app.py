"""A small app for testing one screen at a time, with the console's contract.

It offers what the screens use from the real console (``store``, ``engine``, ``now()``,
``hostname`` and the ``request_*`` / ``open_*`` methods). Requests are recorded in
``calls`` and, where it is cheap, really performed against the store and engine, so
tests see real effects. ``now`` can be pinned for stable snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.app import App
from textual.screen import Screen

import tui_scheduler.ui
from tui_scheduler.store.jobs import delete_job, get_job, set_job_flags

# The console's stylesheet, so dialogs pushed by the screens look as they do in the app.
APP_CSS = Path(tui_scheduler.ui.__file__).parent / "app.tcss"


class ScreenApp(App[None]):
    """Pushes one screen on start; every request is recorded in ``calls``."""

    CSS_PATH = [APP_CSS] if APP_CSS.exists() else None

    def __init__(self, store, make_screen: Callable[[], Screen], *, engine=None,
                 now: datetime | None = None, hostname: str = "testhost") -> None:
        super().__init__()
        self.store = store
        self.engine = engine
        self.hostname = hostname
        self._pinned = now
        self._make_screen = make_screen
        self.calls: list[tuple[str, int]] = []
        self.dismissed: list[object] = []

    def now(self) -> datetime:
        return self._pinned or datetime.now(UTC)

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), self.dismissed.append)

    # ---- the console's request methods --------------------------------------------

    def request_run(self, job_id: int) -> None:
        self.calls.append(("run", job_id))
        if self.engine is not None:
            self.engine.run_now(job_id)

    def request_run_with_params(self, job_id: int) -> None:
        self.calls.append(("run_with_params", job_id))

    def request_toggle_pause(self, job_id: int) -> None:
        self.calls.append(("toggle_pause", job_id))
        job = get_job(self.store, job_id)
        set_job_flags(self.store, job_id, paused=not job.paused)

    def request_stop(self, job_id: int) -> None:
        self.calls.append(("stop", job_id))
        if self.engine is not None:
            self.engine.stop_job(job_id)

    def request_toggle_enabled(self, job_id: int) -> None:
        self.calls.append(("toggle_enabled", job_id))
        job = get_job(self.store, job_id)
        set_job_flags(self.store, job_id, enabled=not job.enabled)

    def request_delete(self, job_id: int) -> None:
        self.calls.append(("delete", job_id))
        delete_job(self.store, job_id)

    def open_editor(self, job_id: int | None) -> None:
        from tui_scheduler.ui.screens.job_form import JobFormScreen

        self.calls.append(("editor", job_id))
        self.push_screen(JobFormScreen(job_id))

    def open_detail(self, job_id: int) -> None:
        from tui_scheduler.ui.screens.job_detail import JobDetailScreen

        self.calls.append(("detail", job_id))
        self.push_screen(JobDetailScreen(job_id))

    def open_run_log(self, run_id: int) -> None:
        from tui_scheduler.ui.screens.run_log import RunLogScreen

        self.calls.append(("run_log", run_id))
        self.push_screen(RunLogScreen(run_id))
