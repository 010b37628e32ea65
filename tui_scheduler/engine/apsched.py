"""The APScheduler 3 projection: our trigger over the one fire-time function, and an
executor that hands every fire time to the engine instead of calling a function.

APScheduler only decides *when*. Its own misfire grace and instance limit would drop fires
silently, so the executor bypasses both and the engine accounts for every fire itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.triggers.base import BaseTrigger

from tui_scheduler.core.schedule import Schedule, next_fire_after


class FireTrigger(BaseTrigger):
    """Asks ``next_fire_after`` — the same function the preview and the CLI use."""

    def __init__(self, schedule: Schedule, zone: ZoneInfo, anchor: datetime | None):
        self.schedule = schedule
        self.zone = zone
        self.anchor = anchor
        self._last: tuple[datetime, datetime | None] | None = None

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        # APScheduler asks twice per fire with the same previous time (once to find the
        # run times, once to re-file the job): answer the second from memory.
        last = self._last
        if previous_fire_time is not None and last is not None \
                and last[0] == previous_fire_time:
            return last[1]
        after = previous_fire_time or (now - timedelta(microseconds=1))
        fire = next_fire_after(self.schedule, after, self.zone, anchor=self.anchor)
        if previous_fire_time is not None:
            self._last = (previous_fire_time, fire)
        return fire

    def __str__(self) -> str:
        return f"fire[{self.schedule.text}]"


class FireExecutor(BaseExecutor):
    """Passes (APScheduler job id, fire time) to a callback, one call per fire time."""

    def __init__(self, on_fire: Callable[[str, datetime], None]):
        super().__init__()
        self._on_fire = on_fire

    def submit_job(self, job, run_times) -> None:
        for run_time in run_times:
            self._on_fire(job.id, run_time)

    def _do_submit_job(self, job, run_times) -> None:
        raise NotImplementedError  # submit_job never calls it


def never_called() -> None:
    """APScheduler needs a callable per job; FireExecutor never calls it."""
