"""Shared pieces of the CLI: errors, opening the database, printing.

Text from the database or from a job is untrusted on its way to a terminal: it is
written through ``for_terminal``, which makes every control character visible when the
stream is a terminal and writes the text exactly as stored to a file or a pipe (or with
``--raw``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from tui_scheduler.core.policies import MAX_ROW_ID, as_row_id
from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.store.paths import resolve_db_path

if TYPE_CHECKING:
    from tui_scheduler.store.db import Store
    from tui_scheduler.store.migrate import OnOld


class CliError(Exception):
    """Ends the command with one line on stderr and an exit code (2: bad input)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def run_id_or_none(text: str) -> int | None:
    """A RUN_ID argument as a number; None when it is not all digits (so maybe a job
    name); CliError when it is digits but no run id can be that large."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = as_row_id(text)
    if number is None:
        raise CliError(f"run id {text} is too large (run ids go up to {MAX_ROW_ID}); "
                       "see `tui-scheduler runs JOB` for the ids", 2)
    return number


# Commands that only read never change the schema: on an older database they say to run
# `tui-scheduler db upgrade`; every command that writes upgrades it on open.
READ_ONLY_COMMANDS = frozenset({"list", "show", "runs", "log", "export"})

# Only these make a database where there is none (the console and the daemon too). Every
# other command needs one that exists: reading, or acting on a job or run already stored,
# from a mistyped --db path would otherwise leave an empty database (and its folders)
# there and answer "no jobs yet" instead of naming the wrong path.
CREATING_COMMANDS = frozenset({"add", "import", "import-crontab", "daemon"})


def open_db(args, on_old: OnOld | None = None) -> Store:
    from tui_scheduler.store.db import open_store

    command = getattr(args, "subcommand", None)
    if on_old is None:
        on_old = "refuse" if command in READ_ONLY_COMMANDS else "upgrade"
    return open_store(resolve_db_path(getattr(args, "db", None)), on_old,
                      create=command in CREATING_COMMANDS)


def emit_json(value: Any) -> None:
    # Safe on a terminal as it is: ensure_ascii writes every control (ESC, DEL, C1, bidi)
    # as a \uXXXX escape.
    json.dump(value, sys.stdout, indent=2, default=_json_default, sort_keys=False)
    sys.stdout.write("\n")


def for_terminal(stream: TextIO, args: Any = None, *,
                 one_line: bool = False) -> Callable[[object], str]:
    """How stored or job-produced text is written to ``stream``: every control made
    visible (``safe_text``) when it is a terminal, the exact text when it is a file or a
    pipe, or when ``--raw`` was given."""
    if getattr(args, "raw", False) or not is_terminal(stream):
        return lambda text: "" if text is None else str(text)
    return lambda text: safe_text(text, one_line=one_line)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


# Within a tab-separated line a tab or a line break would start a new cell or row: they
# are written as the two characters `\t`, `\n`, `\r` (and a backslash as `\\`), as
# PostgreSQL's COPY text format does, so every row stays one line with a fixed count
# of cells. Every other character is kept exactly, as for any pipe.
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def print_tsv(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> None:
    """Writes a header line and one tab-separated line per row to stdout."""
    for cells in (header, *rows):
        print("\t".join(str(cell).translate(_TSV_ESCAPES) for cell in cells))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def local(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, str] | None:
    if pairs is None:
        return None
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"{what} {pair!r} must look like NAME=VALUE", 2)
        result[key.strip()] = value
    return result
