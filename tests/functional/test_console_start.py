"""The console paints before the database and engine are ready (they open on a thread,
``ui.boot``), copes with keys meanwhile, and a database it cannot use still ends it with
one line on stderr and the exit code the CLI gives for it (2 for a path that points at
the wrong thing, 1 for a damaged file) — in Pilot and in a real pseudo-terminal."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from tests.functional.console_support import add_job, record_notifications, until
from tests.functional.pty_console import ROOT, PtyConsole
from tests.helpers import cli
from tui_scheduler.store.db import StoreError
from tui_scheduler.ui.app import SchedulerApp
from tui_scheduler.ui.boot import Boot


class HeldBoot(Boot):
    """A start-up that waits until the test lets it go on."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.go = threading.Event()

    def _open(self) -> None:
        assert self.go.wait(20)
        super()._open()


async def test_first_frame_comes_before_the_engine(store, db_path):
    job = add_job(store, "early")
    boot = HeldBoot(db_path)
    app = SchedulerApp(boot=boot)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause(0.3)
            assert app.engine is None and app.store is None
            assert "engine starting" in app.home.header.render().plain
            assert "Opening the database" in str(app.home.query_one("#hint").render())
            seen = record_notifications(app)
            await pilot.press("r")  # a key before the jobs are read: told to wait
            await until(pilot, lambda: any("Still reading" in s for s in seen))
            boot.go.set()
            await until(pilot, lambda: app.home.loaded, what="the job table")
            assert app.engine is boot.engine and app.store is boot.store
            assert job.id in app.home.table.shown_ids and app.home.table.display
            await until(pilot, lambda: "engine running" in app.home.header.render().plain)
            await pilot.press("q")
            await until(pilot, lambda: app.return_code is not None)
    finally:
        boot.go.set()
        boot.close()
    assert not boot.engine.running


async def test_a_database_that_cannot_be_used_ends_the_app(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    boot = Boot(str(notes))
    app = SchedulerApp(boot=boot)
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    boot.close()
    assert app.return_code == 1
    assert isinstance(boot.error, StoreError) and boot.engine is None


def test_the_real_console_paints_then_loads_then_quits(store, db_path):
    add_job(store, "in-a-pty")
    term = PtyConsole("--db", db_path)
    assert term.wait_for("tui-scheduler"), term.text
    assert term.wait_for("in-a-pty"), term.text
    term.press("q")
    assert term.wait() == 0
    assert term.after_screen().strip() == ""


def _notes(tmp_path) -> str:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    return str(notes)


def _fifo(tmp_path) -> str:
    os.mkfifo(tmp_path / "pipe")
    return str(tmp_path / "pipe")


def _foreign(tmp_path) -> str:
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE job (id INTEGER)")
    return str(tmp_path / "other.db")


def _damaged(tmp_path) -> str:
    path = tmp_path / "damaged.db"
    cli(str(path), "add", "x", "--manual", "--command", "true")
    path.write_bytes(path.read_bytes()[:200])
    return str(path)


@pytest.mark.parametrize("make, code, words", [
    (_notes, 2, "not an SQLite database"),
    (lambda tmp_path: str(tmp_path), 2, "is a folder"),
    (_fifo, 2, "named pipe"),
    (lambda tmp_path: "/proc/self/mem", 2, "/proc/self/mem"),
    (_foreign, 2, "another program"),
    (_damaged, 1, "damaged.db"),
], ids=["text file", "folder", "fifo", "proc-self-mem", "foreign sqlite", "damaged"])
def test_the_real_console_reports_a_bad_database_in_one_line(tmp_path, make, code, words):
    path = make(tmp_path)
    before = os.stat(path)
    term = PtyConsole("--db", path)
    assert term.wait() == code, term.text
    lines = term.after_screen().strip().splitlines()
    assert len(lines) == 1 and words in lines[0], term.text
    assert cli(path, "list").returncode == code  # the CLI's code for the same path
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_the_first_frame_needs_no_database_stack():
    """Importing the app must not load SQLModel, SQLAlchemy or APScheduler: they cost
    most of a second and load on the boot thread, after the first frame."""
    import subprocess
    import sys

    code = ("import sys, tui_scheduler.ui.app\n"
            "heavy = [m for m in ('sqlmodel', 'sqlalchemy', 'apscheduler', "
            "'tui_scheduler.engine', 'tui_scheduler.store.db') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "[]"


def test_the_console_caps_frames_higher_without_leaking_the_setting():
    import subprocess
    import sys

    code = ("import os\n"
            "from tui_scheduler.ui.launch import _cap_frame_rate\n"
            "_cap_frame_rate()\n"
            "import textual.screen\n"
            "print(round(1 / textual.screen.UPDATE_PERIOD), 'TEXTUAL_FPS' in os.environ)")
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.strip()
    assert out == "240 False"
