"""The console app: owns the store, the engine bridge and the screens.

``SchedulerApp`` is the contract every screen relies on: ``app.store``, ``app.engine``,
``app.now()``, ``app.hostname`` and the ``request_*``/``open_*`` actions (``ui.actions``).
Engine events arrive as ``ui.messages`` and are re-posted to every screen on the stack.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from tui_scheduler.core.policies import FAILURE_STATUSES
from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.ui import format as fmt
from tui_scheduler.ui import messages as msg
from tui_scheduler.ui.actions import JobActions
from tui_scheduler.ui.commands import JobCommands
from tui_scheduler.ui.failure_toasts import FailureToasts
from tui_scheduler.ui.preferences import Preferences
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.home import HomeScreen
from tui_scheduler.ui.screens.unsaved import UnsavedInput

if TYPE_CHECKING:  # the store and engine stack loads after the first frame (ui.boot)
    from tui_scheduler.engine.surface import EngineSurface, RunHandle
    from tui_scheduler.store.db import Store
    from tui_scheduler.ui.boot import Boot
    from tui_scheduler.ui.bridge import EngineBridge


class SchedulerApp(JobActions, App[None]):
    """A live job table with single-key actions over one database and its engine."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-scheduler"
    COMMANDS = App.COMMANDS | {JobCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("q", "quit", "Quit", id="app.quit",
                tooltip="Quit (asks first while runs are active or a form is unsaved)"),
    ]

    class Booted(Message):
        """The boot thread finished: the store and engine are ready, or it failed."""

    def __init__(self, store: Store | None = None, engine: EngineSurface | None = None, *,
                 boot: Boot | None = None, clock: Callable[[], datetime] | None = None,
                 hostname: str | None = None, preferences: Preferences | None = None) -> None:
        super().__init__()
        self.preferences = preferences or Preferences()
        """The user's remembered choices (the theme); in memory unless the launcher
        hands the user's file."""
        self.store = store
        """The open database; None until ``boot`` has opened it."""
        self.engine = engine
        """The engine running in this process (started or not), or the stand-in
        attached to another process's; None until ``boot`` has started it."""
        self.boot = boot
        """Opens the database and starts the engine after the first frame, when the
        app is not handed them ready-made."""
        self.hostname = hostname or socket.gethostname()
        """Shown in the header; pinned in snapshot tests."""
        self._clock = clock
        self.home = HomeScreen()
        """The job table, always at the bottom of the screen stack."""
        self._bridge: EngineBridge | None = None
        self.failure_toasts = FailureToasts()
        """Which failures raise a toast: repeats collapsed, muted jobs silent."""
        self.freeze_gc = False
        """Set by the launcher: this app owns the process (never in tests)."""
        self.quit_on_signals = False
        """Set by the launcher: SIGHUP and SIGTERM quit as ``q`` + yes (``ui.hangup``)."""
        self.stopping_runs: set[int] = set()
        """Runs this console sent a stop to that have not ended: shown as "stopping"."""

    @property
    def ready(self) -> bool:
        """The store and the engine are there (screens other than home need them)."""
        return self.engine is not None and self.store is not None

    def now(self) -> datetime:
        """The time every screen draws with (aware UTC); pinned in snapshot tests."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    def settled(self) -> None:
        """The job table is on screen for the first time."""
        if self.freeze_gc:
            # What start-up built (modules, the table's rows, the engine) lives as long as
            # the process: keep it out of the collector's full passes, which otherwise
            # scan it all (~100 ms holding the GIL, a stalled frame) every few seconds.
            gc.freeze()

    def get_default_screen(self) -> HomeScreen:
        return self.home

    def on_mount(self) -> None:
        if self.quit_on_signals:  # before the engine starts: no run outlives a hang-up
            from tui_scheduler.ui.hangup import quit_on_signals

            quit_on_signals(self)
        saved = self.preferences.get("theme")
        if isinstance(saved, str) and saved in self.available_themes:
            self.theme = saved
        self.theme_changed_signal.subscribe(
            self, lambda theme: self.preferences.set("theme", theme.name))
        if self.ready:
            self._connect()
        elif self.boot is not None:
            # After the first frame is out: the boot thread's imports hold the GIL.
            self.call_after_refresh(self.boot.start, self._post_booted)

    def _post_booted(self) -> None:
        """Called on the boot thread."""
        try:
            self.post_message(self.Booted())
        except RuntimeError:
            pass  # the app already closed; the launcher reads the boot's outcome

    def on_scheduler_app_booted(self, _message: Booted) -> None:
        boot = self.boot
        if boot is None or boot.error is not None or boot.engine is None:
            self.exit(return_code=1)  # the launcher prints why, once the screen is gone
            return
        self.store, self.engine = boot.store, boot.engine
        self._connect()
        self.home.engine_ready()

    def _connect(self) -> None:
        from tui_scheduler.ui.bridge import EngineBridge

        self._bridge = EngineBridge(self, self.engine.bus)

    def on_unmount(self) -> None:
        if self._bridge is not None:
            self._bridge.close()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast (screens' ``notify`` lands here): toasts quote job names, errors and
        a job's last stderr line, so their controls are made visible and no text is read
        as markup."""
        super().notify(safe_text(message), title=fmt.one_line(title), severity=severity,
                       timeout=timeout, markup=False)

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
        self.stopping_runs.discard(message.run_id)
        note = (self.failure_toasts.on_failure(message.job_id, self.now())
                if message.status in FAILURE_STATUSES else None)
        if note is not None:
            name = self.home.job_name(message.job_id)
            detail = f": {message.error}" if message.error else ""
            self.notify(f"{name}: run #{message.run_id} {fmt.status_label(message.status)}"
                        f"{detail}{note}", title=f"{name} failed", severity="error",
                        timeout=10, markup=False)
        self._fan_out(message)

    def on_stop_requested(self, message: msg.StopRequested) -> None:
        # A run that ended before this message arrived is not stopping any more.
        going = {run.run_id for run in self.engine.running_runs(message.job_id)} \
            if self.engine is not None else set()
        self.stopping_runs.update(set(message.run_ids) & going)
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
        """Quit; when a form holds unsaved input or runs are active, say what would be
        lost and ask first. ``q``, ctrl+q, ctrl+c and the palette all come here."""
        if isinstance(self.screen, ConfirmScreen):
            return
        question = quit_question(
            [s.unsaved_what for s in self.screen_stack if isinstance(s, UnsavedInput) and s.dirty],
            # Attached to a daemon: its jobs carry on after this console goes.
            [] if self.engine is None or self.engine.attached else self.engine.running_runs())
        if question is None:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()
        self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), answered)

    async def action_help_quit(self) -> None:
        """ctrl+c (when no text is selected to copy): quit, asking as ``q`` does."""
        await self.action_quit()


def quit_question(unsaved: list[str], runs: Sequence[RunHandle]) -> str | None:
    """What quitting now would lose, as a question; None when nothing would be."""
    parts = []
    if unsaved:
        parts.append(f"Not saved, lost if you quit: {'; '.join(unsaved)}.")
    if runs:
        names = ", ".join(sorted({run.job.name for run in runs}))
        many = len(runs) > 1
        parts.append(f"{len(runs)} run{'s are' if many else ' is'} still going: {names}.\n\n"
                     f"Quitting stops the engine: {'they get' if many else 'it gets'} SIGTERM "
                     f"(SIGKILL after the grace time) and {'are' if many else 'is'} recorded "
                     "as stopped.")
    return "\n\n".join(parts) + " Quit anyway?" if parts else None
