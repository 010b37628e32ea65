"""Words the console shows: the preview's relative times and the ETA text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tui_scheduler.ui import format as fmt
from tui_scheduler.ui.widgets.cron_preview import build_preview

NOW = datetime(2026, 12, 1, 0, 56, 30, tzinfo=UTC)


def _fire_rows(text: str) -> list[str]:
    _, body = build_preview(text, "UTC", NOW, local=UTC)
    return [line for line in body.plain.splitlines() if re.match(r"\s+(in |now)", line)]


def test_seconds_cron_preview_counts_seconds():
    rows = _fire_rows("*/20 * * * * *")
    relatives = [row.split()[1] for row in rows]
    assert len(relatives) == 10 and len(set(relatives)) == 10, relatives
    assert relatives[:3] == ["10s", "30s", "50s"]
    assert "1m10s" in relatives


def test_minute_cron_preview_stays_coarse():
    assert [row.split()[1] for row in _fire_rows("* * * * *")][:2] == ["30s", "1m"]


def test_long_relative_does_not_run_into_the_date():
    rows = _fire_rows("0 9 * * *")
    assert rows[0].split()[:3] == ["in", "8h03m", "Tue"], rows[0]


def test_eta_under_a_second_left_is_not_over_typical():
    assert fmt.eta_text(19.5, 20.1) == "~1s left"
    assert fmt.eta_text(19.0, 20.1) == "~1s left"
    assert fmt.eta_text(20.2, 20.1) == "over typical 20.1s"
    assert fmt.eta_text(10, 40) == "~30s left"
