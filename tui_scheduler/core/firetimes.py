"""The one place that turns a schedule into fire times.

The engine's trigger, the editor's preview, the job table's "next run" column and the
``cron`` command all call ``next_fire_after``, so what the preview shows is what runs.

Cron fire times follow cronie. croniter enumerates naive wall-clock matches (it is good
at calendars and bad at DST: it fires fixed-time jobs twice in the repeated hour), and
this module maps each wall time to real instants:

* a wall time that exists once is one instant;
* a wall time in the repeated fall-back hour is two instants: wildcard jobs (a leading
  ``*`` in the second, minute or hour field) fire at both, fixed-time jobs only at the
  first;
* a wall time inside the spring-forward gap does not exist: wildcard jobs skip it,
  fixed-time jobs fire once at the instant of the jump (every gap time of a job lands on
  that same instant, which is one fire, not several).

Mapped that way, the "primary" instants (first occurrence, or the jump) increase with
the wall time, and the second occurrences of repeated wall times are each later than
their own primary. ``_cron_fire_after`` relies on exactly that ordering.
"""

from __future__ import annotations

import functools
import math
import threading
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, croniter

from .cron import CronExpr, ScheduleError, printable

if TYPE_CHECKING:
    from .schedule_value import Schedule

_TICK = timedelta(seconds=1)
# Each step either returns or moves past a DST gap; a handful is plenty.
_MAX_STEPS = 64
_MEMO_SIZE = 1024


def resolve_zone(name: str | None) -> ZoneInfo:
    """The job's time zone: an IANA name, or the machine's zone for None/""."""
    if name is None or not name.strip():
        return _local_zone()
    key = name.strip()
    if len(key) <= 64:
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # Accept "europe/london": the zone database is case-sensitive, people are not.
            match = _zone_keys_by_lower().get(key.lower())
            if match:
                return ZoneInfo(match)
    raise ScheduleError(
        f"unknown time zone '{printable(key[:64])}': use an IANA name such as Europe/London",
        "zone",
    )


def _local_zone() -> ZoneInfo:
    try:
        import tzlocal

        zone = tzlocal.get_localzone()
    except (ImportError, LookupError, ValueError, OSError):
        # tzlocal missing or the machine's zone unreadable: UTC beats refusing to run.
        return ZoneInfo("UTC")
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


@functools.lru_cache(maxsize=1)
def _zone_keys_by_lower() -> dict[str, str]:
    return {key.lower(): key for key in available_timezones()}


def _aware_utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _offsets(wall: datetime, zone: tzinfo) -> tuple[timedelta, timedelta]:
    """UTC offsets of a naive wall time read as its first and its second occurrence.

    Equal: the wall time exists once. First larger: it repeats (fall-back). First
    smaller: it is in a spring-forward gap (PEP 495 semantics, which zoneinfo follows).
    """
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert first is not None and second is not None
    return first, second


def _transition(lo: datetime, hi: datetime, zone: tzinfo) -> datetime:
    """First whole-second instant in (lo, hi] whose UTC offset differs from lo's."""
    old = lo.astimezone(zone).utcoffset()
    a, b = math.floor(lo.timestamp()), math.ceil(hi.timestamp())
    while b - a > 1:
        mid = (a + b) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == old:
            a = mid
        else:
            b = mid
    return datetime.fromtimestamp(b, UTC)


def _at(wall: datetime, offset: timedelta) -> datetime:
    return (wall - offset).replace(tzinfo=UTC)


def _wall(instant: datetime, offset: timedelta) -> datetime:
    return (instant + offset).replace(tzinfo=None)


def localize(wall: datetime, zone: tzinfo) -> datetime:
    """Instant (UTC) of a naive wall time in ``zone``, read the way fixed-time cron is.

    A repeated wall time means its first occurrence; a wall time in a spring-forward
    gap means the instant of the jump. Aware datetimes are simply converted to UTC.
    """
    if wall.tzinfo is not None:
        return _aware_utc(wall, "wall")
    first, second = _offsets(wall, zone)
    if first >= second:
        return _at(wall, first)
    return _transition(_at(wall, second), _at(wall, first), zone)


class _Matcher:
    """One croniter per expression, reused: building one costs far more than stepping.

    Answers are memoised by start time truncated to the expression's resolution (which
    is all croniter looks at), so the job table asking "next run?" every second, and
    the editor re-previewing unchanged text, cost a dictionary lookup.
    """

    __slots__ = ("_iter", "_lock", "_memo", "_seconds")

    def __init__(self, expr: str, day_or: bool, seconds: bool) -> None:
        self._lock = threading.Lock()
        self._memo: dict[datetime, datetime | None] = {}
        self._seconds = seconds
        self._iter = croniter(
            expr,
            datetime(2000, 1, 1),  # noqa: DTZ001 - a placeholder start, reset before each use
            day_or=day_or,
            implement_cron_bug=True,
            second_at_beginning=seconds,
        )

    def next_wall(self, after: datetime) -> datetime | None:
        """First naive wall-clock match strictly after ``after`` (naive)."""
        if self._seconds:
            key = after.replace(microsecond=0)
        else:
            key = after.replace(second=0, microsecond=0)
        with self._lock:  # the engine thread and the UI thread share instances
            if key in self._memo:
                return self._memo[key]
            self._iter.set_current(key, force=True)
            try:
                found: datetime | None = self._iter.get_next(datetime)
            except (CroniterBadDateError, OverflowError, ValueError):
                # No match within croniter's 50-year search, or past year 9999.
                found = None
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = found
            return found


@functools.lru_cache(maxsize=512)
def _matcher(expr: str, day_or: bool, seconds: bool) -> _Matcher:
    return _Matcher(expr, day_or, seconds)


def _cron_fire_after(expr: CronExpr, after: datetime, zone: tzinfo) -> datetime | None:
    matcher = _matcher(expr.croniter_expr, expr.croniter_day_or, expr.second is not None)
    fixed = expr.fixed_time
    local = after.astimezone(zone)
    wall = local.replace(tzinfo=None)
    start = wall
    early: datetime | None = None
    first, second = _offsets(wall, zone)
    if first != second:  # `after` lies in a repeated hour
        delta = first - second
        if local.fold == 0 and not fixed:
            # Second occurrences of wall times at or before `wall` are still ahead of us:
            # the earliest of them is a candidate alongside whatever follows `wall`.
            jump = _transition(after, after + delta, zone)
            w = matcher.next_wall(_wall(jump, second) - _TICK)
            if w is not None and w <= wall:
                early = _at(w, second)
        elif local.fold == 1 and fixed:
            # Fixed-time jobs ignore second occurrences; resume after the repeated hour.
            jump = _transition(after - delta, after, zone)
            start = _wall(jump, first) - _TICK
    for _ in range(_MAX_STEPS):
        w = matcher.next_wall(start)
        if w is None:
            return early
        first, second = _offsets(w, zone)
        later = None
        if first < second:  # w does not exist: spring-forward gap
            jump = _transition(_at(w, second), _at(w, first), zone)
            if not fixed:
                start = _wall(jump, second) - _TICK
                continue
            primary = jump
        else:
            primary = _at(w, first)
            if first > second and not fixed:
                later = _at(w, second)
        found = [t for t in (primary, later) if t is not None and t > after]
        if found:
            return min(found + ([early] if early else []))
        start = w
    raise RuntimeError(f"fire-time search for '{expr.text}' did not settle")


def next_fire_after(
    schedule: Schedule, after: datetime, zone: ZoneInfo, *, anchor: datetime | None = None
) -> datetime | None:
    """First fire strictly after ``after`` (aware), as an aware UTC datetime, or None.

    ``anchor`` is where an interval without an explicit start counts from (the engine
    passes the job's creation time); the anchor itself is not a fire. Without one, the
    interval counts from ``after``.
    """
    after = _aware_utc(after, "after")
    try:
        return _fire_after(schedule, after, zone, anchor)
    except OverflowError:
        return None  # the next fire would fall outside datetime's years 1-9999


def _fire_after(
    schedule: Schedule, after: datetime, zone: ZoneInfo, anchor: datetime | None
) -> datetime | None:
    kind = schedule.kind
    if kind == "cron":
        assert schedule.cron is not None
        return _cron_fire_after(schedule.cron, after, zone)
    if kind == "interval":
        assert schedule.interval_seconds is not None
        step = timedelta(seconds=schedule.interval_seconds)
        if schedule.start is not None:
            origin, first_k = localize(schedule.start, zone), 0
        else:
            origin = _aware_utc(anchor, "anchor") if anchor is not None else after
            # Whole seconds, so "every 5m" fires at :00 seconds-aligned instants, not at
            # whatever microsecond the job happened to be created.
            origin = origin.replace(microsecond=0)
            first_k = 1
        k = max(first_k, (after - origin) // step + 1)
        return origin + k * step
    if kind == "once":
        assert schedule.at is not None
        at = localize(schedule.at, zone)
        return at if at > after else None
    return None  # manual and @reboot never fire by the clock


def next_fires(
    schedule: Schedule,
    after: datetime,
    zone: ZoneInfo,
    n: int,
    *,
    anchor: datetime | None = None,
) -> list[datetime]:
    """Up to ``n`` successive fires strictly after ``after`` (fewer if the schedule ends)."""
    if anchor is None and schedule.kind == "interval":
        anchor = after  # keep counting from the same origin across calls
    fires: list[datetime] = []
    t: datetime | None = after
    while len(fires) < n and t is not None:
        t = next_fire_after(schedule, t, zone, anchor=anchor)
        if t is not None:
            fires.append(t)
    return fires
