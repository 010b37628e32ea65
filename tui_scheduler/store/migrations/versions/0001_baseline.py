"""Baseline: the schema-1 tables exactly as the release before Alembic created them.

A database made by that release (a ``meta`` row ``schema_version`` = 1 and no
``alembic_version`` table) is stamped at this revision instead of running it.
Written out column by column, never from the models, so it stays what it was when the
models change.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Aware datetimes: TIMESTAMP WITH TIME ZONE on PostgreSQL, DATETIME (UTC) on SQLite.
UTC_TIME = sa.DateTime(timezone=True)


def _text(name: str, **kwargs: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=False, **kwargs)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("name"), _text("description"), _text("kind"), _text("target"),
        _text("schedule"), _text("timezone"),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("stop_grace_s", sa.Float(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_delay_s", sa.Float(), nullable=False),
        sa.Column("retry_backoff", sa.Float(), nullable=False),
        sa.Column("retry_max_delay_s", sa.Float(), nullable=False),
        _text("overlap"), _text("misfire"),
        sa.Column("catchup_limit", sa.Integer(), nullable=False),
        sa.Column("stop_on_error", sa.Boolean(), nullable=False),
        sa.Column("restartable", sa.Boolean(), nullable=False),
        _text("params"), _text("env"), _text("workdir"), _text("tags"), _text("engines"),
        _text("state"),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("deleted_at", UTC_TIME, nullable=True),
        sa.Column("last_fire_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    live = sa.text("deleted_at IS NULL")
    op.create_index("ux_job_name_live", "job", ["name"], unique=True,
                    sqlite_where=live, postgresql_where=live)

    op.create_table(
        "engine_lock",
        # The one row is always id 1 (a Python-side default), so no sequence.
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        _text("host"),
        sa.Column("pid", sa.Integer(), nullable=False),
        _text("token"),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("heartbeat_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "engine_node",
        _text("token"), _text("host"),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("heartbeat_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_table(
        "control",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("action"),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        _text("payload"),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("done_at", UTC_TIME, nullable=True),
        _text("result"), _text("claimed_by"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_control_done_at", "control", ["done_at"])
    meta = op.create_table(
        "meta",
        _text("key"), _text("value"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        _text("trigger"), _text("status"),
        sa.Column("scheduled_for", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        _text("error"),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _text("host"),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("progress_done", sa.Float(), nullable=True),
        sa.Column("progress_total", sa.Float(), nullable=True),
        _text("progress_message"),
        sa.Column("output_bytes", sa.Integer(), nullable=False),
        sa.Column("output_truncated", sa.Boolean(), nullable=False),
        _text("params"), _text("owner"),
        _text("shard", server_default=""),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"]),
    )
    op.create_index("ix_run_status", "run", ["status"])
    op.create_index("ix_run_job_id_desc", "run", ["job_id", "id"])
    fire = sa.text("trigger IN ('schedule', 'catch-up')")
    op.create_index("ux_run_fire", "run", ["job_id", "scheduled_for", "shard"], unique=True,
                    sqlite_where=fire, postgresql_where=fire)
    op.create_table(
        "run_output",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("stream"), _text("text"),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("nbytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
    )
    op.create_index("ix_run_output_run_seq", "run_output", ["run_id", "seq"])
    # The rows the release wrote into a new database; migrate.py keeps schema_version at
    # the head's number after each upgrade.
    op.bulk_insert(meta, [{"key": "schema_version", "value": "1"},
                          {"key": "change_counter", "value": "0"}])


def downgrade() -> None:
    for table in ("run_output", "run", "meta", "control", "engine_node", "engine_lock", "job"):
        op.drop_table(table)
