"""Durations: parse what people type, print what people read."""

from __future__ import annotations

import pytest

from tui_scheduler.core.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1d", 86400),
        ("1d2h3m4s", 93784),
        ("1.5h", 5400),
        ("0.4s", 0.4),
        ("45", 45),
        (" 10 MIN ", 600),
        ("2 hours", 7200),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("-5m", "signs are not allowed"),
        ("+5m", "signs are not allowed"),
        ("5 parsecs", "unknown unit 'parsecs'"),
        ("5m5", "missing unit"),
        ("５m", "not a duration"),
        ("m5", "not a duration"),
        ("9" * 400 + "d", "too long"),
    ],
)
def test_parse_errors(text: str, words: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert words in str(info.value) and words in info.value.reason
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.4, "0.4s"),
        (0.05, "50ms"),
        (12.34, "12.3s"),
        (59.96, "1m"),
        (45, "45s"),
        (90, "1m 30s"),
        (3600, "1h"),
        (3725, "1h 2m 5s"),
        (86400, "1d"),
        (90061, "1d 1h 1m 1s"),
        (-90, "-1m 30s"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_compact_format_reads_back() -> None:
    for seconds in (1, 59, 90, 3600, 5400, 3725, 86400, 90061):
        text = format_duration(seconds, compact=True)
        assert " " not in text
        assert parse_duration(text) == seconds
