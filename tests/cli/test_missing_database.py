"""A mistyped --db path is reported, never created: only the commands that make jobs (and
the console and the daemon) create a database; every other command says there is none,
exits 2 and leaves no folder or file behind. Real subprocesses, real SQLite files."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from tests.helpers import assert_refused, cli

READERS = [("list",), ("list", "--json"), ("show", "x"), ("runs", "x"), ("log", "1"),
           ("export",), ("db", "status"), ("db", "upgrade"), ("db", "backup", "copy.db")]
ACTING_ON_A_JOB = [("rm", "x"), ("pause", "x"), ("run", "x"), ("stop", "x"),
                   ("purge", "x", "--yes"), ("edit", "x", "--tz", "UTC")]


@pytest.mark.parametrize("args", READERS + ACTING_ON_A_JOB, ids=" ".join)
def test_a_missing_database_is_reported_and_nothing_is_created(tmp_path, monkeypatch, args):
    db = tmp_path / "typo" / "sub" / "x.db"
    monkeypatch.chdir(tmp_path)  # `db backup copy.db` would write there
    for _ in range(2):  # the second run used to find the first one's folders
        line = assert_refused(cli(str(db), *args), f"no database at {db}",
                              "nothing was created", "--db")
        assert "tui-scheduler add" in line
    assert not (tmp_path / "typo").exists() and not (tmp_path / "copy.db").exists()


def test_the_environment_path_is_not_created_either(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "nope" / "env.db"
    result = subprocess.run([sys.executable, "-m", "tui_scheduler", "list"], text=True,
                            capture_output=True, check=False, timeout=60,
                            env={**os.environ, "TUI_SCHEDULER_DB": str(db)})
    assert_refused(result, f"no database at {db}", "$TUI_SCHEDULER_DB")
    assert not db.parent.exists()


@pytest.mark.parametrize("empty", ["file", "sqlite"])
def test_an_empty_file_is_not_turned_into_a_database_by_a_reader(tmp_path, empty):
    db = tmp_path / "empty.db"
    fd = os.open(db, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    if empty == "sqlite":
        sqlite3.connect(db).execute("VACUUM").connection.close()
    before = db.read_bytes()
    assert_refused(cli(str(db), "list"), f"no database at {db}")
    assert db.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["empty.db"]  # no -wal / -shm either


def test_writers_create_it_owner_only_with_every_folder(tmp_path):
    db = tmp_path / "new" / "deeper" / "x.db"
    result = cli(str(db), "add", "x", "--manual", "--command", "true")
    assert result.returncode == 0, result.stderr
    for folder in (tmp_path / "new", tmp_path / "new" / "deeper"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    listed = cli(str(db), "list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("x\t")


def test_import_creates_it_too(tmp_path):
    source = tmp_path / "jobs.toml"
    source.write_text('[[job]]\nname = "n"\nschedule = "manual"\ntarget = "true"\n')
    db = tmp_path / "made" / "x.db"
    result = cli(str(db), "import", str(source))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
