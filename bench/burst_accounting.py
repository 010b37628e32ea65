"""Burst accounting: N fires due on the same second; every one must end as a run, a
``skipped`` or a ``missed`` record.

Baseline: a bare APScheduler 3 BackgroundScheduler with its default misfire grace time
(1 s), counting how many of the same burst it silently drops, in the same run.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import bulk_jobs, parse_args, report, scratch_dir, temp_store


def bare(count: int, lead: float) -> int:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    due = datetime.now(UTC) + timedelta(seconds=lead)
    calls = [0]
    lock = threading.Lock()

    def noop() -> None:
        with lock:
            calls[0] += 1

    scheduler = BackgroundScheduler(timezone=UTC)
    for index in range(count):
        scheduler.add_job(noop, DateTrigger(due), id=str(index))
    scheduler.start()
    time.sleep(lead + 15)
    scheduler.shutdown(wait=True)
    return calls[0]


def ours(count: int, lead: float) -> tuple[int, dict[str, int]]:
    from sqlmodel import func, select

    from tui_scheduler.engine import Engine
    from tui_scheduler.store.models import Run

    folder = scratch_dir("tui-bench-mod-")
    Path(folder, "burst_noop.py").write_text("def noop(ctx):\n    return None\n")
    sys.path.insert(0, folder)
    store = temp_store()
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
    at = due.strftime("at %Y-%m-%dT%H:%M:%S+00:00")
    bulk_jobs(store, count, "b", schedule=at, kind="python", target="burst_noop:noop")
    engine = Engine(store)
    engine.start()
    deadline = time.monotonic() + lead + 300
    while time.monotonic() < deadline:
        with store.session() as session:
            done = session.exec(select(func.count()).select_from(Run)
                                .where(Run.status.in_(["succeeded", "skipped", "missed",
                                                       "failed"]))).one()
        if done >= count:
            break
        time.sleep(0.5)
    engine.shutdown()
    with store.session() as session:
        rows = session.exec(select(Run.status, func.count()).group_by(Run.status)).all()
    statuses = dict(rows)
    return sum(statuses.values()), statuses


def main() -> None:
    args = parse_args(__doc__)
    count = 500 if args.quick else 10_000
    lead = 3.0 if args.quick else 30.0
    base_ran = bare(count, lead)
    accounted, statuses = ours(count, lead)
    base_lost = count - base_ran
    lost = count - accounted
    print(f"  bare APScheduler: {base_ran}/{count} ran, {base_lost} dropped silently; "
          f"tui-scheduler: {accounted}/{count} accounted {statuses}")
    report(f"burst accounting ({count} fires)", lost, "fires lost", baseline=base_lost,
           baseline_name="bare APScheduler fires lost", target="0 lost",
           passed=lost == 0, statuses=statuses)


if __name__ == "__main__":
    main()
