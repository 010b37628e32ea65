"""Alembic's entry point, run by tui_scheduler.store.migrate (never with an alembic.ini).

The store hands over its own open connection, already inside the transaction (and lock)
that migrate.py took, so the revisions run on the same engine as everything else and
commit or roll back as one.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import tui_scheduler.store.models  # noqa: F401 - fills SQLModel.metadata for autogenerate

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite alters most things only by copying the table; batch mode does that for us.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
