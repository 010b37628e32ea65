"""English descriptions: correct for cronie's OR/AND day rule, readable for the rest."""

from __future__ import annotations

import pytest

from tui_scheduler.core.schedule import describe, parse_schedule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 9 * * 1-5", "At 09:00, Monday through Friday"),
        ("* * * * *", "Every minute"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("30 * * * *", "At minute 30 past every hour"),
        ("0 */2 * * *", "At minute 0 past every 2nd hour"),
        ("0 0 1 * 1", "At 00:00, on day 1 of the month or on Monday"),
        ("0 0 */2 * 1", "At 00:00, every 2nd day of the month if it is a Monday"),
        ("0 0 1-31 * 1", "At 00:00, every day"),  # OR with a side that is every day
        ("0 0 1-7 * */7", "At 00:00, on days 1 through 7 of the month if it is a Sunday"),
        ("30 5 4 * * *", "At 04:05:30, every day"),
        ("*/10 * * * * *", "Every 10 seconds"),
        ("@daily", "At 00:00, every day"),
        ("@hourly", "At minute 0 past every hour"),
        ("@weekly", "At 00:00, on Sunday"),
        ("@monthly", "At 00:00, on day 1 of the month"),
        ("@yearly", "At 00:00, on January 1"),
        ("0 0 29 2 *", "At 00:00, on February 29"),
        ("0 12 * jan,jul sun", "At 12:00, on Sunday, in January and July"),
        ("0 9,17 * * sat,sun", "At 09:00 and 17:00, on Saturday and Sunday"),
        ("0 0 * * 5-7", "At 00:00, Friday through Sunday"),
        ("5 0 * 8 *", "At 00:05, every day in August"),
        (
            "*/10 9-17 * * mon-fri",
            "Every 10 minutes past hours 9 through 17, Monday through Friday",
        ),
        ("23 0-20/2 * * *", "At minute 23 past every 2nd hour from 0 through 20"),
        ("@reboot", "When the engine starts"),
        ("manual", "Manually only (never fires by itself)"),
        ("every 5m from 2026-12-01 09:00", "Every 5 minutes (from 2026-12-01 09:00)"),
        ("every 90s", "Every 90 seconds"),
        ("every 2h", "Every 2 hours"),
        ("every 3725s", "Every 1h 2m 5s"),
        ("at 2026-12-01 09:00", "Once, at 2026-12-01 09:00"),
        ("at 2026-12-01 09:00:30+01:00", "Once, at 2026-12-01 09:00:30 +01:00"),
    ],
)
def test_describe(text: str, expected: str) -> None:
    assert describe(parse_schedule(text)) == expected


def test_or_and_descriptions_differ() -> None:
    or_text = describe(parse_schedule("0 0 1 * 1"))
    and_text = describe(parse_schedule("0 0 */2 * 1"))
    assert " or " in or_text and " if " not in or_text
    assert " if " in and_text and " or " not in and_text
