"""Shared pieces of the CLI: errors, opening the database, printing."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_scheduler.core.policies import MAX_ROW_ID, as_row_id
from tui_scheduler.store.paths import resolve_db_path

if TYPE_CHECKING:
    from tui_scheduler.store.db import Store


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


def open_db(args) -> Store:
    from tui_scheduler.store.db import open_store

    return open_store(resolve_db_path(getattr(args, "db", None)))


def emit_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=_json_default, sort_keys=False)
    sys.stdout.write("\n")


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
