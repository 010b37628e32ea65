"""What the console remembers between sessions for this user: the chosen theme.

A small JSON file in ``$XDG_CONFIG_HOME/tui-scheduler/console.json`` (``~/.config``),
owner-only. A preference is a convenience: a file that cannot be read or written is
ignored (the console works with defaults), never an error on screen. Tests and the demo
use an in-memory store (``path=None``) so they never touch the user's file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def default_preferences_path() -> Path:
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "tui-scheduler" / "console.json"


class Preferences:
    """Key/value preferences, read once and written through on every change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        """The file, or None to keep preferences in memory only."""
        self._values: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> bool:
        """Remember ``value``; False when the file could not be written (kept in memory)."""
        if self._values.get(key) == value:
            return True
        self._values[key] = value
        if self.path is None:
            return True
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Written whole and renamed into place: a crash never leaves half a file.
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".console-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self._values, out, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError:
            return False
        return True
