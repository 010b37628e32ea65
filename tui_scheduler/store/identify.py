"""Telling our database from anything else, read-only, before anything is written.

``identify_sqlite_file`` decides whether a path is a tui-scheduler database, a place where
a new one may be created, or something to refuse. It never writes: no pragma that
changes the file, no table creation, no journal-mode switch. A foreign file stays byte for
byte as it was (content, mtime, change counter), and no ``-wal``/``-shm`` file is left
next to it.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from enum import Enum
from pathlib import Path
from urllib.parse import quote

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
WAL_MODE = 2  # header bytes 18 and 19 (write/read format versions) in WAL mode
READ_TIMEOUT_S = 30.0
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
PICK_ANOTHER = "point --db at another file"


class Found(Enum):
    """What is at a database path."""

    NEW = "new"
    """Nothing yet, or an empty owner-only file: a new database may be created there."""
    OURS = "ours"
    """A tui-scheduler database."""


class NotOurs(Exception):
    """The path cannot hold our database; the message says why, ``code`` is the exit code
    (2: the path points at the wrong thing, 1: the file is damaged or unreadable)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def identify_sqlite_file(path: Path) -> Found:
    """Look at ``path`` without writing anything; raise NotOurs to refuse it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise NotOurs(f"{path} is a symbolic link to {os.readlink(path)}, which does not "
                          f"exist; {PICK_ANOTHER} or create the target") from None
        return Found.NEW
    except OSError as exc:
        raise NotOurs(f"cannot use {path}: {exc.strerror}; {PICK_ANOTHER}") from None
    _check_regular(path, info)
    head = _read_header(path, info)
    if not head:
        _check_empty_file(path, info, "an empty file")
        return Found.NEW
    if head[:len(SQLITE_MAGIC)] != SQLITE_MAGIC:
        raise NotOurs(f"{path} is not an SQLite database (it was left untouched); "
                      f"{PICK_ANOTHER}")
    tables, blank, version = _read_catalogue(path, head)
    if "job" in tables and version is not None:
        return Found.OURS
    if not tables and blank:
        # Our own creation switches to WAL before its first table: a crash in between
        # leaves a database with nothing in it, which is safe to finish.
        _check_empty_file(path, info, "an empty SQLite database")
        return Found.NEW
    raise NotOurs(f"{path} is an SQLite database of another program (it was left "
                  f"untouched); {PICK_ANOTHER}")


def _check_regular(path: Path, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise NotOurs(f"{path} is a folder, not a database file; pass a file path to --db")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        raise NotOurs(f"{path} is {kind}, not a database file; {PICK_ANOTHER}")


def _read_header(path: Path, info: os.stat_result) -> bytes:
    """The first 100 bytes. O_NONBLOCK so a FIFO swapped in since the stat cannot hang us."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            raise NotOurs(f"{path} changed while it was being checked; try again", 1)
        _check_regular(path, now)
        return os.read(fd, HEADER_SIZE)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    finally:
        os.close(fd)


def _unreadable(path: Path, exc: OSError) -> NotOurs:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return NotOurs(f"cannot read {path}: permission denied", 1)
    return NotOurs(f"cannot read {path}: {exc.strerror}; {PICK_ANOTHER}")


def _check_empty_file(path: Path, info: os.stat_result, what: str) -> None:
    """An empty file becomes our database only if it is already the user's own and
    private: we never make a file others can read hold our data, nor chmod theirs."""
    if info.st_uid != os.geteuid():
        raise NotOurs(f"{path} is {what} owned by another user (it was left untouched); "
                      f"{PICK_ANOTHER}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise NotOurs(f"{path} is {what} that others can read (mode {mode:04o}; it was left "
                      f"untouched); remove it or `chmod 600` it, or {PICK_ANOTHER}")


def _read_catalogue(path: Path, head: bytes) -> tuple[set[str], bool, str | None]:
    """(table names, no user_version/application_id set, our schema version or None)."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    wal = len(head) > 19 and head[18] == head[19] == WAL_MODE
    if wal and not Path(f"{path}-wal").exists():
        # Nothing is pending in a log, so the file alone is the whole database; read it
        # as immutable so SQLite creates no -wal/-shm files beside someone else's file.
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=READ_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise NotOurs(f"cannot open {path}: {exc}", 1) from None
    try:
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")}
        blank = (conn.execute("PRAGMA user_version").fetchone()[0] == 0
                 and conn.execute("PRAGMA application_id").fetchone()[0] == 0)
        version = None
        if "meta" in tables:
            version = _schema_version(conn)
        return tables, blank, version
    except sqlite3.Error as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotOurs(f"{path} is not a usable database ({reason}); it was left untouched",
                      1) from None
    finally:
        conn.close()


def _schema_version(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return None  # another program's table that happens to be called meta
    return str(row[0]) if row is not None and str(row[0]).isdigit() else None
