"""Schema migrations on PostgreSQL: a schema-1 database made by the release before Alembic
(tests/fixtures/schema1_postgres.sql, its pg_dump) upgrades with every row intact; a fresh
one is created at the head; a newer one is refused and left as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from tui_scheduler.store import jobs, migrate
from tui_scheduler.store.db import StoreError, open_store

DUMP = Path(__file__).resolve().parent.parent / "fixtures" / "schema1_postgres.sql"


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table but Alembic's own, in primary-key order."""
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename != 'alembic_version'")]
        result = {}
        for name in names:
            cursor = conn.execute(f'SELECT * FROM "{name}" ORDER BY 1')
            columns = [c.name for c in cursor.description]
            result[name] = [dict(zip(columns, row, strict=True)) for row in cursor]
        return result


def scalar(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.fixture
def old_pg(pg_url) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(DUMP.read_text(encoding="utf-8"))
    return pg_url


def test_schema1_postgres_database_upgrades_with_every_row_intact(old_pg):
    before = table_rows(old_pg)
    assert len(before["job"]) == 6 and len(before["run"]) == 6 and before["run_output"]
    with pytest.raises(StoreError, match="needs upgrading"):
        open_store(old_pg, "refuse")
    assert table_rows(old_pg) == before
    store = open_store(old_pg)
    try:
        assert jobs.get_job(store, "nightly-backup").secrets == "[]"
        # New rows still get ids after the old ones (the sequences came through).
        job = jobs.create_job(store, {"name": "after", "schedule": "manual",
                                      "target": "true"})
        assert job.id == 7 and job.secrets == "[]"
    finally:
        store.close()
    after = table_rows(old_pg)
    after["job"] = [row for row in after["job"] if row["name"] != "after"]
    for row_before, row_after in zip(before["job"], after["job"], strict=True):
        assert row_after.pop("secrets") == "[]"
        assert row_after == row_before
    for name in set(before) - {"job", "meta"}:
        assert after[name] == before[name], name
    assert scalar(old_pg, "SELECT version_num FROM alembic_version") == migrate.HEAD
    assert scalar(old_pg, "SELECT value FROM meta WHERE key='schema_version'") == str(
        int(migrate.HEAD))


def test_fresh_postgres_database_is_at_head_matching_the_models(pg_store, pg_url):
    assert scalar(pg_url, "SELECT version_num FROM alembic_version") == migrate.HEAD
    with pg_store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_newer_postgres_database_is_refused_and_left_as_it_was(pg_store, pg_url):
    pg_store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0003'")
    before = table_rows(pg_url)
    with pytest.raises(StoreError, match="newer tui-scheduler"):
        open_store(pg_url)
    assert table_rows(pg_url) == before
    assert scalar(pg_url, "SELECT version_num FROM alembic_version") == "0003"


def test_db_status_and_upgrade_commands_on_postgres(old_pg, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", old_pg, *args],
                              capture_output=True, text=True, timeout=120, check=False)

    listing = cli("list")
    assert listing.returncode == 1 and "run `tui-scheduler db upgrade`" in listing.stderr
    status = cli("db", "status")
    assert status.returncode == 0 and "revision  0001" in status.stdout
    assert "pending" in status.stdout
    upgrade = cli("db", "upgrade")
    assert upgrade.returncode == 0 and f"to {migrate.HEAD}" in upgrade.stdout, upgrade.stderr
    assert "nightly-backup" in cli("list").stdout
    backup = cli("db", "backup", str(tmp_path / "copy.db"))
    assert backup.returncode == 2 and "pg_dump" in backup.stderr
    assert not (tmp_path / "copy.db").exists()
