"""Hand-checked fire times, including the 2026 DST changes in New York and London.

2026 transitions used below (UTC instants):
  America/New_York  spring 2026-03-08 07:00Z (02:00 EST -> 03:00 EDT)
                    fall   2026-11-01 06:00Z (02:00 EDT -> 01:00 EST; 01:xx EDT = 05:xxZ,
                                                                     01:xx EST = 06:xxZ)
  Europe/London     spring 2026-03-29 01:00Z (01:00 GMT -> 02:00 BST)
                    fall   2026-10-25 01:00Z (02:00 BST -> 01:00 GMT; 01:xx BST = 00:xxZ,
                                                                     01:xx GMT = 01:xxZ)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tui_scheduler.core.schedule import (
    localize,
    next_fire_after,
    next_fires,
    parse_schedule,
    resolve_zone,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def z(text: str) -> datetime:
    """'2026-03-08 07:00' (or with seconds) as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(text: str, after: str, zone: ZoneInfo = UTC, n: int = 5) -> list[datetime]:
    return next_fires(parse_schedule(text), z(after), zone, n)  # type: ignore[arg-type]


def zs(*texts: str) -> list[datetime]:
    return [z(t) for t in texts]


# --- New York, spring forward -------------------------------------------------------


def test_ny_fixed_time_in_gap_fires_at_the_jump() -> None:
    got = fires("30 2 * * *", "2026-03-07 12:00", NY, 3)
    assert got == zs("2026-03-08 07:00", "2026-03-09 06:30", "2026-03-10 06:30")
    assert got[0].astimezone(NY).strftime("%H:%M %Z") == "03:00 EDT"


def test_ny_several_gap_times_collapse_into_one_fire() -> None:
    got = fires("0,30 2,3 * * *", "2026-03-07 12:00", NY, 3)
    # 02:00, 02:30 (gap) and 03:00 EDT are all 07:00Z: one fire, then 03:30 EDT.
    assert got == zs("2026-03-08 07:00", "2026-03-08 07:30", "2026-03-09 06:00")


def test_ny_six_field_fixed_time_in_gap() -> None:
    assert fires("15 30 2 * * *", "2026-03-08 00:00", NY, 1) == zs("2026-03-08 07:00")


def test_ny_wildcard_jobs_skip_the_gap() -> None:
    assert fires("30 * * * *", "2026-03-08 05:00", NY, 4) == zs(
        "2026-03-08 05:30", "2026-03-08 06:30", "2026-03-08 07:30", "2026-03-08 08:30"
    )
    assert fires("0 * * * *", "2026-03-08 05:30", NY, 3) == zs(
        "2026-03-08 06:00", "2026-03-08 07:00", "2026-03-08 08:00"
    )
    # */15 in hour 2 is wildcard: nothing at all on the day hour 2 does not exist.
    assert fires("*/15 2 * * *", "2026-03-08 00:00", NY, 1) == zs("2026-03-09 06:00")


def test_ny_every_15_minutes_across_spring_forward_is_real_time() -> None:
    got = fires("*/15 * * * *", "2026-03-08 06:20", NY, 6)
    assert got == zs(
        "2026-03-08 06:30", "2026-03-08 06:45", "2026-03-08 07:00",
        "2026-03-08 07:15", "2026-03-08 07:30", "2026-03-08 07:45",
    )  # fmt: skip
    assert got[2].astimezone(NY).strftime("%H:%M") == "03:00"


# --- New York, fall back ------------------------------------------------------------


def test_ny_fixed_time_in_repeated_hour_fires_once() -> None:
    assert fires("30 1 * * *", "2026-10-31 12:00", NY, 3) == zs(
        "2026-11-01 05:30", "2026-11-02 06:30", "2026-11-03 06:30"
    )


def test_ny_fixed_time_asked_during_the_second_pass_waits_for_tomorrow() -> None:
    # 06:10Z is 01:10 EST, the second 01:10; the 01:30 EST repeat is not a fire.
    assert fires("30 1 * * *", "2026-11-01 06:10", NY, 1) == zs("2026-11-02 06:30")
    # 05:20Z is 01:20 EDT; 01:15 comes round again at 06:15Z but fixed jobs ignore it.
    assert fires("15 1 * * *", "2026-11-01 05:20", NY, 1) == zs("2026-11-02 06:15")


def test_ny_wildcard_hourly_fires_in_both_passes() -> None:
    assert fires("30 * * * *", "2026-11-01 04:00", NY, 4) == zs(
        "2026-11-01 04:30", "2026-11-01 05:30", "2026-11-01 06:30", "2026-11-01 07:30"
    )
    assert fires("0 * * * *", "2026-11-01 03:30", NY, 4) == zs(
        "2026-11-01 04:00", "2026-11-01 05:00", "2026-11-01 06:00", "2026-11-01 07:00"
    )


def test_ny_every_15_minutes_across_fall_back_is_real_time() -> None:
    got = fires("*/15 * * * *", "2026-11-01 05:10", NY, 8)
    assert got == [z("2026-11-01 05:15") + timedelta(minutes=15 * k) for k in range(8)]


def test_ny_wildcard_in_first_pass_still_sees_the_second_pass() -> None:
    # At 01:40 EDT, the next */15-in-hour-1 fires are 01:45 EDT, then 01:00..01:45 EST.
    assert fires("*/15 1 * * *", "2026-11-01 05:40", NY, 6) == zs(
        "2026-11-01 05:45", "2026-11-01 06:00", "2026-11-01 06:15",
        "2026-11-01 06:30", "2026-11-01 06:45", "2026-11-02 06:00",
    )  # fmt: skip


# --- London -------------------------------------------------------------------------


def test_london_spring_forward() -> None:
    assert fires("30 1 * * *", "2026-03-28 12:00", LONDON, 2) == zs(
        "2026-03-29 01:00", "2026-03-30 00:30"
    )
    assert fires("30 * * * *", "2026-03-29 00:00", LONDON, 3) == zs(
        "2026-03-29 00:30", "2026-03-29 01:30", "2026-03-29 02:30"
    )
    assert fires("0 * * * *", "2026-03-28 23:30", LONDON, 3) == zs(
        "2026-03-29 00:00", "2026-03-29 01:00", "2026-03-29 02:00"
    )
    got = fires("*/15 * * * *", "2026-03-29 00:30", LONDON, 6)
    assert got == [z("2026-03-29 00:45") + timedelta(minutes=15 * k) for k in range(6)]


def test_london_fall_back() -> None:
    assert fires("30 1 * * *", "2026-10-24 12:00", LONDON, 2) == zs(
        "2026-10-25 00:30", "2026-10-26 01:30"
    )
    assert fires("0 * * * *", "2026-10-24 23:30", LONDON, 3) == zs(
        "2026-10-25 00:00", "2026-10-25 01:00", "2026-10-25 02:00"
    )
    got = fires("*/15 * * * *", "2026-10-24 23:50", LONDON, 9)
    assert got == [z("2026-10-25 00:00") + timedelta(minutes=15 * k) for k in range(9)]


# --- calendar rules -----------------------------------------------------------------


def test_next_ten_weekday_mornings_across_dst() -> None:
    got = fires("0 9 * * 1-5", "2026-03-05 15:00", NY, 10)
    assert got == zs(
        "2026-03-06 14:00",  # Friday, EST
        "2026-03-09 13:00", "2026-03-10 13:00", "2026-03-11 13:00", "2026-03-12 13:00",
        "2026-03-13 13:00", "2026-03-16 13:00", "2026-03-17 13:00", "2026-03-18 13:00",
        "2026-03-19 13:00",
    )  # fmt: skip
    assert all(f.astimezone(NY).hour == 9 for f in got)


def test_sunday_is_0_and_7() -> None:
    sundays = fires("0 0 * * 0", "2026-01-01 00:00", UTC, 4)
    assert fires("0 0 * * 7", "2026-01-01 00:00", UTC, 4) == sundays
    assert fires("0 0 * * sun", "2026-01-01 00:00", UTC, 4) == sundays
    assert all(f.weekday() == 6 for f in sundays)
    weekend = fires("0 0 * * 5-7", "2026-01-01 00:00", UTC, 6)
    assert [f.strftime("%a") for f in weekend] == ["Fri", "Sat", "Sun"] * 2


def test_or_versus_and_day_rule() -> None:
    # 2026-01-01 is a Thursday. OR: day 1 or any Monday.
    assert fires("0 0 1 * 1", "2026-01-01 00:00", UTC, 7) == zs(
        "2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26",
        "2026-02-01", "2026-02-02", "2026-02-09",
    )  # fmt: skip
    # AND (day-of-month starts with *): odd days that are Mondays.
    assert fires("0 0 */2 * 1", "2026-01-01 00:00", UTC, 5) == zs(
        "2026-01-05", "2026-01-19", "2026-02-09", "2026-02-23", "2026-03-09"
    )
    # A full-range day-of-month without a leading * keeps the OR rule: every day.
    assert fires("0 0 1-31 * 1", "2026-01-01 00:00", UTC, 3) == zs(
        "2026-01-02", "2026-01-03", "2026-01-04"
    )


def test_names_in_month_and_weekday() -> None:
    assert fires("0 12 * jan,jul sun", "2026-01-01 00:00", UTC, 6) == zs(
        "2026-01-04 12:00", "2026-01-11 12:00", "2026-01-18 12:00", "2026-01-25 12:00",
        "2026-07-05 12:00", "2026-07-12 12:00",
    )  # fmt: skip


def test_six_field_seconds() -> None:
    assert fires("30 5 4 * * *", "2026-01-01 04:05:30", UTC, 2) == zs(
        "2026-01-02 04:05:30", "2026-01-03 04:05:30"
    )
    assert fires("*/20 * * * * *", "2026-01-01 00:00:05", UTC, 3) == zs(
        "2026-01-01 00:00:20", "2026-01-01 00:00:40", "2026-01-01 00:01:00"
    )


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", ["2026-01-01 01:00", "2026-01-01 02:00"]),
        ("@daily", ["2026-01-02 00:00", "2026-01-03 00:00"]),
        ("@midnight", ["2026-01-02 00:00", "2026-01-03 00:00"]),
        ("@weekly", ["2026-01-04 00:00", "2026-01-11 00:00"]),
        ("@monthly", ["2026-02-01 00:00", "2026-03-01 00:00"]),
        ("@yearly", ["2027-01-01 00:00", "2028-01-01 00:00"]),
        ("@annually", ["2027-01-01 00:00", "2028-01-01 00:00"]),
    ],
)
def test_macros(macro: str, expected: list[str]) -> None:
    assert fires(macro, "2026-01-01 00:00", UTC, 2) == zs(*expected)


def test_leap_day() -> None:
    assert fires("0 0 29 2 *", "2026-01-01 00:00", UTC, 3) == zs(
        "2028-02-29", "2032-02-29", "2036-02-29"
    )


def test_fire_is_strictly_after_and_in_utc() -> None:
    s = parse_schedule("0 9 * * *")
    first = next_fire_after(s, z("2026-06-01 13:00"), NY)
    assert first == z("2026-06-02 13:00")  # 13:00Z is 09:00 EDT itself: strictly after
    assert first is not None and first.tzinfo is UTC
    other_zone = datetime(2026, 6, 1, 9, 0, 0, 1, tzinfo=NY)
    assert next_fire_after(s, other_zone, NY) == z("2026-06-02 13:00")


def test_naive_after_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_after(parse_schedule("* * * * *"), datetime(2026, 1, 1), NY)  # noqa: DTZ001


# --- other kinds --------------------------------------------------------------------


def test_interval_counts_from_anchor() -> None:
    s = parse_schedule("every 90s")
    anchor = z("2026-01-01 00:00")
    assert next_fire_after(s, z("2026-01-01 00:00"), NY, anchor=anchor) == z("2026-01-01 00:01:30")
    assert next_fire_after(s, z("2026-01-01 00:04"), NY, anchor=anchor) == z("2026-01-01 00:04:30")
    # The anchor itself is not a fire, even when asked from before it.
    assert next_fire_after(s, z("2025-12-31 23:00"), NY, anchor=anchor) == z("2026-01-01 00:01:30")
    assert next_fires(s, z("2026-01-01 00:00"), NY, 3) == zs(
        "2026-01-01 00:01:30", "2026-01-01 00:03:00", "2026-01-01 00:04:30"
    )


def test_interval_runs_on_real_time_across_dst() -> None:
    got = fires("every 1h from 2026-11-01T00:00", "2026-11-01 00:00", NY, 4)
    assert got == zs("2026-11-01 04:00", "2026-11-01 05:00", "2026-11-01 06:00", "2026-11-01 07:00")


def test_interval_start_is_job_zone_wall_time_and_fires_at_start() -> None:
    s = parse_schedule("every 5m from 2026-12-01 09:00")
    assert next_fires(s, z("2026-11-30 00:00"), NY, 2) == zs("2026-12-01 14:00", "2026-12-01 14:05")
    aware = parse_schedule("every 5m from 2026-12-01T09:00Z")
    assert next_fire_after(aware, z("2026-11-30 00:00"), NY) == z("2026-12-01 09:00")


def test_once() -> None:
    s = parse_schedule("at 2026-12-01 09:00")
    assert next_fires(s, z("2026-11-30 00:00"), NY, 3) == zs("2026-12-01 14:00")
    assert next_fire_after(s, z("2026-12-01 14:00"), NY) is None  # in the past
    assert next_fire_after(parse_schedule("at 2026-12-01 09:00+01:00"), z("2026-01-01"), NY) == z(
        "2026-12-01 08:00"
    )


def test_once_in_gap_or_repeated_hour() -> None:
    # Naive on purpose: localize reads a wall time in the job's zone.
    assert localize(datetime(2026, 3, 8, 2, 30), NY) == z("2026-03-08 07:00")  # noqa: DTZ001
    assert localize(datetime(2026, 11, 1, 1, 30), NY) == z("2026-11-01 05:30")  # noqa: DTZ001


def test_now_is_found_by_next_fire_after() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
    s = parse_schedule("now", now=now)
    assert next_fire_after(s, now, NY) == z("2026-05-01 12:00:01")


@pytest.mark.parametrize("text", ["manual", "@reboot"])
def test_manual_and_reboot_never_fire_by_clock(text: str) -> None:
    assert next_fires(parse_schedule(text), z("2026-01-01"), NY, 5) == []


def test_resolve_zone() -> None:
    assert resolve_zone("Europe/London") == LONDON
    assert resolve_zone(" europe/london ").key == "Europe/London"
    assert isinstance(resolve_zone(None), ZoneInfo)
    assert isinstance(resolve_zone(""), ZoneInfo)


def test_edges_of_the_calendar_give_no_fire_rather_than_an_error() -> None:
    assert fires("* * * * *", "9999-12-31 23:59", NY) == []
    assert fires("every 5m", "9999-12-31 23:58", NY) == []
    assert fires("0 0 * * *", "0001-01-01 00:00", NY) == []


def test_preview_is_fast() -> None:
    # The editor previews on every keystroke; the budget is 2 ms for 10 fires. This
    # guard is loose (cold caches, slow CI), the report quotes the measured figure.
    s = parse_schedule("0 9 * * 1-5")
    after = z("2026-03-01 00:00")
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        next_fires(s, after, NY, 10)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.02
