"""A database written by an older version is upgraded in place, its data kept.

The schema-1 SQLite file is built from the DDL that schema-1 code wrote (dumped from a
real file into schema1_sqlite.sql), then opened with today's code.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect, text

from tui_scheduler.store.db import open_store
from tui_scheduler.store.jobs import get_job, job_fields, update_job
from tui_scheduler.store.models import SCHEMA_VERSION

SCHEMA1 = Path(__file__).with_name("schema1_sqlite.sql")
JOB_ROW = ("INSERT INTO job (id, name, description, kind, target, schedule, timezone, enabled, "
           "paused, timeout_s, stop_grace_s, retries, retry_delay_s, retry_backoff, "
           "retry_max_delay_s, overlap, misfire, catchup_limit, stop_on_error, restartable, "
           "params, env, workdir, tags, engines, state, created_at, updated_at) VALUES "
           "(7, 'nightly', 'kept', 'command', 'echo hi', '0 2 * * *', '', 1, 0, NULL, 10, 0, "
           "30, 2, 3600, 'skip', 'skip', 10, 0, 0, '{\"db\": \"x\"}', "
           "'{\"API_TOKEN\": \"tok-123456\"}', '', 'a,b', '', '{}', "
           "'2026-11-01 00:00:00', '2026-11-01 00:00:00')")
RUN_ROW = ("INSERT INTO run (id, job_id, \"trigger\", status, created_at, error, attempt, host, "
           "progress_message, output_bytes, output_truncated, params, owner) VALUES "
           "(3, 7, 'manual', 'succeeded', '2026-11-01 00:00:00', '', 1, 'h', '', 0, 0, '{}', '')")


def _schema1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA1.read_text())
    conn.execute(JOB_ROW)
    conn.execute(RUN_ROW)
    conn.commit()
    conn.close()


def _version(store) -> str:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()


def test_schema_1_sqlite_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    _schema1_file(path)
    store = open_store(str(path))
    try:
        assert SCHEMA_VERSION == 2 and _version(store) == "2"
        with store.engine.connect() as conn:
            assert "secrets" in {c["name"] for c in inspect(conn).get_columns("job")}
            assert conn.execute(text("SELECT count(*) FROM run WHERE job_id=7")).scalar() == 1
        job = get_job(store, "nightly")
        fields = job_fields(job)
        assert (job.id, job.description, fields["tags"]) == (7, "kept", ["a", "b"])
        assert fields["env"] == {"API_TOKEN": "tok-123456"} and fields["secrets"] == []
        update_job(store, "nightly", {"secrets": ["db"]})
        assert job_fields(get_job(store, "nightly"))["secrets"] == ["db"]
    finally:
        store.close()
    # Opening again is a no-op, and the CLI reads it like any database of ours.
    result = subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", str(path), "show",
                             "nightly", "--json"], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["secrets"] == ["db"] and shown["params"] == {"db": "********"}
    assert "tok-123456" not in result.stdout


def test_schema_1_postgres_database_is_upgraded_in_place(pg_url):
    store = open_store(pg_url)
    # Schema 1 on PostgreSQL is today's schema without the column and with version 1.
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE job DROP COLUMN secrets"))
        conn.execute(text("UPDATE meta SET value='1' WHERE key='schema_version'"))
        conn.execute(text(JOB_ROW.replace("'2026-11-01 00:00:00'",
                                          "'2026-11-01 00:00:00+00'")
                          .replace(" 1, 0, NULL", " true, false, NULL")
                          .replace("10, 0, 0, '{", "10, false, false, '{")))
    store.close()
    store = open_store(pg_url)
    try:
        assert _version(store) == "2"
        job = get_job(store, "nightly")
        assert job.description == "kept" and job_fields(job)["secrets"] == []
    finally:
        store.close()
