"""Run queries: history pages, the latest result per job, active runs and statistics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from tui_scheduler.core.policies import RunStatus, Trigger
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Run

RESULT_STATUSES = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT,
                   RunStatus.STOPPED, RunStatus.INTERRUPTED]


class RunNotFound(LookupError):
    def __init__(self, run_id: int | str):
        super().__init__(f"no run #{run_id}; `tui-scheduler runs JOB` lists a job's runs")


def get_run(store: Store, run_id: int) -> Run:
    with store.session() as session:
        run = session.get(Run, run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run


def list_runs(store: Store, job_id: int, *, limit: int = 50,
              before_id: int | None = None) -> list[Run]:
    """A page of a job's runs, newest first; pass the last id seen to get the next page."""
    with store.session() as session:
        query = select(Run).where(Run.job_id == job_id)
        if before_id is not None:
            query = query.where(col(Run.id) < before_id)
        query = query.order_by(col(Run.id).desc()).limit(limit)
        return list(session.exec(query).all())


def first_page(store: Store, job_id: int, *, limit: int = 50) -> tuple[list[Run], int]:
    """A job's newest runs (``list_runs``) and how many it has, in one session: what the
    job detail screen shows first."""
    with store.session() as session:
        query = (select(Run).where(Run.job_id == job_id)
                 .order_by(col(Run.id).desc()).limit(limit))
        runs = list(session.exec(query).all())
        total = session.exec(select(func.count()).select_from(Run)
                             .where(Run.job_id == job_id)).one()
    return runs, total


def runs_changed(store: Store, job_id: int, newest: int,
                 active: list[int]) -> tuple[list[Run], list[Run]]:
    """What a job's run list needs on refresh, in one session: its runs newer than
    ``newest`` (newest first, at most 200) and the fresh rows of the runs shown as
    ``active`` (any order)."""
    with store.session() as session:
        query = (select(Run).where(Run.job_id == job_id).where(col(Run.id) > newest)
                 .order_by(col(Run.id)).limit(200))
        new_runs = list(reversed(session.exec(query).all()))
        changed = list(session.exec(select(Run).where(col(Run.id).in_(active))).all()) \
            if active else []
    return new_runs, changed


def active_runs(store: Store) -> list[Run]:
    with store.session() as session:
        query = select(Run).where(col(Run.status).in_([RunStatus.RUNNING,
                                                       RunStatus.SCHEDULED]))
        return list(session.exec(query.order_by(col(Run.id))).all())


def waiting_retries(store: Store, job_ids: list[int] | None = None) -> dict[int, Run]:
    """The newest retry waiting to start of every job (or of ``job_ids``) that has one."""
    with store.session() as session:
        query = (select(Run).where(Run.status == RunStatus.SCHEDULED)
                 .where(Run.trigger == Trigger.RETRY))
        if job_ids is not None:
            query = query.where(col(Run.job_id).in_(job_ids))
        rows = session.exec(query.order_by(col(Run.id))).all()
    return {run.job_id: run for run in rows}


def latest_results(store: Store) -> dict[int, Run]:
    """The most recent finished run of every job (skipped/missed fires are not results)."""
    with store.session() as session:
        newest = (select(func.max(Run.id)).where(col(Run.status).in_(RESULT_STATUSES))
                  .group_by(col(Run.job_id)))
        rows = session.exec(select(Run).where(col(Run.id).in_(newest))).all()
    return {run.job_id: run for run in rows}


def count_failed_since(store: Store, since: datetime) -> int:
    with store.session() as session:
        query = (select(func.count()).select_from(Run)
                 .where(col(Run.status).in_([RunStatus.FAILED, RunStatus.TIMED_OUT,
                                             RunStatus.INTERRUPTED]))
                 .where(col(Run.finished_at) >= since))
        return session.exec(query).one()


def last_success_time(store: Store, job_id: int) -> datetime | None:
    with store.session() as session:
        query = (select(Run.finished_at).where(Run.job_id == job_id)
                 .where(Run.status == RunStatus.SUCCEEDED)
                 .order_by(col(Run.id).desc()).limit(1))
        return session.exec(query).first()


@dataclass(frozen=True)
class JobStats:
    runs: int
    succeeded: int
    success_rate: float | None
    median_s: float | None
    p95_s: float | None
    recent_durations: list[float]


def job_stats(store: Store, job_id: int, *, window: int = 200) -> JobStats:
    """Statistics over the latest ``window`` finished runs (indexed, bounded work)."""
    with store.session() as session:
        # Only the newest rows are looked at, so a long tail of skipped or missed fires
        # cannot turn this into a scan of the job's whole history.
        newest = (select(Run.id).where(Run.job_id == job_id)
                  .order_by(col(Run.id).desc()).limit(window * 5).subquery())
        query = (select(Run.status, Run.started_at, Run.finished_at)
                 .where(col(Run.id).in_(select(newest.c.id)))
                 .where(col(Run.status).in_(RESULT_STATUSES))
                 .order_by(col(Run.id).desc()).limit(window))
        rows = session.exec(query).all()
    # A stopped, timed-out or interrupted run was cut short: its length says nothing
    # about how long the job takes, so only runs that ended by themselves count.
    durations = [(end - start).total_seconds() for status, start, end in rows
                 if start and end and status in (RunStatus.SUCCEEDED, RunStatus.FAILED)]
    succeeded = sum(1 for status, _, _ in rows if status == RunStatus.SUCCEEDED)
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None
    return JobStats(
        runs=len(rows), succeeded=succeeded,
        success_rate=(succeeded / len(rows)) if rows else None,
        median_s=statistics.median(ordered) if ordered else None,
        p95_s=p95, recent_durations=list(reversed(durations[:40])),
    )


def typical_duration(store: Store, job_id: int) -> float | None:
    """Median duration of recent successful runs, for ETAs."""
    with store.session() as session:
        query = (select(Run.started_at, Run.finished_at).where(Run.job_id == job_id)
                 .where(Run.status == RunStatus.SUCCEEDED)
                 .order_by(col(Run.id).desc()).limit(20))
        rows = session.exec(query).all()
    durations = [(end - start).total_seconds() for start, end in rows if start and end]
    return statistics.median(durations) if durations else None
