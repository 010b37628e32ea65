"""Opening the database safely: owner-only files, WAL, busy retries, schema checks.

A file that is not ours is never written to: ``identify.py`` looks at it read-only first,
and a non-SQLite file, another program's database, a corrupt database or one from a newer
schema is refused with a message that says what is wrong. A new database is only created
where no file exists (or in an empty file that is already owner-only), and only by a
caller that may create one (``create=True``): a reader that finds nothing says so and
leaves no folder or file behind, so a mistyped path is reported, not silently made.
Creating and upgrading the schema is store/migrate.py's job (Alembic).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, create_engine

from tui_scheduler.store import migrate
from tui_scheduler.store.identify import Found, NotOurs, identify_sqlite_file
from tui_scheduler.store.migrate import OnOld

BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do. ``code`` is the
    exit code: 2 when the path points at the wrong thing, 1 otherwise."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def no_database(location: str) -> StoreError:
    """A caller that may not create the database found none (exit 2: a wrong path is bad
    input)."""
    return StoreError(f"no database at {location} (nothing was created); check --db / "
                      "$TUI_SCHEDULER_DB, or create it with `tui-scheduler add` or the "
                      "console", 2)


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


def _prepare_sqlite_file(path: Path, *, create: bool) -> None:
    """Identify the file read-only; where none exists, create the folder and the file
    owner-only, or (``create`` False) refuse without creating anything."""
    try:
        found = identify_sqlite_file(path)
    except NotOurs as exc:
        raise StoreError(str(exc), exc.code) from None
    if found is Found.NEW and not create:
        # An empty file or an empty SQLite database is no database yet either: a reader
        # must not turn it into one.
        raise no_database(str(path))
    if found is Found.OURS or path.exists():
        return
    folder = path.parent
    if not folder.exists():
        _make_folders(folder)
    elif not folder.is_dir():
        raise StoreError(f"{folder} is not a folder; choose another place with --db PATH", 2)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create {path}: folder {folder} is not writable; "
                         "choose another place with --db PATH")
    # Created before SQLite opens it so the mode is 0600 whatever the umask; SQLite gives
    # its -wal and -shm files the same mode as the database file. O_EXCL: never through a
    # symbolic link, never over a file that appeared since it was identified.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}; "
                         "choose another place with --db PATH") from None
    os.close(fd)


def _make_folders(folder: Path) -> None:
    """Create ``folder`` and every missing folder above it owner-only (0700): mkdir's
    ``parents=True`` would give the ones above the umask's mode, 0755."""
    missing = [each for each in (folder, *folder.parents) if not each.exists()]
    for each in reversed(missing):
        try:
            each.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is its maker's
        except OSError as exc:
            raise StoreError(f"cannot create folder {each}: {exc.strerror}; "
                             "choose another place with --db PATH") from None


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


def _make_engine(location: str, *, create: bool) -> Engine:
    if "://" in location:
        url = location
        if url.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=16)
    path = Path(location).expanduser()
    _prepare_sqlite_file(path, create=create)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=16,
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def _check_and_migrate(engine: Engine, location: str, on_old: OnOld, *, create: bool) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = conn.execute(text("PRAGMA quick_check")).scalar()
            if result != "ok":
                raise StoreError(f"{location} is damaged ({result}); restore it from a backup "
                                 "(it was left untouched)")
        tables = set(engine.dialect.get_table_names(conn))
        if tables and "meta" not in tables:
            # SQLite files were identified before opening; this guards PostgreSQL, where
            # even tables named job and run do not make a database ours.
            raise StoreError(f"{location} is a database of another program (it was left "
                             "untouched); point --db at another database", 2)
        if not tables and not create:
            raise no_database(location)  # PostgreSQL: a database without our tables
    try:
        migrate.ensure_schema(engine, location, on_old)
    except migrate.SchemaError as exc:
        raise StoreError(str(exc)) from None


def open_store(location: str, on_old: OnOld = "upgrade", *, create: bool = True) -> Store:
    """Open the database at a path or URL, or raise StoreError.

    ``on_old`` says what to do with an older schema (see store/migrate.py): writers
    upgrade it, read-only callers ``refuse`` it, ``db status``/``backup`` ``keep`` it.
    ``create`` says whether a missing database may be created (folders 0700, file 0600);
    when False, finding none raises StoreError (exit 2) and nothing is created."""
    try:
        engine = _make_engine(location, create=create)
        _check_and_migrate(engine, location, on_old, create=create)
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
