"""APScheduler's copy of the job table: one APScheduler job per distinct schedule.

A thousand jobs on ``0 * * * *`` used to be a thousand APScheduler jobs: at the top of
the hour its dispatch loop spent ~25 µs on each (run times, two fire-time computations,
events, re-filing the job) before the first fire reached the engine, and under the one
interpreter lock that is time every other fire waits for. Jobs whose schedule, zone and
anchor agree and whose next fire is the same moment share one APScheduler job (a
*group*); when it fires, the engine fires each member. APScheduler still decides *when*,
through ``FireTrigger`` over the one fire-time function.

A job joins a group only if the group's next fire is exactly the job's own first fire,
else it gets a group of its own (a job resumed with fires to catch up, say): grouping
never changes when a job fires. Calls into APScheduler are made outside this module's
lock, since APScheduler's thread holds its own lock while it calls ``fired``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler

from tui_scheduler.core.schedule import Schedule
from tui_scheduler.engine.apsched import FireTrigger, never_called

log = logging.getLogger(__name__)
PREFIX = "fire:"


@dataclass
class _Group:
    aps_id: str
    signature: tuple
    trigger: FireTrigger
    next: datetime | None
    """When the group fires next (None once a one-off has fired)."""
    members: set[int] = field(default_factory=set)
    live: bool = True


class Projection:
    """Places jobs into APScheduler groups and tells which jobs a group's fire is for."""

    def __init__(self, scheduler: BaseScheduler):
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._groups: dict[str, _Group] = {}
        self._by_signature: dict[tuple, list[_Group]] = {}
        self._group_of: dict[int, _Group] = {}
        self._serial = itertools.count(1)

    def place(self, job_id: int, schedule: Schedule, zone: ZoneInfo,
              anchor: datetime | None, first: datetime) -> None:
        """Fire ``job_id`` on ``schedule`` from ``first`` on (replacing its old place)."""
        self.remove(job_id)
        uses_anchor = schedule.kind == "interval" and schedule.start is None
        signature = (schedule.text, zone.key, anchor if uses_anchor else None)
        with self._lock:
            for group in self._by_signature.get(signature, ()):
                if group.live and group.next == first:
                    group.members.add(job_id)
                    self._group_of[job_id] = group
                    return
            group = _Group(f"{PREFIX}{next(self._serial)}", signature,
                           FireTrigger(schedule, zone, anchor), first, {job_id})
            self._groups[group.aps_id] = group
            self._by_signature.setdefault(signature, []).append(group)
            self._group_of[job_id] = group
        self._scheduler.add_job(never_called, trigger=group.trigger, id=group.aps_id,
                                name=schedule.text, next_run_time=first)
        with self._lock:
            emptied = not group.live  # its members left while it was being added
        if emptied:
            self._unschedule(group.aps_id)

    def remove(self, job_id: int) -> None:
        with self._lock:
            group = self._group_of.pop(job_id, None)
            if group is None:
                return
            group.members.discard(job_id)
            if group.members:
                return
            group.live = False
            self._groups.pop(group.aps_id, None)
            siblings = self._by_signature.get(group.signature, [])
            if group in siblings:
                siblings.remove(group)
            if not siblings:
                self._by_signature.pop(group.signature, None)
        self._unschedule(group.aps_id)

    def next_run_time(self, job_id: int) -> datetime | None:
        with self._lock:
            group = self._group_of.get(job_id)
            return group.next if group is not None else None

    def fired(self, aps_id: str, fire_time: datetime) -> list[int]:
        """On APScheduler's thread: the jobs this fire is for; the group moves on."""
        with self._lock:
            group = self._groups.get(aps_id)
            if group is None or not group.live:
                return []
            members = sorted(group.members)
            # The same question APScheduler asks next (answered from the trigger's memory).
            group.next = group.trigger.get_next_fire_time(fire_time, fire_time)
            return members

    def _unschedule(self, aps_id: str) -> None:
        try:
            self._scheduler.remove_job(aps_id)
        except JobLookupError:
            pass  # a one-off that already fired, or shut down
        except Exception:
            log.debug("could not remove %s from APScheduler", aps_id, exc_info=True)
