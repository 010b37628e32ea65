"""The Schedule value type and the parser for every kind of schedule text.

Kinds: ``cron`` (5 fields, 6 with leading seconds, or a macro), ``interval``
("every 5m", optionally "from <start>"), ``once`` ("at <date time>", or "now"),
``manual`` (never fires by itself) and ``reboot`` (fires when the engine starts).
``Schedule`` (in ``schedule_value.py``, re-exported here) is the parsed value;
``Schedule.text`` is canonical: parsing it again gives an equal Schedule, so it is what
the store keeps. Fire times live in ``firetimes.py`` and descriptions in
``describe.py``; both are re-exported here so callers need one import.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from .cron import ScheduleError, parse_cron, printable
from .describe import describe
from .durations import UNIT_HINT, DurationError, format_duration, parse_duration
from .firetimes import localize, next_fire_after, next_fires, resolve_zone
from .schedule_value import KINDS, Schedule

__all__ = [
    "KINDS",
    "Schedule",
    "ScheduleError",
    "describe",
    "localize",
    "next_fire_after",
    "next_fires",
    "parse_schedule",
    "resolve_zone",
]

MAX_TEXT = 256
MAX_INTERVAL_DAYS = 366
# Keeps every conversion to and from UTC inside datetime's years 1-9999.
MIN_YEAR, MAX_YEAR = 1970, 9998
_EXAMPLES = "'0 9 * * 1-5', '@daily', 'every 5m', 'at 2026-12-01 09:00', 'now' or 'manual'"
_MOMENT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[t ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?"
    r" ?(z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)
_MOMENT_HINT = "expected a date and time like 2026-12-01 09:00"


def parse_schedule(text: str, *, now: datetime | None = None) -> Schedule:
    """Parse any schedule text; raises ScheduleError with a one-line reason.

    ``now`` only matters for "now", which becomes a one-off one whole second past
    ``now`` (naive means UTC), so that it is strictly after ``now`` and
    ``next_fire_after(schedule, now, zone)`` finds it.
    """
    if len(text) > MAX_TEXT:
        raise ScheduleError(f"schedule is too long ({len(text)} characters, at most {MAX_TEXT})")
    shown = " ".join(text.split())
    lowered = shown.lower()
    if not lowered:
        raise ScheduleError(f"empty schedule: enter something like {_EXAMPLES}")
    head = lowered.split(" ", 1)[0]
    if lowered == "manual":
        return Schedule("manual", "manual")
    if lowered == "@reboot":
        return Schedule("reboot", "@reboot")
    if lowered == "now":
        moment = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(seconds=1)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return Schedule("once", f"at {_moment_text(moment)}", at=moment)
    if head == "every":
        return _interval(shown)
    if head == "at":
        moment = _moment(shown[2:].strip(), "at")
        return Schedule("once", f"at {_moment_text(moment)}", at=moment)
    if head.startswith("@") and len(lowered.split()) > 1:
        raise ScheduleError(f"'{printable(shown)}': a macro must stand alone")
    cron = parse_cron(shown)
    return Schedule("cron", cron.text, cron=cron)


def _interval(shown: str) -> Schedule:
    rest = shown[5:].strip()
    cut = rest.lower().find(" from ")
    sep = cut >= 0
    body, start_text = (rest[:cut], rest[cut + 6 :]) if sep else (rest, "")
    if not sep and rest.lower().endswith("from"):
        raise ScheduleError(f"interval '{printable(shown)}': 'from' needs a date and time", "start")
    if not body:
        raise ScheduleError(
            f"interval '{printable(shown)}' needs a duration, e.g. every 5m", "interval"
        )
    where = f"interval '{printable(shown)}'"
    try:
        seconds = parse_duration(body)
    except DurationError as exc:
        raise ScheduleError(f"{where}: {exc.reason}", "interval") from None
    if not re.search(r"[a-z]", body, re.IGNORECASE):
        raise ScheduleError(f"{where}: missing unit ({UNIT_HINT})", "interval")
    if seconds < 1:
        raise ScheduleError(f"{where} must be at least 1 second", "interval")
    if seconds != int(seconds):
        raise ScheduleError(f"{where} must be a whole number of seconds", "interval")
    if seconds > MAX_INTERVAL_DAYS * 86400:
        raise ScheduleError(f"{where} must be at most {MAX_INTERVAL_DAYS} days", "interval")
    canonical = f"every {format_duration(int(seconds), compact=True)}"
    start = None
    if sep:
        start = _moment(start_text.strip(), "start")
        canonical += f" from {_moment_text(start)}"
    return Schedule("interval", canonical, interval_seconds=int(seconds), start=start)


def _moment(value: str, field: str) -> datetime:
    """A date and time, naive (job-zone wall time) unless an offset or Z is given."""
    where = f"{field} '{printable(value)}'" if value else field
    match = _MOMENT.fullmatch(value.lower())
    if not match:
        raise ScheduleError(f"{where}: {_MOMENT_HINT}", field)
    year, month, day, hour, minute, second, offset = match.groups()
    if not MIN_YEAR <= int(year) <= MAX_YEAR:
        raise ScheduleError(f"{where}: the year must be {MIN_YEAR} to {MAX_YEAR}", field)
    tz = None
    if offset == "z":
        tz = UTC
    elif offset:
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ScheduleError(f"{where}: offset {offset} is not a real UTC offset", field)
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-delta if offset[0] == "-" else delta)
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz
        )
    except ValueError as exc:
        raise ScheduleError(f"{where} is not a real date and time ({exc})", field) from None


def _moment_text(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")
