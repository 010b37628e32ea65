"""job.secrets: the env/param names whose values the console and CLI mask.

A JSON list of names; '[]' (nothing masked) for every existing job.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds a NOT NULL column with a constant default in place (no table copy);
    # batch mode copies the table only where SQLite cannot alter it directly.
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("secrets", sa.String(), nullable=False,
                                   server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("secrets")
