"""The job detail screen's two reads, as store functions over a real SQLite file."""

from __future__ import annotations

from tui_scheduler.core.policies import RunStatus, Trigger
from tui_scheduler.store.jobs import create_job, utcnow
from tui_scheduler.store.models import Run
from tui_scheduler.store.runs import first_page, runs_changed


def _add_runs(store, job_id: int, statuses: list[str]) -> list[int]:
    with store.session() as session:
        rows = [Run(job_id=job_id, trigger=Trigger.MANUAL, status=status, created_at=utcnow())
                for status in statuses]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def test_first_page_is_the_newest_runs_and_the_total(store):
    job = create_job(store, {"name": "many", "target": "true"})
    other = create_job(store, {"name": "other", "target": "true"})
    ids = _add_runs(store, job.id, [RunStatus.SUCCEEDED] * 7)
    _add_runs(store, other.id, [RunStatus.FAILED] * 3)
    runs, total = first_page(store, job.id, limit=5)
    assert [run.id for run in runs] == ids[::-1][:5]
    assert total == 7


def test_runs_changed_gives_new_runs_newest_first_and_fresh_active_rows(store):
    job = create_job(store, {"name": "live", "target": "true"})
    old = _add_runs(store, job.id, [RunStatus.RUNNING, RunStatus.SUCCEEDED])
    new = _add_runs(store, job.id, [RunStatus.SUCCEEDED, RunStatus.FAILED])
    with store.session() as session:
        row = session.get(Run, old[0])
        row.status = RunStatus.STOPPED
        session.add(row)
        session.commit()
    new_runs, changed = runs_changed(store, job.id, old[-1], [old[0]])
    assert [run.id for run in new_runs] == new[::-1]
    assert [(run.id, run.status) for run in changed] == [(old[0], RunStatus.STOPPED)]
    assert runs_changed(store, job.id, new[-1], []) == ([], [])


def test_statistics_count_only_runs_that_ended_by_themselves(store):
    # A stopped or timed-out run was cut short: a 20 s job stopped after 1 s must not
    # pull its median duration down.
    from datetime import timedelta

    from tui_scheduler.store.runs import job_stats

    job = create_job(store, {"name": "long", "target": "true"})
    start = utcnow()
    lengths = {RunStatus.SUCCEEDED: 20, RunStatus.FAILED: 18, RunStatus.STOPPED: 1,
               RunStatus.TIMED_OUT: 2, RunStatus.INTERRUPTED: 3}
    with store.session() as session:
        for status, seconds in [*lengths.items(), (RunStatus.STOPPED, 1)]:
            session.add(Run(job_id=job.id, trigger=Trigger.MANUAL, status=status,
                            created_at=start, started_at=start,
                            finished_at=start + timedelta(seconds=seconds)))
        session.commit()
    stats = job_stats(store, job.id)
    assert stats.runs == 6 and stats.succeeded == 1
    assert stats.median_s == 19.0
    assert sorted(stats.recent_durations) == [18.0, 20.0]
