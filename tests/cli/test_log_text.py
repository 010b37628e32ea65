"""What `log` and `run --wait` give back through a pipe is the output as stored, which is
text, not the job's bytes (README, "What is sanitised"): invalid UTF-8 and NULs are
U+FFFD, CR/LF/CRLF each end a line written back as one newline, and no stand-in (`^@`)
is added. Real subprocesses against a real SQLite file."""

from __future__ import annotations

import subprocess
import sys

from tui_scheduler.store.jobs import create_job

STORED = "a\ufffdb\ufffdc\nmid\nlast\n".encode()


def test_output_is_given_back_as_stored_text_not_bytes(store, db_path):
    create_job(store, {"name": "bytes", "schedule": "manual",
                       "target": r"printf 'a\000b\377c\r\nmid\rlast'"})
    argv = [sys.executable, "-m", "tui_scheduler", "--db", db_path]
    ran = subprocess.run([*argv, "run", "bytes", "--wait"], capture_output=True,
                         timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == STORED
    logged = subprocess.run([*argv, "log", "1"], capture_output=True, timeout=60, check=False)
    assert logged.returncode == 0 and logged.stdout == STORED
