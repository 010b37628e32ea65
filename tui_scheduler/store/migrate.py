"""Schema migrations: the Alembic revisions in store/migrations, run on the store's engine.

Revisions are numbered 0001, 0002, ...; a revision's number is the schema version that the
``meta`` row ``schema_version`` keeps in step, because releases before Alembic read only
that row to refuse newer databases. A database from such a release (schema 1, no
``alembic_version`` table) is stamped at the baseline 0001 and then upgraded.

Who upgrades (``OnOld``): whoever writes (the console, the daemon, CLI commands that
change something) upgrades an older database on open; read-only CLI commands refuse it
with "run `tui-scheduler db upgrade`"; ``db status`` and ``db backup`` leave it as it is.
An empty database is created at the head by every caller allowed to create one
(``open_store(create=True)``). A newer database is refused by everyone and left untouched.

Checking costs two small reads and no Alembic import; Alembic loads only to upgrade.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.store.models import SCHEMA_VERSION

if TYPE_CHECKING:
    # Imported inside the functions at run time: alembic loads only when a migration runs.
    from alembic.config import Config

HEAD = f"{SCHEMA_VERSION:04d}"
"""The newest revision this release knows (tests check it is Alembic's head)."""
BASELINE = "0001"
"""The schema of the last release before Alembic."""
MIGRATIONS = Path(__file__).with_name("migrations")

OnOld = Literal["upgrade", "refuse", "keep"]

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: two processes opening an old database upgrade one at a time.
_PG_LOCK_KEY = 0x7475695F_6D696772  # "tui_migr"


class SchemaError(Exception):
    """The schema cannot be used as it is; the message says why and what to do."""


@dataclass(frozen=True)
class SchemaState:
    """What a database says about its own schema."""

    revision: str | None
    """Alembic's ``alembic_version`` row; None before Alembic (or in an empty database)."""
    schema_version: int | None
    """The ``meta`` row every release keeps; None without a meta table."""
    tables: frozenset[str]

    @property
    def current(self) -> str | None:
        """The revision the schema is at, counting a pre-Alembic schema 1 as the baseline."""
        if self.revision is not None:
            return self.revision
        return BASELINE if self.schema_version == 1 else None

    @property
    def pending(self) -> bool:
        return self.current != HEAD


def read_state(conn: Connection) -> SchemaState:
    """Read the schema's revision and version (reads only; works on a read-only file)."""
    tables = frozenset(inspect(conn).get_table_names())
    revision = version = None
    if "alembic_version" in tables:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        # Several rows would mean branches, which this project never makes: refuse below.
        revision = ",".join(rows) if rows else None
    if "meta" in tables:
        found = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()
        version = int(found) if found and str(found).isdigit() else 0
    return SchemaState(revision, version, tables)


def refuse_unusable(state: SchemaState, location: str) -> None:
    """Raise SchemaError for a schema this release must not touch."""
    if state.schema_version is not None and state.schema_version > SCHEMA_VERSION:
        raise SchemaError(
            f"{location} was written by a newer tui-scheduler (schema "
            f"{state.schema_version}; this version reads up to {SCHEMA_VERSION}); "
            "upgrade tui-scheduler")
    revision = state.revision
    if revision is not None and not (revision.isdigit() and int(revision) <= SCHEMA_VERSION):
        raise SchemaError(
            f"{location} was written by a newer tui-scheduler (schema revision "
            f"{safe_text(revision, one_line=True)!r}; this version knows up to {HEAD}); "
            "upgrade tui-scheduler")
    if state.tables and state.current is None:
        raise SchemaError(f"{location} has tui-scheduler tables but no schema version; "
                          "it was left untouched (restore it from a backup)")


def ensure_schema(engine: Engine, location: str, on_old: OnOld = "upgrade") -> None:
    """Check the schema on open; create or upgrade it as ``on_old`` allows."""
    with engine.connect() as conn:
        state = read_state(conn)
    refuse_unusable(state, location)
    if not state.pending or (on_old == "keep" and state.tables):
        return
    if on_old == "refuse" and state.tables:
        raise SchemaError(
            f"{location} needs upgrading (schema revision {state.current}; this version uses "
            f"{HEAD}); run `tui-scheduler db upgrade`")
    upgrade(engine, location)


def upgrade(engine: Engine, location: str) -> tuple[str | None, str]:
    """Bring the schema to HEAD in one transaction, stamping a pre-Alembic database first.

    Returns the revisions before and after, the first read under the lock (so of two
    processes upgrading at once, the second sees that there was nothing left to do)."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copy, drop and rename; with foreign keys on,
            # dropping `job` under `run`'s references would fail (the copy keeps the same
            # references). The pragma cannot change inside a transaction: off first, on after.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            _take_write_lock(conn)
            # Read again under the lock: another process may have upgraded meanwhile.
            state = read_state(conn)
            refuse_unusable(state, location)
            if state.pending:
                _run_alembic(conn, stamp=state.revision is None and bool(state.tables))
            conn.commit()
            if state.pending and state.tables:
                # The daemon's journal keeps a record of when its database changed shape.
                log.info("upgraded the schema of %s from revision %s to %s", location,
                         state.current, HEAD)
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    return state.current, HEAD


def _run_alembic(conn: Connection, *, stamp: bool) -> None:
    from alembic import command

    config = _alembic_config(conn)
    if stamp:
        command.stamp(config, BASELINE)
    command.upgrade(config, HEAD)
    conn.execute(text("UPDATE meta SET value = :v WHERE key = 'schema_version'"),
                 {"v": str(SCHEMA_VERSION)})


def _take_write_lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # pysqlite leaves DDL outside transactions; an explicit BEGIN IMMEDIATE makes the
        # whole upgrade one transaction and takes the write lock before reading the state.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _alembic_config(conn: Connection) -> Config:
    """Alembic configured in code: no alembic.ini, the scripts inside the package, and the
    store's own connection (env.py reads it from ``attributes``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config
