"""The console app: owns the store, the engine bridge and the screens.

``SchedulerApp`` is the contract every screen relies on: ``app.store``, ``app.engine``,
``app.now()``, ``app.hostname`` and the ``request_*``/``open_*`` actions (``ui.actions``).
Engine events arrive as ``ui.messages`` and are re-posted to every screen on the stack.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from tui_scheduler.core.policies import FAILURE_STATUSES
from tui_scheduler.engine import Engine
from tui_scheduler.store.db import Store
from tui_scheduler.ui import format as fmt
from tui_scheduler.ui import messages as msg
from tui_scheduler.ui.actions import JobActions
from tui_scheduler.ui.bridge import EngineBridge
from tui_scheduler.ui.commands import JobCommands
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.home import HomeScreen


class SchedulerApp(JobActions, App[None]):
    """A live job table with single-key actions over one database and its engine."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-scheduler"
    COMMANDS = App.COMMANDS | {JobCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, store: Store, engine: Engine, *,
                 clock: Callable[[], datetime] | None = None,
                 hostname: str | None = None) -> None:
        super().__init__()
        self.store = store
        """The open database."""
        self.engine = engine
        """The engine running in this process (started or not)."""
        self.hostname = hostname or socket.gethostname()
        """Shown in the header; pinned in snapshot tests."""
        self._clock = clock
        self.home = HomeScreen()
        """The job table, always at the bottom of the screen stack."""
        self._bridge: EngineBridge | None = None

    def now(self) -> datetime:
        """The time every screen draws with (aware UTC); pinned in snapshot tests."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    def get_default_screen(self) -> HomeScreen:
        return self.home

    def on_mount(self) -> None:
        self._bridge = EngineBridge(self, self.engine.bus)

    def on_unmount(self) -> None:
        if self._bridge is not None:
            self._bridge.close()

    # ---- engine messages: toast failures, then hand a copy to every screen -------------

    def _fan_out(self, message: msg.EngineMessage) -> None:
        for screen in self.screen_stack:
            screen.post_message(message.copy())

    def on_run_started(self, message: msg.RunStarted) -> None:
        self._fan_out(message)

    def on_run_progress(self, message: msg.RunProgress) -> None:
        self._fan_out(message)

    def on_run_output(self, message: msg.RunOutput) -> None:
        self._fan_out(message)

    def on_run_finished(self, message: msg.RunFinished) -> None:
        if message.status in FAILURE_STATUSES:
            name = self.home.job_name(message.job_id)
            detail = f": {message.error}" if message.error else ""
            self.notify(f"{name}: run #{message.run_id} {fmt.status_label(message.status)}"
                        f"{detail}", title=f"{name} failed", severity="error", timeout=10,
                        markup=False)
        self._fan_out(message)

    def on_fire_accounted(self, message: msg.FireAccounted) -> None:
        self._fan_out(message)

    def on_jobs_changed(self, message: msg.JobsChanged) -> None:
        self._fan_out(message)

    def on_engine_trouble(self, message: msg.EngineTrouble) -> None:
        if message.message:
            self.notify(message.message, title="Engine trouble", severity="error",
                        timeout=15, markup=False)
        self._fan_out(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers run with exit_on_error off: a failed read or write is reported, and
        # the console keeps going.
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.name or 'background work'} failed: "
                        f"{event.worker.error}", severity="error", timeout=10, markup=False)

    # ---- app-wide keys ----------------------------------------------------------------

    def action_help(self) -> None:
        from tui_scheduler.ui.screens.help import HelpScreen, key_rows

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_rows(self)))

    async def action_quit(self) -> None:
        """Quit; when runs are active, say what happens to them and ask first."""
        if isinstance(self.screen, ConfirmScreen):
            return
        runs = self.engine.running_runs()
        if not runs or getattr(self.engine, "attached", False):
            # Attached to a daemon: its jobs carry on after this console goes.
            self.exit()
            return
        names = ", ".join(sorted({run.job.name for run in runs}))
        many = len(runs) > 1
        question = (f"{len(runs)} run{'s are' if many else ' is'} still going: {names}.\n\n"
                    f"Quitting stops the engine: {'they get' if many else 'it gets'} SIGTERM "
                    f"(SIGKILL after the grace time) and {'are' if many else 'is'} recorded "
                    "as stopped. Quit anyway?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()
        self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), answered)
