"""Durations as people type and read them: "90s", "5m", "1h30m", "1d"; "1h 2m 5s".

``parse_duration`` raises ``DurationError``, a ``ValueError`` with a one-line message, so
any layer can use it for timeouts and intervals alike; the schedule parser rewords it.
"""

from __future__ import annotations

import math
import re

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
_PART = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)", re.ASCII)
UNIT_HINT = "use s, m, h or d, e.g. 90s, 5m, 1h30m"


class DurationError(ValueError):
    """A duration that cannot be read; ``reason`` is the message without the echoed text."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"duration '{text}': {reason}")
        self.text = text
        self.reason = reason


def parse_duration(text: str) -> float:
    """Seconds in ``text``: one or more number+unit parts; a bare number is seconds."""
    shown = " ".join(text.split())
    lowered = shown.lower()
    if not lowered:
        raise DurationError(shown, "empty duration")
    if lowered[0] in "+-":
        raise DurationError(shown, "signs are not allowed")
    total = 0.0
    pos = 0
    while pos < len(lowered):
        match = _PART.match(lowered, pos)
        if not match:
            raise DurationError(shown, f"not a duration ({UNIT_HINT})")
        number, unit = match.groups()
        if unit == "":
            if pos == 0 and match.end() == len(lowered):
                return _finite(float(number), shown)
            raise DurationError(shown, f"missing unit after {number} ({UNIT_HINT})")
        if unit not in _UNITS:
            raise DurationError(shown, f"unknown unit '{unit}' ({UNIT_HINT})")
        total += float(number) * _UNITS[unit]
        pos = match.end()
        while pos < len(lowered) and lowered[pos] == " ":
            pos += 1
    return _finite(total, shown)


def _finite(seconds: float, text: str) -> float:
    if not math.isfinite(seconds):
        raise DurationError(text, "too long")
    return seconds


def format_duration(seconds: float, *, compact: bool = False) -> str:
    """``3725`` -> "1h 2m 5s", ``0.4`` -> "0.4s", ``0.05`` -> "50ms", ``86400`` -> "1d".

    Under a minute, tenths of a second are kept; from a minute up, whole seconds.
    ``compact=True`` drops the spaces ("1h30m"), which parse_duration reads back.
    """
    if seconds < 0:
        return "-" + format_duration(-seconds, compact=compact)
    if seconds == 0:
        return "0s"
    if seconds < 0.1:
        return f"{seconds * 1000:.0f}ms"
    if round(seconds, 1) < 60:
        tenths = round(seconds, 1)
        return f"{tenths:g}s" if tenths != int(tenths) else f"{int(tenths)}s"
    rest = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return ("" if compact else " ").join(parts)
