"""SQLModel tables: jobs, runs, run output, the engine lock, control requests and metadata.

Datetimes are stored in UTC; sqlmodel hands them back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import Column, DateTime, Dialect, Index, Table, text
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 2
"""The number of the newest Alembic revision (store/migrations/versions); the ``meta`` row
``schema_version`` holds it so that older releases refuse this database."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database.

    SQLite keeps no zone, so values are normalised to UTC before they are stored; a naive
    value is a bug upstream and is refused rather than silently guessed.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name != "sqlite"))


def _utc_column(*, index: bool = False, nullable: bool = True) -> Column[datetime]:
    return Column(UTCDateTime(), index=index, nullable=nullable)


class _Table(SQLModel):
    """Base of every table here: SQLModel sets ``__table__`` on each table class when it
    is created but its type hints leave it out, so the Core queries (``Run.__table__.c``)
    would not type-check without this declaration."""

    if TYPE_CHECKING:
        __table__: ClassVar[Table]


class Job(_Table, table=True):
    """A job definition. Soft-deleted jobs keep their history readable until purged."""

    __tablename__ = "job"
    __table_args__ = (
        # Names are unique among live jobs; a deleted job's name can be reused.
        Index("ux_job_name_live", "name", unique=True, sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str
    description: str = ""
    kind: str = "command"
    target: str = ""
    schedule: str = "manual"
    timezone: str = ""
    enabled: bool = True
    paused: bool = False
    timeout_s: float | None = None
    stop_grace_s: float = 10.0
    retries: int = 0
    retry_delay_s: float = 30.0
    retry_backoff: float = 2.0
    retry_max_delay_s: float = 3600.0
    overlap: str = "skip"
    misfire: str = "skip"
    catchup_limit: int = 10
    stop_on_error: bool = False
    restartable: bool = False
    params: str = "{}"
    env: str = "{}"
    secrets: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})
    """JSON list of env/param names the job marks secret, whatever they are called."""
    workdir: str = ""
    tags: str = ""
    engines: str = ""
    """Where it runs on a shared database: "" any one engine, "*" every engine, or a
    comma list of engine names (pinned)."""
    state: str = "{}"
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=_utc_column())
    # High-water mark of scheduled fires already accounted for (run, skipped or missed):
    # start-up compares it with the schedule to find fires missed while the engine was down.
    last_fire_at: datetime | None = Field(default=None, sa_column=_utc_column())


class Run(_Table, table=True):
    """One execution (or one accounted-for fire: ``skipped``/``missed``) of a job."""

    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_job_id_desc", "job_id", "id"),
        # The database itself refuses a second record of the same scheduled fire.
        Index("ux_run_fire", "job_id", "scheduled_for", "shard", unique=True,
              sqlite_where=text("trigger IN ('schedule', 'catch-up')"),
              postgresql_where=text("trigger IN ('schedule', 'catch-up')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id")
    trigger: str = "schedule"
    status: str = Field(default="scheduled", index=True)
    scheduled_for: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_utc_column())
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column())
    exit_code: int | None = None
    error: str = ""
    attempt: int = 1
    host: str = ""
    pid: int | None = None
    heartbeat_at: datetime | None = Field(default=None, sa_column=_utc_column())
    progress_done: float | None = None
    progress_total: float | None = None
    progress_message: str = ""
    output_bytes: int = 0
    output_truncated: bool = False
    params: str = "{}"
    # "host:pid" of the process executing the run; start-up leaves live owners' runs alone.
    owner: str = ""
    shard: str = Field(default="", sa_column_kwargs={"server_default": ""})
    """The engine's name for jobs that run on every engine (one record per engine and
    fire); empty otherwise, so a fire has exactly one record."""


class OutputChunk(_Table, table=True):
    """A batch of output lines of one stream (``out``, ``err`` or ``sys`` for markers)."""

    __tablename__ = "run_output"
    __table_args__ = (Index("ix_run_output_run_seq", "run_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    # Per-run order, chosen by the writer of the run so tail chunks can be dropped by range.
    seq: int = 0
    stream: str = "out"
    text: str = ""
    lines: int = 0
    nbytes: int = 0


class EngineLock(_Table, table=True):
    """The single row naming the engine that owns this database."""

    __tablename__ = "engine_lock"

    id: int = Field(default=1, primary_key=True)
    host: str
    pid: int
    token: str
    started_at: datetime = Field(sa_column=_utc_column(nullable=False))
    heartbeat_at: datetime = Field(sa_column=_utc_column(nullable=False))


class EngineNode(_Table, table=True):
    """One live engine sharing a PostgreSQL database with others (SQLite has one engine,
    named by ``engine_lock``). Survivors delete the row of an engine whose heartbeats stop."""

    __tablename__ = "engine_node"

    token: str = Field(primary_key=True)
    host: str
    pid: int
    started_at: datetime = Field(sa_column=_utc_column(nullable=False))
    heartbeat_at: datetime = Field(sa_column=_utc_column(nullable=False))


class Control(_Table, table=True):
    """A request from the CLI or another console for the engine that holds the database."""

    __tablename__ = "control"

    id: int | None = Field(default=None, primary_key=True)
    action: str
    job_id: int | None = None
    run_id: int | None = None
    payload: str = "{}"
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    result: str = ""
    claimed_by: str = ""
    """Token of the engine serving it, where several engines share the database."""


class Meta(_Table, table=True):
    """Key/value facts about the database itself (schema version, change counter)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str = ""


class _Keyed(Protocol):
    id: int | None


def row_id(row: _Keyed) -> int:
    """The primary key of a row read from the database (or flushed to it).

    The models declare ``id: int | None`` because a new row has none until it is
    inserted; a row that came back from a query always has one, and this says so to
    the type checker instead of a ``# type: ignore`` at every use.
    """
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it was never stored")
    return row.id
