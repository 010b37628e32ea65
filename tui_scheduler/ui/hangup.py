"""SIGHUP and SIGTERM end the console as ``q`` + yes does.

sshd sends SIGHUP when the connection drops; systemd and ``kill`` send SIGTERM. Left to
Python's default, either kills the process on the spot: the engine's runs lose their
records (a ghost ``running`` row until some later engine start) and the terminal stays in
application mode. Here either signal stops the engine at once (runs stopped and recorded,
or, attached to a daemon, just detached: its jobs carry on) and makes the app exit, so
Textual's driver gives the terminal back.

When the terminal itself is gone (the SSH connection dropped), writes to it fail: the
console's standard streams move to /dev/null so the app's teardown can finish, and should
it still hang (Textual's writer thread died on a failed write before that), the process
leaves a few seconds after the engine is down rather than never.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class SchedulerApp(Protocol):
    """What a hang-up needs of the console app (declared here, so this module does not
    import the app that installs it)."""

    boot: Any
    """The app's start-up helper (None before it exists): ``stop_engine()``."""

    def exit(self) -> None: ...

SIGNALS = (signal.SIGHUP, signal.SIGTERM)
TEARDOWN_GRACE_S = 3.0
"""How long the app may take to exit once the engine is down."""

_on_leave: list[Callable[[], None]] = []


def leave_with(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` (removing the demo's temporary folder) on the ways out that skip
    the launcher's ``finally``: SIGHUP or SIGTERM landing while the console starts, before
    its own handlers are up (the default action would kill the process there), and the
    forced exit after a stalled teardown. Call it before the app runs."""
    _on_leave.append(cleanup)
    for sig in SIGNALS:
        signal.signal(sig, _clean_then_die)


def _clean_up() -> None:
    while _on_leave:
        _on_leave.pop()()


def _clean_then_die(signum: int, _frame: object) -> None:
    """Too early for the orderly quit (nothing is running yet): clean up and end as the
    signal's default action would."""
    _clean_up()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def quit_on_signals(app: SchedulerApp) -> None:
    """From now on SIGHUP and SIGTERM quit ``app`` (call on its event loop)."""
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        loop.add_signal_handler(sig, _hang_up, app)


def hold_signals() -> None:
    """Once the app is gone (its loop's handlers with it): a second SIGHUP or SIGTERM
    must not cut the engine's shutdown short. A handler rather than SIG_IGN, which a job
    started meanwhile would inherit."""
    for sig in SIGNALS:
        signal.signal(sig, _later)


def _later(_signum: int, _frame: object) -> None:
    """The shutdown under way ends the process anyway."""


def _hang_up(app: SchedulerApp) -> None:
    if not _terminal_alive():
        _detach_from_terminal()
    if app.boot is not None:
        threading.Thread(target=_stop_then_leave, args=(app,), name="console-hangup",
                         daemon=True).start()
    app.exit()


def _stop_then_leave(app: SchedulerApp) -> None:
    """Stop the engine now, not after the app's teardown (which a dead terminal can
    stall); then give the teardown its grace time. A daemon thread: a process that ends
    normally ends it too."""
    app.boot.stop_engine()
    time.sleep(TEARDOWN_GRACE_S)
    _clean_up()
    os._exit(0)  # everything is recorded; only the dead screen is left


def _terminal_alive() -> bool:
    try:
        termios.tcgetattr(sys.__stdin__.fileno())
    except (OSError, termios.error, ValueError, AttributeError):
        return False
    return True


def _detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null: reads end, writes succeed."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)
