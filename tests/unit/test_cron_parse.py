"""Cron parsing and validation: what cronie accepts, and a field-naming error for the rest."""

from __future__ import annotations

import pytest

from tui_scheduler.core.cron import parse_cron
from tui_scheduler.core.schedule import ScheduleError, parse_schedule


def values(text: str, field: str) -> set[int]:
    return set(getattr(parse_cron(text), field).values)


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("* * * * *", "minute", set(range(60))),
        ("*/15 * * * *", "minute", {0, 15, 30, 45}),
        ("5-20/5 * * * *", "minute", {5, 10, 15, 20}),
        ("50/5 * * * *", "minute", {50, 55}),  # cronie: a/n runs from a to the maximum
        ("1,2,10-12 * * * *", "minute", {1, 2, 10, 11, 12}),
        ("0-5/100 * * * *", "minute", {0}),  # a step larger than the range is fine
        ("5-5/2 * * * *", "minute", {5}),  # cronsim differs (reads it as 5/2)
        ("07 * * * *", "minute", {7}),
        ("* */6 * * *", "hour", {0, 6, 12, 18}),
        ("* * */10 * *", "dom", {1, 11, 21, 31}),
        ("* * * jan,JUL,Dec *", "month", {1, 7, 12}),
        ("* * * mar-may *", "month", {3, 4, 5}),
        ("* * * */3 *", "month", {1, 4, 7, 10}),
        ("* * * * 7", "dow", {0}),
        ("* * * * 0", "dow", {0}),
        ("* * * * 5-7", "dow", {5, 6, 0}),
        ("* * * * mon-FRI", "dow", {1, 2, 3, 4, 5}),
        ("* * * * */2", "dow", {0, 2, 4, 6}),
        ("* * * * 1/3", "dow", {1, 4, 0}),  # 1, 4, 7 and 7 is Sunday
        ("* * * * sun,sat", "dow", {0, 6}),
        ("* * * * 1,*", "dow", set(range(7))),
    ],
)
def test_field_values(text: str, field: str, expected: set[int]) -> None:
    assert values(text, field) == expected


def test_six_fields_have_leading_seconds() -> None:
    expr = parse_cron("30 5 4 * * *")
    assert expr.second is not None and set(expr.second.values) == {30}
    assert set(expr.minute.values) == {5}
    assert set(expr.hour.values) == {4}
    assert parse_cron("5 4 * * *").second is None


def test_canonical_text_is_lower_case_and_single_spaced() -> None:
    assert parse_cron("  0   12 *\t* JAN,Jul   SUN ").text == "0 12 * * jan,jul sun"
    assert parse_schedule("@DAILY").text == "@daily"


@pytest.mark.parametrize(
    ("text", "day_and"),
    [
        ("0 0 1 * 1", False),  # both restricted, neither starts with *: OR
        ("0 0 */2 * 1", True),  # day-of-month starts with *: AND
        ("0 0 1 * */2", True),
        ("0 0 1-31 * 1", False),  # full range but no leading *: still OR (croniter differs)
        ("0 0 * * 1", True),
    ],
)
def test_day_rule(text: str, day_and: bool) -> None:
    assert parse_cron(text).day_and is day_and


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("30 2 * * *", True),
        ("0-59 0-23 * * *", True),  # cronie looks at the leading character only
        ("*/5 2 * * *", False),
        ("0 * * * *", False),
        ("0 */2 * * *", False),
        ("0 30 2 * * *", True),
        ("*/10 30 2 * * *", False),
    ],
)
def test_fixed_time_follows_cronie(text: str, fixed: bool) -> None:
    assert parse_cron(text).fixed_time is fixed


@pytest.mark.parametrize(
    "text", ["0 0 29 2 *", "0 0 31 1-2 *", "0 0 31 2 1", "0 0 30 2 mon", "0 0 * 2 *"]
)
def test_possible_expressions_are_accepted(text: str) -> None:
    parse_cron(text)  # Feb 29 exists; under OR the weekday side always fires


INVALID = [
    # (text, field, words the message must contain)
    ("", None, "empty"),
    ("   ", None, "empty"),
    ("x" * 300, None, "too long"),
    ("* * * *", None, "expected 5 fields"),
    ("* * * * * * *", None, "got 7"),
    ("60 * * * *", "minute", "minute field '60': 60 is out of range 0-59"),
    ("* 24 * * *", "hour", "hour field '24': 24 is out of range 0-23"),
    ("* * 0 * *", "day-of-month", "out of range 1-31"),
    ("* * 32 * *", "day-of-month", "out of range 1-31"),
    ("* * * 13 *", "month", "month field '13': 13 is out of range 1-12"),
    ("* * * 0 *", "month", "out of range 1-12"),
    ("* * * * 8", "day-of-week", "day-of-week field '8': 8 is out of range 0-7"),
    ("60 * * * * *", "second", "second field '60'"),
    ("5-1 * * * *", "minute", "range start 5 is after end 1"),
    ("* * * * fri-mon", "day-of-week", "day-of-week field 'fri-mon': range start 5 is after end 1"),
    ("*/0 * * * *", "minute", "step 0"),
    ("* * * foo *", "month", "unknown month name 'foo'"),
    ("* * * * funday", "day-of-week", "unknown day name 'funday'"),
    ("* * * * jan", "day-of-week", "unknown day name 'jan'"),
    ("mon * * * *", "minute", "'mon' is not a number"),
    ("５ * * * *", "minute", "not an ASCII digit"),
    ("٣ * * * *", "minute", "not an ASCII digit"),
    ("* ２ * * *", "hour", "not an ASCII digit"),
    ("* * L * *", "day-of-month", "not supported by cron"),
    ("* * 15W * *", "day-of-month", "not supported by cron"),
    ("* * LW * *", "day-of-month", "not supported by cron"),
    ("* * * * 5L", "day-of-week", "not supported by cron"),
    ("* * * * mon#2", "day-of-week", "not supported by cron"),
    ("* * ? * *", "day-of-month", "not supported by cron"),
    ("-5 * * * *", "minute", "signs are not allowed"),
    ("+5 * * * *", "minute", "signs are not allowed"),
    ("1,,2 * * * *", "minute", "empty list item"),
    ("1, * * * *", "minute", "empty list item"),
    ("*/x * * * *", "minute", "step 'x' is not a number"),
    ("*/ * * * *", "minute", "no step"),
    ("*/5/2 * * * *", "minute", "more than one '/'"),
    ("1-2-3 * * * *", "minute", "not a valid range"),
    ("5- * * * *", "minute", "no end"),
    ("*-5 * * * *", "minute", "'*' must stand alone"),
    ("1.5 * * * *", "minute", "unexpected character '.'"),
    ("1é * * * *", "minute", "unexpected character"),
    ("0 0 31 2 *", "day-of-month", "'0 0 31 2 *' can never fire: February has no day 31"),
    ("0 0 30 2 *", "day-of-month", "can never fire: February has no day 30"),
    ("0 0 31 4,6,9,11 *", "day-of-month", "April, June, September and November have no day 31"),
    ("0 0 31 2 */2", "day-of-month", "can never fire"),  # */2 makes it AND
    ("@fortnightly", None, "unknown macro '@fortnightly'"),
    ("@daily now", None, "must stand alone"),
    ("every 0m", "interval", "interval 'every 0m' must be at least 1 second"),
    ("every 0s", "interval", "must be at least 1 second"),
    ("every -5m", "interval", "signs are not allowed"),
    ("every 5 parsecs", "interval", "unknown unit 'parsecs'"),
    ("every 5", "interval", "missing unit"),
    ("every", "interval", "needs a duration"),
    ("every 1.5s", "interval", "whole number of seconds"),
    ("every 400d", "interval", "at most 366 days"),
    ("every 5m from", "start", "needs a date and time"),
    ("every 5m from tomorrow", "start", "expected a date and time"),
    ("at yesterday", "at", "at 'yesterday': expected a date and time"),
    ("at 2026-02-30 10:00", "at", "at '2026-02-30 10:00' is not a real date"),
    ("at 2026-12-01 24:00", "at", "not a real date"),
    ("at 2026-12-01 09:00+25:00", "at", "offset"),
    ("at", "at", "expected a date and time"),
    ("at 0001-01-01 00:00", "at", "the year must be"),
]


@pytest.mark.parametrize(("text", "field", "words"), INVALID, ids=[c[0][:20] for c in INVALID])
def test_invalid_input_is_a_one_line_error_naming_the_part(
    text: str, field: str | None, words: str
) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    message = str(info.value)
    assert words in message
    assert info.value.field == field
    assert "\n" not in message and len(message) < 200
    if field is not None and field not in ("interval", "start", "at"):
        assert message.startswith(f"{field} field") or "can never fire" in message


def test_schedule_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_schedule("61 * * * *")


def test_control_characters_are_escaped_in_messages() -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule("* * * * 1\x00")
    assert "\\x00" in str(info.value) and "\x00" not in str(info.value)
