"""The progress protocol of command jobs: a JSON line with ``progress`` or a bare ``NN%``."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

_PERCENT = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Progress:
    done: float
    total: float | None
    message: str | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))

    def following(self, previous: Progress | None) -> Progress:
        """This report as it reads after ``previous``: a bare ``NN%`` line carries no
        message, and the last one said stays until a new one replaces it."""
        if self.message is not None or previous is None or previous.message is None:
            return self
        return Progress(self.done, self.total, previous.message)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_progress_line(line: str) -> Progress | None:
    """Return the progress a stdout line reports, or None for an ordinary line."""
    stripped = line.strip()
    if not stripped:
        return None
    match = _PERCENT.match(stripped)
    if match:
        return Progress(done=min(float(match.group(1)), 100.0), total=100.0)
    if not (stripped.startswith("{") and stripped.endswith("}") and "progress" in stripped):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(data, dict) or "progress" not in data:
        return None
    message = data.get("message")
    message = str(message) if message is not None else None
    value = data["progress"]
    if isinstance(value, dict):
        done, total = _number(value.get("done")), _number(value.get("total"))
    else:
        done, total = _number(value), 1.0
        if done is None:
            done, total = _number(data.get("done")), _number(data.get("total"))
    if done is None:
        return None
    return Progress(done=done, total=total, message=message)
