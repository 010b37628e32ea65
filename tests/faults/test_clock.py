"""The wall clock jumps while the engine runs (NTP step, a VM resumed, an operator's
`date -s`): no fire runs twice and none goes missing without a record.

APScheduler reads the wall clock through ``datetime.now`` in its scheduler module; the
test shifts that clock by hand, forward and back, while a job fires every second.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import apscheduler.schedulers.base as aps_base
import pytest

from tests.helpers import runs_of
from tui_scheduler.store.jobs import create_job


class ShiftedClock(datetime):
    """``datetime`` whose ``now`` runs ``offset`` ahead of (or behind) the real clock."""

    offset = timedelta(0)

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + cls.offset


@pytest.mark.parametrize("jump", [8, -8])
def test_clock_jump_neither_repeats_nor_loses_fires(store, make_engine, monkeypatch, jump):
    ShiftedClock.offset = timedelta(0)
    monkeypatch.setattr(aps_base, "datetime", ShiftedClock)
    job = create_job(store, {"name": "tick", "schedule": "* * * * * *", "target": "true"})
    make_engine()
    time.sleep(3)
    ShiftedClock.offset = timedelta(seconds=jump)
    time.sleep(4 + max(0, -jump))  # after a jump back, fires resume once the clock catches up
    runs = [r for r in runs_of(store, job.id) if r.scheduled_for is not None]
    times = sorted(r.scheduled_for for r in runs)
    assert len(times) == len(set(times)), "a fire was recorded twice"
    span = int((times[-1] - times[0]).total_seconds()) + 1
    assert len(times) == span, "a second between the first and last fire has no record"
    if jump > 0:
        # The skipped-over seconds are accounted for (run, or skipped while one ran).
        assert span >= 3 + jump
    # "missed": fires between the job's creation and the engine's start.
    assert {r.status for r in runs} <= {"succeeded", "skipped", "running", "missed"}
