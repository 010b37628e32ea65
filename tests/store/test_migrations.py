"""Schema migrations on real SQLite files: the schema-1 database the release before Alembic
wrote (tests/fixtures/schema1.db, made with that release) upgrades with nothing lost, a newer
database is refused untouched, and ``tui-scheduler db status|upgrade|backup`` as users run
them (real subprocesses)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from tui_scheduler.store import jobs, migrate, output, runs
from tui_scheduler.store.db import StoreError, open_store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCHEMA1 = FIXTURES / "schema1.db"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_rows(path: Path) -> dict[str, list[dict]]:
    """Every row of every table but Alembic's own, as plain dicts, in rowid order."""
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name != 'alembic_version'")]
        return {name: [dict(row) for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY 1')]
                for name in names}


def schema_sql(path: Path) -> set[tuple[str, str, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return set(conn.execute("SELECT type, name, sql FROM sqlite_master "
                                "WHERE tbl_name != 'alembic_version'"))


def scalar(path: Path, sql: str):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchone()[0]


def cli(db: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=120, check=False, **kwargs)


@pytest.fixture
def old_db(tmp_path) -> Path:
    """A copy of the schema-1 database (the fixture itself is never opened)."""
    target = tmp_path / "old.db"
    shutil.copy(SCHEMA1, target)
    target.chmod(0o600)
    return target


def test_schema1_database_upgrades_with_every_row_intact(old_db):
    before = table_rows(old_db)
    assert len(before["job"]) == 6 and len(before["run"]) == 6 and before["run_output"]
    store = open_store(str(old_db))
    try:
        assert [j.name for j in jobs.list_jobs(store)] == sorted(
            j["name"] for j in before["job"] if j["deleted_at"] is None)
        ping = jobs.get_job(store, "ping")
        assert ping.secrets == "[]" and ping.paused
        (run,) = runs.list_runs(store, ping.id)
        assert output.iter_lines(output.read_chunks(store, run.id)) == [("out", "pong")]
    finally:
        store.close()
    after = table_rows(old_db)
    assert set(after) == set(before)
    for row_before, row_after in zip(before["job"], after["job"], strict=True):
        assert row_after.pop("secrets") == "[]"
        assert row_after == row_before
    for name in set(before) - {"job", "meta"}:
        assert after[name] == before[name], name
    meta = {row["key"]: row["value"] for row in after["meta"]}
    # The change counter carries on; schema_version follows the head for older releases.
    assert meta == {"change_counter": "8", "schema_version": str(int(migrate.HEAD))}
    assert scalar(old_db, "SELECT version_num FROM alembic_version") == migrate.HEAD


def test_baseline_revision_is_the_schema1_release_schema_exactly(tmp_path):
    path = tmp_path / "baseline.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.upgrade(migrate._alembic_config(conn), migrate.BASELINE)
        conn.commit()
    engine.dispose()
    assert schema_sql(path) == schema_sql(SCHEMA1)


def test_fresh_database_is_created_at_head_matching_the_models(tmp_path):
    path = tmp_path / "fresh.db"
    open_store(str(path)).close()
    assert scalar(path, "SELECT version_num FROM alembic_version") == migrate.HEAD
    assert {row["key"]: row["value"] for row in table_rows(path)["meta"]} == {
        "schema_version": str(int(migrate.HEAD)), "change_counter": "0"}
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    engine.dispose()


def test_head_constant_is_alembics_head_and_revisions_are_numbered():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [migrate.HEAD]
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert chain == [f"{n:04d}" for n in range(1, len(chain) + 1)]


def test_downgrade_to_nothing_and_back(tmp_path):
    path = tmp_path / "round.db"
    open_store(str(path)).close()
    schema = schema_sql(path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.downgrade(migrate._alembic_config(conn), "base")
        conn.commit()
        assert schema_sql(path) == set()
        command.upgrade(migrate._alembic_config(conn), "head")
        conn.commit()
    engine.dispose()
    assert schema_sql(path) == schema


@pytest.mark.parametrize("newer", [
    "UPDATE meta SET value='3' WHERE key='schema_version'",
    "UPDATE alembic_version SET version_num='0003'",
    "UPDATE alembic_version SET version_num='ae1027a6acf'",
])
def test_newer_database_is_refused_and_left_untouched(tmp_path, newer):
    path = tmp_path / "newer.db"
    open_store(str(path)).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(newer)
        conn.commit()
    digest = sha256(path)
    with pytest.raises(StoreError, match=r"newer tui-scheduler.*upgrade tui-scheduler"):
        open_store(str(path))
    for args in (("add", "x", "--manual", "--command", "true"), ("db", "upgrade"), ("list",)):
        result = cli(path, *args)
        assert result.returncode == 1, args
        assert result.stderr.count("\n") == 1 and "newer tui-scheduler" in result.stderr
    assert sha256(path) == digest


def test_read_only_commands_refuse_an_old_database_and_writers_upgrade_it(old_db):
    digest = sha256(old_db)
    for args in (("list",), ("runs", "ping"), ("show", "ping")):
        result = cli(old_db, *args)
        assert result.returncode == 1
        assert "needs upgrading" in result.stderr
        assert "run `tui-scheduler db upgrade`" in result.stderr
    assert sha256(old_db) == digest
    assert cli(old_db, "pause", "fails").returncode == 0
    assert scalar(old_db, "SELECT version_num FROM alembic_version") == migrate.HEAD
    assert cli(old_db, "list").returncode == 0


def test_db_status_upgrade_status(old_db):
    status = cli(old_db, "db", "status")
    assert status.returncode == 0, status.stderr
    assert "revision  0001" in status.stdout and f"head      {migrate.HEAD}" in status.stdout
    assert "pending" in status.stdout
    upgrade = cli(old_db, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"from revision 0001 to {migrate.HEAD}" in upgrade.stdout
    again = cli(old_db, "db", "upgrade")
    assert "up to date" in again.stdout
    status = cli(old_db, "db", "status")
    assert f"revision  {migrate.HEAD}" in status.stdout and "none needed" in status.stdout


def test_two_writers_upgrading_at_once_both_succeed(old_db):
    procs = [subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", str(old_db),
                               "db", "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(*proc.communicate(timeout=120), proc.returncode) for proc in procs]
    assert all(code == 0 for _, _, code in results), results
    assert sum("upgraded" in out for out, _, _ in results) == 1
    assert scalar(old_db, "SELECT count(*) FROM alembic_version") == 1
    assert len(table_rows(old_db)["job"]) == 6


def test_db_backup_is_an_owner_only_copy_with_every_row(old_db, tmp_path):
    target = tmp_path / "copies" / "backup.db"
    target.parent.mkdir()
    # A loose umask must not leak into the copy.
    result = cli(old_db, "db", "backup", str(target), preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["backup.db"]
    assert scalar(target, "PRAGMA quick_check") == "ok"
    assert table_rows(target) == table_rows(old_db)
    # An old database is backed up as it is (that is the moment to back it up).
    assert scalar(target, "SELECT value FROM meta WHERE key='schema_version'") == "1"

    digest = sha256(target)
    again = cli(old_db, "db", "backup", str(target))
    assert again.returncode == 2 and "--force" in again.stderr
    assert again.stderr.count("\n") == 1 and sha256(target) == digest
    cli(old_db, "pause", "fails")
    forced = cli(old_db, "db", "backup", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert scalar(target, "SELECT version_num FROM alembic_version") == migrate.HEAD


def test_db_backup_bad_targets_and_postgresql_are_one_line_exit_2(old_db, tmp_path):
    for args, words in (((str(tmp_path),), "is a folder"),
                        ((str(tmp_path / "no" / "x.db"),), "does not exist")):
        result = cli(old_db, "db", "backup", *args)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    pg = subprocess.run([sys.executable, "-m", "tui_scheduler", "--db",
                         "postgresql://nobody@localhost:1/none", "db", "backup", "x.db"],
                        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert pg.returncode == 2 and "pg_dump" in pg.stderr and pg.stderr.count("\n") == 1
    assert not (tmp_path / "x.db").exists()


def test_foreign_keys_are_enforced_again_after_an_upgrade(old_db):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    store = open_store(str(old_db))
    try:
        # The pool hands back the connection the upgrade used (foreign keys off meanwhile).
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(IntegrityError):
                conn.execute(text("INSERT INTO run_output (run_id, seq, stream, text, lines, "
                                  "nbytes) VALUES (999, 1, 'out', 'x', 1, 1)"))
    finally:
        store.close()


def test_a_failing_upgrade_changes_nothing(old_db):
    # A column the upgrade wants to add is already there: 0002 fails after the stamp and
    # the whole transaction (stamp included) rolls back.
    with closing(sqlite3.connect(old_db)) as conn:
        conn.execute("ALTER TABLE job ADD COLUMN secrets VARCHAR")
        conn.commit()
    digest = sha256(old_db)
    with pytest.raises(StoreError, match="duplicate column name: secrets"):
        open_store(str(old_db))
    assert sha256(old_db) == digest
    assert scalar(old_db, "SELECT count(*) FROM sqlite_master "
                          "WHERE name = 'alembic_version'") == 0
