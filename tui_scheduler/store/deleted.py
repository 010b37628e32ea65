"""Deleted jobs: finding them and their history, and purging it for good.

``rm`` only marks a job deleted (``deleted_at``): it stops firing, leaves the job table,
and its runs and output stay readable until ``purge`` removes the job row with all of
them. A deleted job's name may be reused by a new job, so the same name can stand for
one live job and any number of deleted ones; deleted jobs are told apart by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from tui_scheduler.core.policies import ACTIVE_STATUSES, as_row_id
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Control, Job, OutputChunk, Run, row_id


class DeletedJobNotFound(LookupError):
    def __init__(self, ref: str | int):
        super().__init__(f"no deleted job named {ref!r}; `tui-scheduler list --deleted` "
                         "shows the deleted jobs and their ids")


@dataclass(frozen=True)
class DeletedJob:
    """A deleted job with what is left of it."""

    job: Job
    runs: int
    last_status: str | None
    """Status of its newest run, if it has any."""
    last_at: datetime | None
    """When its newest run ended (or started, or was created)."""


def _deleted_query() -> SelectOfScalar[Job]:
    return select(Job).where(col(Job.deleted_at).is_not(None))


def find_deleted(store: Store, ref: str | int) -> list[Job]:
    """Deleted jobs that ``ref`` names: the one with that id, else every deleted job
    with that name, most recently deleted first."""
    with store.session() as session:
        job_id = as_row_id(ref)
        if job_id is not None:
            by_id = session.exec(_deleted_query().where(Job.id == job_id)).first()
            if by_id is not None:
                return [by_id]
        query = _deleted_query().where(Job.name == str(ref))
        return list(session.exec(query.order_by(col(Job.deleted_at).desc(),
                                                col(Job.id).desc())).all())


def list_deleted(store: Store) -> list[DeletedJob]:
    """Every deleted job, most recently deleted first, with its run count and last run."""
    with store.session() as session:
        jobs = list(session.exec(_deleted_query().order_by(col(Job.deleted_at).desc(),
                                                           col(Job.id).desc())).all())
        ids = [row_id(job) for job in jobs]
        if not ids:
            return []
        counts = dict(session.exec(select(Run.job_id, func.count()).where(
            col(Run.job_id).in_(ids)).group_by(col(Run.job_id))).all())
        newest = (select(func.max(Run.id)).where(col(Run.job_id).in_(ids))
                  .group_by(col(Run.job_id)))
        last = {run.job_id: run for run in session.exec(
            select(Run).where(col(Run.id).in_(newest))).all()}
    result = []
    for job, job_id in zip(jobs, ids, strict=True):
        run = last.get(job_id)
        when = (run.finished_at or run.started_at or run.created_at) if run else None
        result.append(DeletedJob(job, counts.get(job_id, 0), run.status if run else None,
                                 when))
    return result


class PurgeRefused(ValueError):
    """The job cannot be purged now (it is live, or a run of it is still going)."""


def purge_jobs(store: Store, job_ids: list[int]) -> int:
    """Remove deleted jobs with their runs, the runs' output and their control requests,
    all in one transaction (all or nothing); return how many runs went. Refused while a
    run of one is active: the engine running it would write into a row that is gone."""
    with store.session() as session:
        for job_id in job_ids:
            job = session.get(Job, job_id)
            if job is None:
                raise DeletedJobNotFound(job_id)
            if job.deleted_at is None:
                raise PurgeRefused(f"job {job.name!r} is not deleted; `tui-scheduler rm` "
                                   "it first (purge only removes a deleted job's history)")
        active = session.exec(select(Run.id).where(col(Run.job_id).in_(job_ids)).where(
            col(Run.status).in_(ACTIVE_STATUSES)).limit(1)).first()
        if active is not None:
            raise PurgeRefused(f"run {active} of a job to purge is still running or queued; "
                               f"stop it first (`tui-scheduler stop {active}`)")
        runs = select(Run.id).where(col(Run.job_id).in_(job_ids))
        session.exec(delete(OutputChunk).where(col(OutputChunk.run_id).in_(runs)))
        session.exec(delete(Control).where(col(Control.job_id).in_(job_ids)
                                           | col(Control.run_id).in_(runs)))
        gone = session.exec(delete(Run).where(col(Run.job_id).in_(job_ids))).rowcount
        session.exec(delete(Job).where(col(Job.id).in_(job_ids)))
        session.commit()
    return gone
