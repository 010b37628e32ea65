"""Files that are not our database: refused in one line and left exactly as they were.

Content (sha256), mtime, the SQLite header (change counter, journal mode bytes) and the
folder listing (no -wal/-shm left beside them) are compared before and after.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.helpers import assert_refused, cli


def _snapshot(path: Path) -> tuple:
    data = path.read_bytes()
    info = os.stat(path)
    return (hashlib.sha256(data).hexdigest(), info.st_mtime_ns, data[:100],
            stat.S_IMODE(info.st_mode), sorted(os.listdir(path.parent)))


def _sqlite(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _foreign_users(path: Path) -> None:
    _sqlite(path, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)",
            "INSERT INTO users(name) VALUES ('ada')")


def _foreign_users_wal(path: Path) -> None:
    _sqlite(path, "PRAGMA journal_mode=WAL", "CREATE TABLE users(id)")


def _job_and_run_without_meta(path: Path) -> None:
    _sqlite(path, "CREATE TABLE job(id INTEGER PRIMARY KEY, name TEXT)",
            "CREATE TABLE run(id INTEGER PRIMARY KEY)", "INSERT INTO job(name) VALUES ('x')")


def _meta_of_another_program(path: Path) -> None:
    _sqlite(path, "CREATE TABLE meta(k, v)", "CREATE TABLE job(id)")


def _text_file(path: Path) -> None:
    path.write_text("precious notes\n")


def _empty_world_readable(path: Path) -> None:
    path.touch()
    path.chmod(0o644)


def _empty_sqlite_with_user_version(path: Path) -> None:
    _sqlite(path, "PRAGMA user_version = 7")


CASES = {
    "sqlite-users": (_foreign_users, "another program"),
    "sqlite-users-wal": (_foreign_users_wal, "another program"),
    "job-and-run-no-meta": (_job_and_run_without_meta, "another program"),
    "a-meta-table-of-its-own": (_meta_of_another_program, "another program"),
    "text-file": (_text_file, "not an SQLite database"),
    "empty-0644": (_empty_world_readable, "others can read (mode 0644"),
    "empty-sqlite-user-version": (_empty_sqlite_with_user_version, "another program"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", [["list"], ["add", "x", "--manual", "--command", "true"]])
def test_a_foreign_file_is_refused_and_left_byte_for_byte(tmp_path, case, command):
    make, words = CASES[case]
    target = tmp_path / "other.db"
    make(target)
    before = _snapshot(target)
    assert_refused(cli(str(target), *command), words, "left untouched")
    assert _snapshot(target) == before


def test_an_empty_owner_only_file_becomes_a_private_database(tmp_path):
    target = tmp_path / "made-by-mktemp.db"
    target.touch(mode=0o600)
    target.chmod(0o600)
    result = cli(str(target), "add", "x", "--manual", "--command", "true")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert "x" in cli(str(target), "list").stdout


def test_a_database_left_empty_by_a_crash_during_creation_is_finished(tmp_path):
    target = tmp_path / "half.db"
    fd = os.open(target, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    _sqlite(target, "PRAGMA journal_mode=WAL")  # what we do first, before any table
    result = cli(str(target), "add", "x", "--manual", "--command", "true")
    assert result.returncode == 0, result.stderr


def test_our_own_database_is_recognised_while_its_tables_are_still_in_the_wal(tmp_path):
    """Identification reads the WAL too: tables an open engine has not checkpointed yet
    still count, so the file is ours, not "an empty database"."""
    from tui_scheduler.store.db import open_store

    target = tmp_path / "ours.db"
    store = open_store(str(target))
    try:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        assert os.path.getsize(f"{target}-wal") > 0
        result = cli(str(target), "add", "x", "--manual", "--command", "true")
        assert result.returncode == 0, result.stderr
    finally:
        store.close()


def test_a_creation_that_fails_midway_leaves_no_half_made_database(tmp_path, monkeypatch):
    """Tables and the schema version are written in one transaction: a failure before the
    version is stored leaves no tables that would later look like another program's."""
    from tui_scheduler.store import db as store_db
    from tui_scheduler.store.models import Meta

    target = tmp_path / "new.db"

    def fail(*_args, **_kwargs):
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(type(Meta.__table__), "insert", fail)
        with pytest.raises(RuntimeError):
            store_db.open_store(str(target))
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    conn.close()
    store = store_db.open_store(str(target))
    store.close()
    assert cli(str(target), "list").returncode == 0
