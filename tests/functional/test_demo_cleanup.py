"""``tui-scheduler --demo`` works on a throwaway database in a temporary folder: however
the console ends (quit, SIGTERM, SIGHUP, the terminal closed under it), the folder goes
with it. The real console in a pseudo-terminal, with its own temporary folder."""

from __future__ import annotations

import os
import signal

import pytest

from tests.functional.pty_console import PtyConsole
from tests.helpers import wait_for


def _demo(tmp_path) -> PtyConsole:
    term = PtyConsole("--demo", env={"TMPDIR": str(tmp_path)})
    wait_for(lambda: "engine running" in term.text, timeout=30, what="the demo's engine")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("tui-scheduler-demo-")]
    return term


def _left(tmp_path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


def test_demo_folder_goes_when_quit_with_q(tmp_path):
    term = _demo(tmp_path)
    term.press("q")
    # The demo's jobs may be running: then quitting asks first.
    if term.wait_for("still going", timeout=3):
        term.press("y")
    assert term.wait(20) == 0, term.text
    assert _left(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_demo_folder_goes_when_the_console_is_signalled(tmp_path, sig):
    term = _demo(tmp_path)
    os.kill(term.pid, sig)
    assert term.wait(15) == 0, term.text
    assert _left(tmp_path) == []


def test_demo_folder_goes_when_the_terminal_closes(tmp_path):
    term = _demo(tmp_path)
    term.hang_up()
    term.wait(15)
    assert _left(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_demo_folder_goes_when_signalled_while_starting(tmp_path, sig):
    """The signal lands before the console has put up its own handlers."""
    term = PtyConsole("--demo", env={"TMPDIR": str(tmp_path)})
    wait_for(lambda: any(tmp_path.iterdir()), timeout=30, what="the demo's folder")
    os.kill(term.pid, sig)
    term.wait(15)
    assert _left(tmp_path) == []
