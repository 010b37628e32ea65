"""Start-up recovery: what a dead engine left behind, and what fired while none ran.

1. Runs left ``running``/``scheduled`` by a dead owner become ``interrupted`` (queued ones
   ``missed``); pending retries are re-armed; restartable jobs run again (``restart``).
2. Fires missed while no engine ran follow each job's misfire policy and are recorded:
   ``skip`` records each as ``missed``; ``once`` runs the latest as ``catch-up``; ``all``
   runs up to ``catchup_limit`` of them one after another.
3. ``@reboot`` jobs fire.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from concurrent.futures import Future
from datetime import datetime

from sqlmodel import col, select

from tui_scheduler.core.policies import RunStatus, Trigger
from tui_scheduler.core.schedule import ScheduleError, next_fire_after, parse_schedule, resolve_zone
from tui_scheduler.engine import records
from tui_scheduler.engine.lock import LockHolder, process_alive
from tui_scheduler.store.models import Job, Run

log = logging.getLogger(__name__)
MAX_RESTARTS = 3
MAX_MISSED_RECORDS = 10_000
MAX_ENUMERATED = 200_000


def owner_alive(owner: str, our_owner: str, host: str, since: datetime) -> bool:
    """A run's executing process still lives (e.g. a foreground ``tui-scheduler run``)."""
    owner_host, _, pid = owner.rpartition(":")
    if not owner or owner == our_owner or owner_host != host or not pid.isdigit():
        return False
    return process_alive(int(pid), since)


def recover(engine, cutoff: datetime) -> None:
    if getattr(engine.lock, "shared", False):
        # Members gone silent are declared dead first (fenced: one merely frozen cannot
        # write when it wakes), so their runs are settled below and by no one else.
        engine.lock.claim_dead()
    _recover_runs(engine)
    if getattr(engine.lock, "first", True):
        # With other engines alive on a shared database, fires were not missed.
        _account_missed_fires(engine, cutoff)
    for job in list(engine.jobs.values()):
        if job.enabled and not job.paused and job.schedule == "@reboot":
            engine.fire(job.id, engine.started_at, Trigger.SCHEDULE)


def _recover_runs(engine, dead_owner: str | None = None,
                  dead: LockHolder | None = None) -> None:
    """Settle runs left by dead engines: all dead ones at start-up, or the one engine
    ``dead_owner`` ("host:pid") a survivor just found gone."""
    executor = engine.executor
    with engine.store.session() as session:
        query = select(Run).where(col(Run.status).in_([RunStatus.RUNNING,
                                                       RunStatus.SCHEDULED]))
        if dead_owner is not None:
            query = query.where(Run.owner == dead_owner)
        stale = session.exec(query.order_by(col(Run.id))).all()
    shared = getattr(engine.lock, "shared", False)
    live = engine.lock.live_owners() if shared and dead_owner is None else set()
    settled: list[tuple[Run, Future]] = []
    for run in stale:
        since = run.started_at or run.created_at
        if dead_owner is None:
            if run.owner == executor.owner or run.owner in live:
                continue
            if owner_alive(run.owner, executor.owner, executor.host, since):
                continue
        if shared and run.status == RunStatus.SCHEDULED and not run.owner:
            continue  # a queued run of some live engine (queued rows carry no owner)
        if run.status == RunStatus.SCHEDULED:
            if run.trigger == Trigger.RETRY and run.job_id in engine.jobs:
                engine.retries.arm(run.id, run.job_id,
                                   max(run.scheduled_for or records.utcnow(), records.utcnow()))
                continue
            engine.writer.submit(records.settle(
                run.id, RunStatus.MISSED, "the engine stopped before this queued run started",
                was=run.status, owner=run.owner))
            continue
        _stop_leftover(run, executor.host)
        holder = dead or engine.lock.previous
        who = f" (engine {holder.host} pid {holder.pid})" if holder else ""
        settled.append((run, engine.writer.submit(records.settle(
            run.id, RunStatus.INTERRUPTED, f"the engine stopped while the run was going{who}",
            was=run.status, owner=run.owner))))
    engine.writer.flush()
    # Only the runs this engine settled: a run that its engine finished after all, or that
    # another survivor settled first, is not re-run a second time.
    restarts = [run for run, landed in settled
                if landed.exception() is None and landed.result()]
    for run in restarts:
        job = engine.jobs.get(run.job_id)
        if job is None or not job.restartable or not job.enabled or run.attempt > MAX_RESTARTS:
            continue
        engine.fire(run.job_id, run.scheduled_for, Trigger.RESTART,
                    params=json.loads(run.params or "{}"), attempt=run.attempt + 1,
                    force_queue=True)


def _stop_leftover(run: Run, host: str) -> None:
    """A dead engine's job may still be running (its own session survives the engine):
    stop it before anything restarts it, so the job never runs twice at once."""
    if run.host != host or not run.pid or run.started_at is None:
        return
    if not process_alive(run.pid, run.started_at):
        return
    log.warning("stopping process group %s left running by run %s", run.pid, run.id)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(run.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if not process_alive(run.pid, run.started_at):
                return
            time.sleep(0.05)


def take_over(engine, dead: LockHolder) -> None:
    """A survivor settles the runs of an engine that stopped sending heartbeats."""
    log.warning("engine %s pid %s stopped sending heartbeats; taking over its runs",
                dead.host, dead.pid)
    _recover_runs(engine, dead_owner=f"{dead.host}:{dead.pid}", dead=dead)


def missed_fires(job: Job, cutoff: datetime) -> list[datetime]:
    """Fire times in (high-water mark, cutoff] for a job, oldest first (bounded)."""
    try:
        schedule = parse_schedule(job.schedule)
        zone = resolve_zone(job.timezone or None)
    except ScheduleError:
        return []
    if schedule.kind not in ("cron", "interval", "once"):
        return []
    mark = job.last_fire_at or job.created_at
    fires: list[datetime] = []
    after = mark
    for _ in range(MAX_ENUMERATED):
        fire = next_fire_after(schedule, after, zone, anchor=job.created_at)
        if fire is None or fire > cutoff:
            break
        fires.append(fire)
        after = fire
    return fires


def _account_missed_fires(engine, cutoff: datetime) -> None:
    for job in list(engine.jobs.values()):
        if not job.enabled or job.paused:
            continue
        fires = missed_fires(job, cutoff)
        if not fires:
            continue
        if job.misfire == "once":
            catch_up = fires[-1:]
        elif job.misfire == "all":
            catch_up = fires[-job.catchup_limit:]
        else:
            catch_up = []
        missed = fires[:len(fires) - len(catch_up)]
        reason = f"no engine was running (misfire policy: {job.misfire})"
        if len(missed) > MAX_MISSED_RECORDS:
            dropped = len(missed) - MAX_MISSED_RECORDS
            reason += f"; {dropped} earlier missed fires are counted here too"
            missed = missed[-MAX_MISSED_RECORDS:]
        for fire in missed:
            engine.writer.submit(records.insert_run(
                job_id=job.id, trigger=Trigger.SCHEDULE, status=RunStatus.MISSED,
                scheduled_for=fire, finished_at=records.utcnow(), error=reason,
                advance_fire_mark=True))
        engine.writer.flush()
        log.info("job %s: %d fires missed, %d to catch up", job.name, len(missed),
                 len(catch_up))
        for fire in catch_up:
            engine.fire(job.id, fire, Trigger.CATCH_UP, force_queue=True)
