"""Opening the database safely: owner-only files, WAL, busy retries, schema checks.

A file that is not ours is never overwritten: a non-SQLite file, a corrupt database or one
from a newer schema is refused with a message that says what is wrong.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from tui_scheduler.store.models import SCHEMA_VERSION, Meta

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


@dataclass
class Store:
    """An open database: the SQLAlchemy engine plus where it lives."""

    engine: Engine
    location: str

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()


def _prepare_sqlite_file(path: Path) -> None:
    """Create the folder and file owner-only, or check an existing file is really SQLite."""
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"cannot create folder {folder}: {exc.strerror}; "
                             "choose another place with --db PATH") from None
    elif not folder.is_dir():
        raise StoreError(f"{folder} is not a folder; choose another place with --db PATH")
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file; pass a file path to --db")
    if path.exists():
        if not os.access(path, os.R_OK):
            raise StoreError(f"cannot read {path}: permission denied")
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise StoreError(f"{path} is not an SQLite database (it was left untouched); "
                             "point --db at another file")
        return
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create {path}: folder {folder} is not writable; "
                         "choose another place with --db PATH")
    # Created before SQLite opens it so the mode is 0600 whatever the umask; SQLite gives
    # its -wal and -shm files the same mode as the database file.
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
    os.close(fd)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # a read-only file cannot switch modes; reads still work
    # NORMAL in WAL mode survives a process crash; only an OS crash can lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _make_engine(location: str) -> Engine:
    if "://" in location:
        url = location
        if url.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=16)
    path = Path(location).expanduser()
    _prepare_sqlite_file(path)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=16,
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def _check_and_migrate(engine: Engine, location: str) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = conn.execute(text("PRAGMA quick_check")).scalar()
            if result != "ok":
                raise StoreError(f"{location} is damaged ({result}); restore it from a backup "
                                 "(it was left untouched)")
        has_meta = engine.dialect.has_table(conn, "meta")
        if has_meta:
            found = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()
            version = int(found) if found else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{location} was written by a newer tui-scheduler (schema {version}; this "
                    f"version reads up to {SCHEMA_VERSION}); upgrade tui-scheduler")
        elif engine.dialect.get_table_names(conn):
            tables = set(engine.dialect.get_table_names(conn))
            if not tables & {"job", "run"}:
                raise StoreError(f"{location} is an SQLite database of another program "
                                 "(it was left untouched); point --db at another file")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(Meta, "schema_version") is None:
            session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
            session.add(Meta(key="change_counter", value="0"))
            session.commit()
    _upgrade_schema(engine)


def _upgrade_schema(engine: Engine) -> None:
    """Bring a database of ours written by an older version up to SCHEMA_VERSION, in place.

    Only called once the file is known to be ours. 1 -> 2 adds ``job.secrets``. The
    column is checked as well as the version, so a half-done upgrade (or a pre-meta
    database that just got its meta row) is finished too.
    """
    with engine.connect() as conn:
        found = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()
        columns = {column["name"] for column in inspect(conn).get_columns("job")}
    if int(found or 0) >= SCHEMA_VERSION and "secrets" in columns:
        return
    with engine.begin() as conn:
        # The meta update comes first: it takes the write lock (SQLite) or the row lock
        # (PostgreSQL), so a second process upgrading at the same moment waits here and
        # then finds the column; and Python's sqlite3 only opens a transaction on DML, so
        # the ALTER that follows runs inside it: both changes commit together or neither.
        conn.execute(text("UPDATE meta SET value=:v WHERE key='schema_version'"),
                     {"v": str(SCHEMA_VERSION)})
        columns = {column["name"] for column in inspect(conn).get_columns("job")}
        if "secrets" not in columns:
            conn.execute(text("ALTER TABLE job ADD COLUMN secrets VARCHAR NOT NULL "
                              "DEFAULT '[]'"))


def open_store(location: str) -> Store:
    """Open (creating if needed) the database at a path or URL, or raise StoreError."""
    try:
        engine = _make_engine(location)
        _check_and_migrate(engine, location)
    except StoreError:
        raise
    except OperationalError as exc:
        raise StoreError(f"cannot open {location}: {_reason(exc)}") from None
    except DatabaseError as exc:
        raise StoreError(f"{location} is not a usable database ({_reason(exc)}); "
                         "it was left untouched") from None
    return Store(engine=engine, location=location)


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).splitlines()[0]
