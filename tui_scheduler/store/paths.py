"""Where the database lives: ``--db``, then ``$TUI_SCHEDULER_DB``, then the XDG data folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "TUI_SCHEDULER_DB"


def default_db_path() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "tui-scheduler" / "scheduler.db"


def resolve_db_path(cli_value: str | None) -> str:
    """The database location as the user asked for it (a path or a database URL)."""
    if cli_value:
        return cli_value
    return os.environ.get(ENV_VAR) or str(default_db_path())
