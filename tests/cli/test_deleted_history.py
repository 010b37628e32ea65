"""A deleted job's history as a user reaches it: real subprocesses on a real database file.

`rm` keeps the runs; `runs NAME`, `log RUN_ID` and `list --deleted` reach them (with the
name reused by a new job too, through `--deleted`) until `purge` removes them.
"""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys

import pytest

from tests.cli.test_cli import cli, ok


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "jobs.db")


def _made_and_deleted(db, name: str, word: str) -> int:
    ok(db, "add", name, "--manual", "--command", f"echo {word}")
    ok(db, "run", name, "--wait")
    run_id = json.loads(ok(db, "runs", name, "--json").stdout)[0]["id"]
    ok(db, "rm", name)
    return run_id


def test_runs_and_log_of_a_deleted_job(db):
    run_id = _made_and_deleted(db, "nightly", "from-the-old-job")
    result = ok(db, "runs", "nightly")
    assert "(deleted job #" in result.stdout.splitlines()[0]
    assert f"{run_id:>7}  succeeded" in result.stdout
    records = json.loads(ok(db, "runs", "nightly", "--json").stdout)
    assert [(r["id"], r["job_deleted"]) for r in records] == [(run_id, True)]
    assert ok(db, "log", str(run_id)).stdout == "from-the-old-job\n"
    listed = json.loads(ok(db, "list", "--deleted", "--json").stdout)
    assert [(j["name"], j["runs"], j["last_status"]) for j in listed] == [
        ("nightly", 1, "succeeded")]
    assert json.loads(ok(db, "list", "--json").stdout) == []  # not among the live jobs
    table = ok(db, "list", "--deleted").stdout.splitlines()
    assert table[0].split() == ["ID", "DELETED", "RUNS", "LAST", "NAME"]
    assert table[1].split()[-1] == "nightly"


def test_a_reused_name_keeps_the_deleted_history_apart(db):
    old_run = _made_and_deleted(db, "report", "old")
    ok(db, "add", "report", "--manual", "--command", "echo new")
    ok(db, "run", "report", "--wait")
    live = cli(db, "runs", "report", "--json")
    assert [r["job_deleted"] for r in json.loads(live.stdout)] == [False]
    assert "runs report --deleted" in live.stderr  # the older history is pointed at
    deleted = json.loads(ok(db, "runs", "report", "--deleted", "--json").stdout)
    assert [(r["id"], r["job_deleted"]) for r in deleted] == [(old_run, True)]
    assert ok(db, "log", str(old_run)).stdout == "old\n"
    # Two deleted jobs of one name: the newest is shown, the other one by its id.
    ok(db, "rm", "report")
    ids = [j["id"] for j in json.loads(ok(db, "list", "--deleted", "--json").stdout)]
    assert len(ids) == 2
    both = cli(db, "runs", "report")
    assert both.returncode == 0 and "2 deleted jobs are named 'report'" in both.stderr
    assert f"deleted job #{ids[0]}" in both.stdout
    older = ok(db, "runs", str(ids[1]), "--deleted", "--json")
    assert [r["id"] for r in json.loads(older.stdout)] == [old_run]


def test_purge_needs_yes_then_removes_the_history(db):
    run_id = _made_and_deleted(db, "gone", "bye")
    ok(db, "add", "kept", "--manual", "--command", "echo stays")
    ok(db, "run", "kept", "--wait")
    asked = cli(db, "purge", "gone", stdin="y\n")  # not a terminal: no question, no purge
    assert asked.returncode == 2 and "--yes" in asked.stderr
    assert len(asked.stderr.strip().splitlines()) == 1
    assert ok(db, "log", str(run_id)).stdout == "bye\n"
    live = cli(db, "purge", "kept", "--yes")
    assert live.returncode == 2 and "is not deleted" in live.stderr
    missing = cli(db, "purge", "nosuch", "--yes")
    assert missing.returncode == 1 and "no deleted job named 'nosuch'" in missing.stderr
    result = ok(db, "purge", "gone", "--yes")
    assert "purged deleted job 'gone'" in result.stdout and "1 run" in result.stdout
    assert json.loads(ok(db, "list", "--deleted", "--json").stdout) == []
    assert cli(db, "log", str(run_id)).returncode == 1
    assert cli(db, "runs", "gone").returncode == 1
    with sqlite3.connect(db) as conn:
        left = conn.execute("SELECT count(*) FROM run_output WHERE run_id = ?",
                            (run_id,)).fetchone()[0]
        kept = conn.execute("SELECT count(*) FROM run").fetchone()[0]
    assert left == 0 and kept == 1  # the live job's run is untouched
    assert ok(db, "runs", "kept").stdout.count("succeeded") == 1


def test_purge_asks_on_a_terminal(db):
    run_id = _made_and_deleted(db, "asked", "x")

    def purge(answer: bytes) -> tuple[int, str]:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", db, "purge",
                                 "asked"], stdin=follower, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.close(follower)
        os.write(leader, answer)
        out, err = proc.communicate(timeout=60)
        os.close(leader)
        return proc.returncode, out + err

    code, text = purge(b"n\n")
    assert code == 1 and "nothing purged" in text
    assert ok(db, "log", str(run_id)).stdout == "x\n"
    code, text = purge(b"y\n")
    assert code == 0 and "purged deleted job 'asked'" in text
    assert cli(db, "log", str(run_id)).returncode == 1
