"""The CLI on a real terminal never writes a control character a job printed or stored.

``tui-scheduler`` runs as a subprocess on a pseudo-terminal (stdout and stderr both a
tty) against a real SQLite file, and the bytes it writes are checked: every hostile
string of tests/hostile.py appears only as its visible stand-in. Through a pipe, or with
``--raw``, the exact bytes come out (``log 5 > file`` keeps the log as it was).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import sqlite3
import struct
import subprocess
import sys
import termios
import time

import pytest

from tests.cli.test_cli import cli
from tests.hostile import CORPUS, hostile, raw_controls, shown
from tui_scheduler.store.db import open_store
from tui_scheduler.store.jobs import create_job

NAME = "named" + hostile("rlo") + hostile("osc0")
NAME_SHOWN = "named" + shown("rlo") + shown("osc0")
# The colours Rich writes itself (`list` has a bold header on a terminal).
SGR = re.compile(r"\x1b\[[0-9;]*m")
OUT_KINDS = ("osc52", "osc0", "csi2j", "dcs", "apc", "pm", "sos")
ERR_KINDS = ("c1csi", "c1osc", "rlo")

SCRIPT = """\
import json, sys
print(json.dumps({{"progress": 0.5, "message": {progress!r}}}), flush=True)
for line in {out!r}:
    print("out " + line, flush=True)
for line in {err!r}:
    print("err " + line, file=sys.stderr, flush=True)
print("last " + {last!r}, file=sys.stderr, flush=True)
sys.exit(3)
"""


def in_pty(db: str, *args: str, timeout: float = 60,
           stop_at: str | None = None) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on one pseudo-terminal: (exit code, output).
    With ``stop_at``, SIGTERM it once that text was written (a daemon)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 220, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", db, *args],
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env={**os.environ, "TERM": "xterm-256color", "PYTHONUTF8": "1"})
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output += data
            if stop_at is not None and stop_at.encode() in output:
                proc.terminate()
                stop_at = None
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    # The terminal turns each newline into CR LF; any other CR would be the data's.
    return code, output.decode("utf-8", "replace").replace("\r\n", "\n")


def assert_clean(text: str, *standins: str) -> None:
    assert raw_controls(text) == [], text
    for standin in standins:
        assert standin in text, f"{standin!r} not in:\n{text}"


@pytest.fixture
def hostile_db(tmp_path):
    """A database with a job that prints every hostile string, and a job whose stored
    name and description carry them (written past validation, as another program could)."""
    db = str(tmp_path / "hostile.db")
    script = tmp_path / "evil.py"
    script.write_text(SCRIPT.format(progress=hostile("osc52"),
                                    out=[hostile(k) for k in OUT_KINDS],
                                    err=[hostile(k) for k in ERR_KINDS],
                                    last=hostile("isolate")))
    store = open_store(db)
    try:
        create_job(store, {"name": "evil", "schedule": "manual",
                           "target": f"{sys.executable} {script}",
                           "env": {"PYTHONIOENCODING": "utf-8"}})
        named = create_job(store, {"name": "named", "schedule": "manual", "target": "true",
                                   "description": "about " + hostile("osc52") + "\x7f",
                                   "workdir": "/tmp/" + hostile("apc")})
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE job SET name = ? WHERE id = ?", (NAME, named.id))
    return db


OUT_SHOWN = ["out " + shown(k) for k in OUT_KINDS]
ERR_SHOWN = ["err " + shown(k) for k in ERR_KINDS] + ["last " + shown("isolate")]


def test_run_wait_and_log_show_stand_ins_on_a_terminal(hostile_db):
    code, text = in_pty(hostile_db, "run", "evil", "--wait")
    assert code == 3
    assert_clean(text, *OUT_SHOWN, *ERR_SHOWN, "run 1 failed")
    for args in (("log", "1"), ("log", "1", "--follow")):
        code, text = in_pty(hostile_db, *args)
        assert code == 0
        assert_clean(text, *OUT_SHOWN, *ERR_SHOWN)


def test_show_list_runs_and_errors_show_stand_ins_on_a_terminal(hostile_db):
    cli(hostile_db, "run", "evil")
    code, text = in_pty(hostile_db, "show", NAME)
    assert code == 0
    assert_clean(text, NAME_SHOWN, "about " + shown("osc52"), "/tmp/" + shown("apc"))
    code, text = in_pty(hostile_db, "list")
    assert code == 0
    assert_clean(SGR.sub("", text), NAME_SHOWN)
    code, text = in_pty(hostile_db, "runs", "evil")
    assert code == 0 and "failed" in text
    assert_clean(text)
    # An error that quotes what was asked for.
    code, text = in_pty(hostile_db, "show", "gone" + hostile("csi2j"))
    assert code == 1
    assert_clean(text, "gone")


def test_json_on_a_terminal_is_escaped_and_exact(hostile_db):
    """Already true before the sanitiser (ensure_ascii escapes every control): kept so it
    stays true."""
    code, text = in_pty(hostile_db, "show", NAME, "--json")
    assert code == 0
    assert_clean(text)
    data = json.loads(text)
    assert data["name"] == NAME and data["description"] == "about " + hostile("osc52") + "\x7f"


def test_a_pipe_or_raw_gets_the_exact_bytes(hostile_db):
    piped = cli(hostile_db, "run", "evil", "--wait")
    assert piped.returncode == 3
    for kind in OUT_KINDS:
        assert f"out {hostile(kind)}\n" in piped.stdout
    for kind in ERR_KINDS:
        assert f"err {hostile(kind)}\n" in piped.stderr
    logged = cli(hostile_db, "log", "1")
    assert logged.stdout == piped.stdout and logged.stderr.startswith(
        "".join(f"err {hostile(kind)}\n" for kind in ERR_KINDS))
    code, text = in_pty(hostile_db, "log", "1", "--raw")
    assert code == 0
    for raw, _ in CORPUS.values():
        assert raw in text
    code, text = in_pty(hostile_db, "show", NAME, "--raw")
    assert code == 0 and "about " + hostile("osc52") in text


def test_daemon_log_lines_show_stand_ins_on_a_terminal(hostile_db):
    """The foreground daemon logs job names and errors to stderr."""
    with sqlite3.connect(hostile_db) as conn:
        conn.execute("UPDATE job SET schedule = ? WHERE name = ?",
                     ("every " + hostile("c1csi"), NAME))
    code, text = in_pty(hostile_db, "daemon", stop_at="engine started")
    assert code == 0
    assert_clean(text, f"job {NAME_SHOWN} has an unusable schedule", "engine stopped")
