"""Database reads the console makes, bundled per occasion. They run in thread workers
(never on the UI thread) and return plain values that a message carries back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import get_job_by_id, list_jobs
from tui_scheduler.store.models import Job, Run
from tui_scheduler.store.runs import (
    RESULT_STATUSES,
    count_failed_since,
    latest_results,
    list_runs,
    typical_duration,
    waiting_retries,
)

FAILED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class TableData:
    """Everything the job table needs at start-up."""

    jobs: list[Job]
    last: dict[int, Run]
    failed_24h: int
    typical: dict[int, float | None]
    """Typical durations, only for the jobs that were running when this was read."""
    retries: dict[int, Run]
    """Each job's retry waiting to start, for jobs that have one."""


def load_table(store: Store, now: datetime, running_job_ids: set[int]) -> TableData:
    return TableData(
        jobs=list_jobs(store), last=latest_results(store),
        failed_24h=count_failed_since(store, now - FAILED_WINDOW),
        typical={job_id: typical_duration(store, job_id) for job_id in running_job_ids},
        retries=waiting_retries(store))


@dataclass(frozen=True)
class JobUpdate:
    """Fresh rows for jobs the engine says changed; ``job`` None or deleted means gone."""

    job_id: int
    job: Job | None
    last: Run | None
    retry: Run | None = None
    """Its retry waiting to start, if any."""


def load_jobs(store: Store, job_ids: set[int]) -> list[JobUpdate]:
    retries = waiting_retries(store, sorted(job_ids))
    return [JobUpdate(job_id, get_job_by_id(store, job_id), latest_result(store, job_id),
                      retries.get(job_id))
            for job_id in sorted(job_ids)]


def latest_result(store: Store, job_id: int) -> Run | None:
    """The newest finished run of one job (skipped and missed fires are not results)."""
    for run in list_runs(store, job_id, limit=50):
        if run.status in RESULT_STATUSES:
            return run
    return None


def count_failed(store: Store, now: datetime) -> int:
    return count_failed_since(store, now - FAILED_WINDOW)
