"""A consistent copy of an SQLite database while engines keep writing to it.

SQLite's online backup API copies page by page and restarts on concurrent writes, so the
copy is one committed state, WAL included. The copy is owner-only from its first byte
(it holds the same job definitions and output as the database) and never replaces an
existing file unless asked.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from tui_scheduler.store.db import Store


class BackupError(Exception):
    """The backup cannot be written; the message says why and what to do."""


def backup_sqlite(store: Store, target: Path, *, force: bool = False) -> None:
    """Copy ``store`` (an SQLite database) to ``target``, a new owner-only (0600) file."""
    if target.is_dir():
        raise BackupError(f"{target} is a folder; pass a file name for the backup")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; choose another name or pass --force to replace it")
    folder = target.parent
    if not folder.is_dir():
        raise BackupError(f"folder {folder} does not exist; create it or choose another place")
    try:
        # mkstemp creates the file 0600 whatever the umask; it becomes the backup only
        # when complete, so a failed copy never leaves a half file under the target name.
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise BackupError(f"cannot write in {folder}: {exc.strerror}") from None
    os.close(fd)
    try:
        _copy(store, Path(temp))
        if force:
            os.replace(temp, target)
        else:
            # link() refuses an existing name, so a file that appeared meanwhile survives.
            os.link(temp, target)
    except FileExistsError:
        raise BackupError(f"{target} exists; choose another name or pass --force to "
                          "replace it") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _copy(store: Store, temp: Path) -> None:
    with store.engine.connect() as conn:
        source = conn.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(temp)
        try:
            source.backup(copy)
            # One self-contained file: no -wal/-shm beside the backup.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
