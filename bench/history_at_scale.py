"""History at scale: a database with N runs over 1,000 jobs and one 10 MiB run output.

Times what the job detail screen asks for (the latest 50 runs plus statistics) and what
the run log asks for first (the tail of a 10 MiB output), through the same store
functions the console uses. Baseline: the bare sqlite3 query for the latest 50 rows of one
job on the same file, in the same run.
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from common import bulk_jobs, median, parse_args, report, temp_store


def fill(store, runs: int, jobs: int) -> int:
    """Runs spread over jobs, written with sqlite3 executemany; returns a 10 MiB run's id."""
    bulk_jobs(store, jobs, "h", schedule="*/5 * * * *", target="true")
    conn = sqlite3.connect(store.location)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rng = random.Random(7)
    batch = []
    for index in range(runs):
        when = start + timedelta(seconds=index * 30)
        duration = rng.uniform(1, 120)
        status = "succeeded" if rng.random() > 0.05 else "failed"
        batch.append((index % jobs + 1, "schedule", status, _s(when), _s(when), _s(when),
                      _s(when + timedelta(seconds=duration)), 0 if status == "succeeded"
                      else 1, "", 1, "bench", None, None, None, None, "", 0, 0, "{}", ""))
        if len(batch) == 50_000:
            _insert(conn, batch)
            batch = []
    _insert(conn, batch)
    cur = conn.execute("INSERT INTO run (job_id, trigger, status, created_at, attempt, host, "
                       "progress_message, output_bytes, output_truncated, params, owner, "
                       "error) VALUES (1, 'manual', 'succeeded', ?, 1, '', '', 0, 0, '{}', '', '')",
                       (_s(start),))
    run_id = cur.lastrowid
    line = "x" * 99
    chunk = "\n".join([line] * 640) + "\n"
    conn.executemany("INSERT INTO run_output (run_id, seq, stream, text, lines, nbytes) "
                     "VALUES (?, ?, 'out', ?, 640, ?)",
                     [(run_id, seq, chunk, len(chunk)) for seq in range(1, 165)])
    conn.commit()
    conn.close()
    return run_id


def _s(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(sep=" ")


def _insert(conn, rows) -> None:
    conn.executemany(
        "INSERT INTO run (job_id, trigger, status, scheduled_for, created_at, started_at, "
        "finished_at, exit_code, error, attempt, host, pid, heartbeat_at, progress_done, "
        "progress_total, progress_message, output_bytes, output_truncated, params, owner) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    args = parse_args(__doc__)
    total = 50_000 if args.quick else 1_000_000
    from tui_scheduler.store.output import iter_lines, read_chunks_before
    from tui_scheduler.store.runs import job_stats, list_runs

    store = temp_store()
    big_run = fill(store, total, 1000)
    raw = sqlite3.connect(store.location)
    job_ids = [random.Random(1).randint(1, 1000) for _ in range(30)]
    base = []
    for job_id in job_ids:
        start = time.perf_counter()
        raw.execute("SELECT * FROM run WHERE job_id = ? ORDER BY id DESC LIMIT 50",
                    (job_id,)).fetchall()
        base.append(time.perf_counter() - start)
    detail = []
    for job_id in job_ids:
        start = time.perf_counter()
        list_runs(store, job_id, limit=50)
        job_stats(store, job_id)
        detail.append(time.perf_counter() - start)
    tail = timed(lambda: iter_lines(read_chunks_before(store, big_run, limit=32)), 20)
    detail_ms, tail_ms = median(detail) * 1000, median(tail) * 1000
    print(f"  {total} runs: job detail {detail_ms:.1f} ms, 10 MiB log tail {tail_ms:.1f} ms, "
          f"bare sqlite3 latest-50 {median(base) * 1000:.2f} ms")
    report(f"job detail at {total} runs", detail_ms, "ms", baseline=median(base) * 1000,
           baseline_name="bare sqlite3 latest 50", target="< 50 ms", passed=detail_ms < 50)
    report("run log tail of 10 MiB", tail_ms, "ms", baseline=median(base) * 1000,
           baseline_name="bare sqlite3 latest 50", target="< 100 ms", passed=tail_ms < 100)


if __name__ == "__main__":
    main()
