"""The Schedule value type: what a parsed schedule text is.

It lives apart from the parser (``schedule.py``) so that fire times (``firetimes.py``)
and descriptions (``describe.py``) can take a Schedule without importing the parser that
re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .cron import CronExpr

KINDS = ("cron", "interval", "once", "manual", "reboot")


@dataclass(frozen=True)
class Schedule:
    kind: str
    """"cron", "interval", "once", "manual" or "reboot"."""
    text: str
    """Canonical text, what the store keeps; parse_schedule(text) gives this Schedule back."""
    cron: CronExpr | None = None
    """kind == "cron": the parsed expression."""
    interval_seconds: int | None = None
    """kind == "interval": whole seconds between fires."""
    start: datetime | None = None
    """kind == "interval": first fire; naive means wall time in the job's zone."""
    at: datetime | None = None
    """kind == "once": the fire time; naive means wall time in the job's zone."""

    @property
    def fires_by_clock(self) -> bool:
        """False for manual and @reboot schedules, which no clock ever triggers."""
        return self.kind in ("cron", "interval", "once")
