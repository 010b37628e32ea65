"""The Schedule value type: every kind parses, and canonical text round-trips."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui_scheduler.core import schedule as schedule_module
from tui_scheduler.core.schedule import Schedule, ScheduleError, parse_schedule

CORE = Path(schedule_module.__file__).parent
OWN_MODULES = ("cron", "firetimes", "describe", "schedule", "schedule_value", "durations")


@pytest.mark.parametrize(
    ("text", "kind", "canonical"),
    [
        ("0 9 * * 1-5", "cron", "0 9 * * 1-5"),
        ("  0   9 *  *\tMON-fri ", "cron", "0 9 * * mon-fri"),
        ("30 5 4 * * *", "cron", "30 5 4 * * *"),
        ("@Daily", "cron", "@daily"),
        ("@midnight", "cron", "@midnight"),
        ("@annually", "cron", "@annually"),
        ("@REBOOT", "reboot", "@reboot"),
        ("Manual", "manual", "manual"),
        ("every 90s", "interval", "every 1m30s"),
        ("EVERY 5M", "interval", "every 5m"),
        ("every 2h", "interval", "every 2h"),
        ("every 1h30m", "interval", "every 1h30m"),
        ("every 1h 30m", "interval", "every 1h30m"),
        ("every 1d", "interval", "every 1d"),
        ("every 5m from 2026-12-01T09:00", "interval", "every 5m from 2026-12-01T09:00"),
        ("every 5m FROM 2026-12-01 09:00:30", "interval", "every 5m from 2026-12-01T09:00:30"),
        ("every 5m from 2026-12-01 09:00Z", "interval", "every 5m from 2026-12-01T09:00+00:00"),
        ("at 2026-12-01 09:00", "once", "at 2026-12-01T09:00"),
        ("AT 2026-12-01T09:00:00", "once", "at 2026-12-01T09:00"),
        ("at 2026-12-01T09:00:05-05:00", "once", "at 2026-12-01T09:00:05-05:00"),
        ("at 2026-12-01 09:00 +0100", "once", "at 2026-12-01T09:00+01:00"),
    ],
)
def test_kinds_and_canonical_text(text: str, kind: str, canonical: str) -> None:
    parsed = parse_schedule(text)
    assert (parsed.kind, parsed.text) == (kind, canonical)
    assert parse_schedule(parsed.text) == parsed  # canonical text round-trips


def test_fields_per_kind() -> None:
    cron = parse_schedule("0 9 * * *")
    assert cron.cron is not None and cron.interval_seconds is None and cron.at is None
    interval = parse_schedule("every 1h30m from 2026-12-01 09:00")
    assert interval.interval_seconds == 5400
    assert interval.start == datetime(2026, 12, 1, 9, 0)  # noqa: DTZ001 - job-zone wall time
    once = parse_schedule("at 2026-12-01 09:00+01:00")
    assert once.at == datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert not parse_schedule("manual").fires_by_clock
    assert not parse_schedule("@reboot").fires_by_clock
    assert cron.fires_by_clock and interval.fires_by_clock and once.fires_by_clock


def test_now_becomes_a_one_off_just_after_now() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
    s = parse_schedule("NOW", now=now)
    assert s.kind == "once"
    assert s.at == datetime(2026, 5, 1, 12, 0, 1, tzinfo=UTC)
    assert s.text == "at 2026-05-01T12:00:01+00:00"
    assert parse_schedule(s.text) == s
    default = parse_schedule("now")
    assert default.at is not None and default.at > datetime.now(UTC) - timedelta(minutes=1)


def test_schedule_is_frozen_and_hashable() -> None:
    s = parse_schedule("*/5 * * * *")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.text = "x"  # type: ignore[misc]
    assert len({s, parse_schedule("*/5  *  * * *")}) == 1
    assert isinstance(s, Schedule)


def test_limits() -> None:
    parse_schedule("0 0 * * *" + " " * 247)  # 256 characters: accepted
    with pytest.raises(ScheduleError, match="too long"):
        parse_schedule("* * * * *" + " " * 250)


def test_core_modules_import_nothing_outside_core() -> None:
    allowed = {
        "__future__", "functools", "math", "re", "threading", "dataclasses", "datetime",
        "typing", "zoneinfo", "croniter", "tzlocal",
    }  # fmt: skip
    for name in OWN_MODULES:
        tree = ast.parse((CORE / f"{name}.py").read_text())
        assert ast.get_docstring(tree), f"{name}.py needs a module docstring"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module in OWN_MODULES, (name, node.module)
            elif isinstance(node, ast.ImportFrom):
                assert node.module and node.module.split(".")[0] in allowed, (name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in allowed, (name, alias.name)
