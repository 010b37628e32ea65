"""Failure toasts: the first shows, repeats within the quiet time are counted and named by
the next toast, a muted job raises none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_scheduler.ui.failure_toasts import QUIET_S, FailureToasts

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_repeats_are_collapsed_and_counted():
    toasts = FailureToasts()
    assert toasts.on_failure(1, T0) == ""
    shown = [toasts.on_failure(1, T0 + timedelta(seconds=20 * i)) for i in range(1, 6)]
    assert shown == [None] * 5
    assert toasts.on_failure(2, T0 + timedelta(seconds=30)) == ""  # another job: its own
    later = T0 + timedelta(seconds=QUIET_S + 1)
    note = toasts.on_failure(1, later)
    assert note is not None and note.startswith(" (5 more failures since ")
    assert toasts.on_failure(1, later + timedelta(seconds=1)) is None


def test_mute_silences_until_unmuted():
    toasts = FailureToasts()
    assert toasts.toggle_mute(7) is True
    assert toasts.on_failure(7, T0) is None
    assert toasts.toggle_mute(7) is False
    assert toasts.on_failure(7, T0 + timedelta(hours=1)) == ""
