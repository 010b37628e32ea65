"""Run overhead: command jobs running `true`, with full records and output capture.

Baseline: a bare ``subprocess.run(["/bin/sh", "-c", "true"])`` of the same command, in
the same run. Sequential runs give the added time per run; a concurrent burst over 20
jobs gives sustained runs per second.
"""

from __future__ import annotations

import subprocess
import time

from common import parse_args, report, temp_store


def bare(count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run(["/bin/sh", "-c", "true"], check=True)
    return (time.perf_counter() - start) / count


def ours_sequential(engine, job_id: int, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        run = engine.run_now(job_id)
        run.finished.wait(30)
    return (time.perf_counter() - start) / count


def ours_throughput(store, engine, job_ids: list[int], count: int) -> tuple[float, int]:
    from sqlmodel import func, select

    from tui_scheduler.store.models import Run
    with store.session() as session:
        before = session.exec(select(func.count()).select_from(Run)).one()
    start = time.perf_counter()
    runs = [engine.run_now(job_ids[i % len(job_ids)]) for i in range(count)]
    for run in runs:
        run.finished.wait(60)
    elapsed = time.perf_counter() - start
    with store.session() as session:
        recorded = session.exec(select(func.count()).select_from(Run)
                                .where(Run.status == "succeeded")).one() - before
    return count / elapsed, recorded


def main() -> None:
    args = parse_args(__doc__)
    count = 100 if args.quick else 2000
    from tui_scheduler.engine import Engine
    from tui_scheduler.store.jobs import create_job

    store = temp_store()
    seq_job = create_job(store, {"name": "true", "target": "true"})
    burst_jobs = [create_job(store, {"name": f"burst-{i}", "target": "true",
                                     "overlap": "allow"}).id for i in range(20)]
    engine = Engine(store)
    engine.start()
    try:
        ours_sequential(engine, seq_job.id, 10)  # warm-up
        base = bare(count)
        ours = ours_sequential(engine, seq_job.id, count)
        rate, recorded = ours_throughput(store, engine, burst_jobs, count)
    finally:
        engine.shutdown()
    added_ms = (ours - base) * 1000
    print(f"  bare subprocess.run: {base * 1000:.2f} ms/run; tui-scheduler: "
          f"{ours * 1000:.2f} ms/run sequential; burst: {rate:.0f} runs/s "
          f"({recorded}/{count} recorded succeeded)")
    report(f"run overhead ({count} runs of true)", added_ms, "ms/run added",
           baseline=base * 1000, baseline_name="bare subprocess.run ms/run",
           target="< 3 ms added; >= 300 runs/s",
           passed=added_ms < 3 and rate >= 300 and recorded == count,
           runs_per_s=round(rate, 1), ours_ms=round(ours * 1000, 3))


if __name__ == "__main__":
    main()
