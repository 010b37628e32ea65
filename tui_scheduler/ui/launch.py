"""``tui-scheduler`` with no subcommand: run the console, open the database and start the
engine in this process, and shut the engine down on the way out.

The first frame comes first: the database and the engine are opened on a thread once the
console is on screen (``ui.boot``), and the job table fills in when they are ready. A
database that cannot be used still ends the console with one line on stderr and the exit
code the CLI gives for it (2 when --db points at the wrong thing, 1 otherwise).

When another live engine (a daemon) holds the database, the console attaches to it:
same screens and keys, actions carried out by that engine, and quitting leaves its jobs
running. ``--demo`` works on a fresh temporary database full of sample jobs.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from functools import partial
from pathlib import Path

# Textual paints at most this many frames a second; its default (60) makes a key that
# lands just after a frame wait up to 17 ms for the next (p99 key-to-frame under load
# went from ~55-80 ms to ~40 ms). Frames are only painted when something changed, so a
# higher cap costs nothing while the screen is still; animations keep their own 60 fps.
FRAME_RATE_CAP = "240"


def launch_console(args) -> int:
    _cap_frame_rate()
    from tui_scheduler.store.paths import resolve_db_path
    from tui_scheduler.ui.boot import Boot

    demo_dir: Path | None = None
    if getattr(args, "demo", False):
        from tui_scheduler.ui.hangup import leave_with

        demo_dir = Path(tempfile.mkdtemp(prefix="tui-scheduler-demo-"))
        leave_with(partial(shutil.rmtree, demo_dir, ignore_errors=True))
        location = str(demo_dir / "demo.db")
    else:
        location = resolve_db_path(args.db)
    boot = Boot(location, demo=demo_dir is not None)
    try:
        try:
            _quiet_logging()
            from tui_scheduler.ui.app import SchedulerApp
            from tui_scheduler.ui.preferences import Preferences, default_preferences_path

            # The demo is a throwaway: it must not change the user's remembered theme.
            app = SchedulerApp(boot=boot, preferences=Preferences(
                None if demo_dir is not None else default_preferences_path()))
            app.freeze_gc = True
            app.quit_on_signals = True
            app.run()
        finally:
            from tui_scheduler.ui.hangup import hold_signals

            hold_signals()
            boot.close()
        if boot.error is not None:
            return _report(boot.error)
        return app.return_code or 0
    finally:
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)


def _report(error: BaseException) -> int:
    """A failed start-up, after the screen is restored: a database we cannot use is one
    line and its ``StoreError.code`` (as the CLI exits for it); anything else goes to the
    CLI's handlers as before."""
    from tui_scheduler.store.db import StoreError

    if isinstance(error, StoreError):
        from tui_scheduler.core.safe_text import safe_text

        print(f"tui-scheduler: {safe_text(error)}", file=sys.stderr)  # may quote the file
        return error.code
    raise error


def _cap_frame_rate() -> None:
    """Textual reads ``TEXTUAL_FPS`` once, when first imported; the user's own setting
    wins, and the jobs this process starts do not inherit ours."""
    if "TEXTUAL_FPS" in os.environ:
        return
    os.environ["TEXTUAL_FPS"] = FRAME_RATE_CAP
    try:
        import textual.constants  # noqa: F401 - read now, while the variable is set
    finally:
        del os.environ["TEXTUAL_FPS"]


def _quiet_logging() -> None:
    """Engine log records must not print over the full-screen console: send them to
    Textual's devtools log (``textual console``) instead of stderr."""
    from textual.logging import TextualHandler

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(TextualHandler())
        root.setLevel(logging.WARNING)
