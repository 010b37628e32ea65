"""Property test: our cron fire times agree with cronsim, which models cronie.

Random valid expressions are assembled from the pieces cron allows (numbers, names in
either case, ranges, steps, ``a/n``, lists, ``*``) and compared fire by fire, in UTC and
in two DST zones, from start times clustered around the 2026 transitions.

Known, deliberate differences, handled below:

* cronsim may yield one spring-forward jump instant several times (one per gap time of
  a fixed-time job); cronie runs such a job once per skipped minute in a burst, we fire
  once. Sequences are compared after removing repeats.
* cronsim iterates fixed-time jobs on naive wall time, so a start inside the second
  pass of a repeated hour can make it yield a time before the start. We only ever
  return fires strictly after the start, so earlier cronsim results are dropped.
* cronsim gives up after 50 years without a match and croniter also searches 50 years;
  comparing only fires within the next 30 years keeps the two windows out of it.
* cronsim reads a one-value range with a step ("5-5/2") as "5/2", that is 5 to the
  maximum; cronie (and we) read it as just 5. The generator avoids that form and
  test_cron_parse pins our reading.
* 6-field expressions: cronsim applies no DST handling at all (it treats them as
  non-cronie); we apply cronie's fixed-time rule to them too, so they are compared in
  UTC only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_scheduler.core.schedule import ScheduleError, next_fires, parse_schedule

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (low, high, names, name of value low)
MINUTE = (0, 59, None)
HOUR = (0, 23, None)
DOM = (1, 31, None)
MONTH = (1, 12, MONTHS)
DOW = (0, 7, DAYS)
SECOND = (0, 59, None)
NIGHT = (0, 3, None)  # hour values only, where the 2026 transitions happen

ZONES = ("UTC", "America/New_York", "Europe/London")
DST_WEIGHTED = ("UTC", "America/New_York", "America/New_York", "Europe/London", "Europe/London")
# 2026 transitions (NY spring/fall, London spring/fall) and a plain date.
BASES = (
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2027, 6, 15, 12, tzinfo=UTC),
)
HORIZON = timedelta(days=365 * 30)
COUNT = 20

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def number(draw: st.DrawFn, spec: tuple, low: int | None = None) -> tuple[int, str]:
    lo, hi, names = spec
    value = draw(st.integers(lo if low is None else low, hi))
    # 7 is Sunday too, but "sun" is 0: only name values that keep ranges ordered.
    if names and value - (1 if names is MONTHS else 0) < len(names) and draw(st.booleans()):
        name = names[value - (1 if names is MONTHS else 0)]
        return value, draw(st.sampled_from([name, name.upper(), name.title()]))
    return value, str(value)


@st.composite
def piece(draw: st.DrawFn, spec: tuple, starless: bool = False) -> str:
    lo, hi, _ = spec
    kinds = ["value", "range", "range-step", "open"] + ([] if starless else ["star", "star-step"])
    kind = draw(st.sampled_from(kinds))
    step = draw(st.integers(1, hi - lo + 2))
    if kind == "star":
        return "*"
    if kind == "star-step":
        return f"*/{step}"
    a, a_text = draw(number(spec))
    if kind == "value":
        return a_text
    if kind == "open":
        return f"{a_text}/{step}"
    if kind == "range-step" and a == hi:
        return f"{a_text}-{a_text}"
    # cronsim reads a one-value range with a step ("5-5/2") as "5/2"; cronie as "5".
    _, b_text = draw(number(spec, low=a if kind == "range" else a + 1))
    return f"{a_text}-{b_text}" if kind == "range" else f"{a_text}-{b_text}/{step}"


@st.composite
def field(draw: st.DrawFn, spec: tuple, star_weight: int) -> str:
    if draw(st.integers(0, 9)) < star_weight:
        return "*"
    return ",".join(draw(st.lists(piece(spec), min_size=1, max_size=3)))


@st.composite
def expression(draw: st.DrawFn, seconds: bool = False) -> str:
    # Mostly-unrestricted days and hours near the transitions (0-3) keep the fires
    # dense enough that most examples actually cross a gap or a repeated hour.
    parts = [
        draw(field(MINUTE, 3)),
        draw(st.one_of(field(HOUR, 4), field(NIGHT, 0))),
        draw(field(DOM, 8)),
        draw(field(MONTH, 8)),
        draw(field(DOW, 7)),
    ]
    if seconds:
        parts.insert(0, draw(field(SECOND, 4)))
    return " ".join(parts)


def ours(expr: str, start: datetime, zone: ZoneInfo) -> list[datetime] | None:
    try:
        schedule = parse_schedule(expr)
    except ScheduleError as exc:
        assert "can never fire" in str(exc), exc
        return None
    return [f for f in next_fires(schedule, start, zone, COUNT) if f < start + HORIZON]


def theirs(expr: str, start: datetime, zone: ZoneInfo) -> list[datetime] | None:
    try:
        it = CronSim(expr, start.astimezone(zone))
    except CronSimError:
        return None
    result: list[datetime] = []
    for fire in it:
        instant = fire.astimezone(UTC)
        if instant >= start + HORIZON or len(result) == COUNT:
            break
        if instant > start and (not result or instant != result[-1]):
            result.append(instant)
    return result


@st.composite
def night_expression(draw: st.DrawFn) -> str:
    """Jobs in hours 0-3, fixed-time (no leading *) or wildcard, every day."""
    minute = ",".join(draw(st.lists(piece(MINUTE, starless=True), min_size=1, max_size=2)))
    hour = ",".join(draw(st.lists(piece(NIGHT, starless=True), min_size=1, max_size=2)))
    if draw(st.booleans()):
        minute = f"*/{draw(st.integers(1, 40))}"
    return f"{minute} {hour} * * *"


@SETTINGS
@given(
    expr=expression(),
    zone_name=st.sampled_from(DST_WEIGHTED),
    base=st.sampled_from(BASES),
    minutes=st.integers(-36 * 60, 2 * 60),
)
def test_five_field_matches_cronsim(
    expr: str, zone_name: str, base: datetime, minutes: int
) -> None:
    zone = ZoneInfo(zone_name)
    start = base + timedelta(minutes=minutes)
    assert ours(expr, start, zone) == theirs(expr, start, zone), (expr, zone_name, start)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    expr=night_expression(),
    zone_name=st.sampled_from(ZONES[1:]),
    base=st.sampled_from(BASES[:4]),
    minutes=st.integers(-30 * 60, 60),
)
def test_night_jobs_across_transitions_match_cronsim(
    expr: str, zone_name: str, base: datetime, minutes: int
) -> None:
    zone = ZoneInfo(zone_name)
    start = base + timedelta(minutes=minutes)
    assert ours(expr, start, zone) == theirs(expr, start, zone), (expr, zone_name, start)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(expr=expression(seconds=True), minutes=st.integers(0, 400 * 1440))
def test_six_field_matches_cronsim_in_utc(expr: str, minutes: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, seconds=minutes % 60)
    zone = ZoneInfo("UTC")
    assert ours(expr, start, zone) == theirs(expr, start, zone), (expr, start)


def test_dense_expressions_around_every_transition() -> None:
    # Deterministic companions to the random test: per-minute-ish jobs that must cross
    # each gap and each repeated hour.
    exprs = ["*/7 * * * *", "*/20 1-3 * * *", "15,45 1,2 * * *", "0-10/5 0-4 * * *", "30 2 * * *"]
    for expr in exprs:
        for base in BASES[:4]:
            for zone_name in ZONES[1:]:
                zone = ZoneInfo(zone_name)
                start = base - timedelta(hours=3)
                assert ours(expr, start, zone) == theirs(expr, start, zone), (expr, zone_name)
