"""Progress ingest: N running jobs each printing 100 progress lines a second.

Checks that every line reaches the stored log, that the latest progress is visible in the
database within 0.5 s (each line carries the time it was printed), and the engine's own
CPU use. Baseline: a minimal reader (Popen plus a thread per pipe, no database) consuming
the same processes' output, in the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from common import parse_args, percentile, report, temp_store

EMITTER = ("import json, sys, time\n"
           "n = int(sys.argv[1])\n"
           "for i in range(n):\n"
           "    print(json.dumps({'progress': {'done': i + 1, 'total': n},"
           " 'message': repr(time.time())}), flush=True)\n"
           "    time.sleep(0.01)\n")


POLLER = ("import sqlite3, sys, time\n"
          "conn = sqlite3.connect(sys.argv[1])\n"
          "out = open(sys.argv[2], 'w', buffering=1)\n"
          "while True:\n"
          "    time.sleep(0.1)\n"
          "    rows = conn.execute(\"SELECT progress_message FROM run WHERE status='running'\")\n"
          "    now = time.time()\n"
          "    for (message,) in rows:\n"
          "        if message:\n"
          "            out.write(f'{now - float(message)}\\n')\n")


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def bare(jobs: int, lines: int, script: str) -> float:
    procs = [subprocess.Popen([sys.executable, script, str(lines)], stdout=subprocess.PIPE)
             for _ in range(jobs)]
    counts = [0] * jobs

    def drain(index: int, proc: subprocess.Popen) -> None:
        for _ in proc.stdout:
            counts[index] += 1

    threads = [threading.Thread(target=drain, args=(i, p)) for i, p in enumerate(procs)]
    start_cpu, start = cpu_seconds(), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for proc in procs:
        proc.wait()
    return (cpu_seconds() - start_cpu) / (time.monotonic() - start)


def ours(jobs: int, lines: int, script: str) -> tuple[float, int, list[float]]:
    from sqlmodel import func, select

    from tui_scheduler.engine import Engine
    from tui_scheduler.store.jobs import create_job
    from tui_scheduler.store.models import OutputChunk

    store = temp_store()
    ids = [create_job(store, {"name": f"p{i}", "target": f"{sys.executable} {script} {lines}"}).id
           for i in range(jobs)]
    engine = Engine(store)
    engine.start()
    # The lag is sampled by another process, so its reads don't count as engine CPU.
    lag_file = store.location + ".lags"
    poller = subprocess.Popen([sys.executable, "-c", POLLER, store.location, lag_file])
    start_cpu, start = cpu_seconds(), time.monotonic()
    runs = [engine.run_now(job_id) for job_id in ids]
    for run in runs:
        run.finished.wait(600)
    elapsed = time.monotonic() - start
    cpu = (cpu_seconds() - start_cpu) / elapsed
    poller.terminate()
    poller.wait()
    engine.shutdown()
    with open(lag_file) as handle:
        lags = [float(line) for line in handle if line.strip()]
    with store.session() as session:
        stored = session.exec(select(func.sum(OutputChunk.lines))).one()
    return cpu, stored, lags


def main() -> None:
    args = parse_args(__doc__)
    jobs, seconds = (10, 5) if args.quick else (50, 30)
    lines = seconds * 100
    script = os.path.join(temp_store().location.rsplit("/", 1)[0], "emit.py")
    with open(script, "w") as handle:
        handle.write(EMITTER)
    base_cpu = bare(jobs, lines, script)
    cpu, stored, lags = ours(jobs, lines, script)
    lag_p99 = percentile(lags, 99)
    expected = jobs * lines
    print(f"  {jobs} jobs x {lines} lines: stored {stored}/{expected}; progress lag p99 "
          f"{lag_p99 * 1000:.0f} ms; engine CPU {cpu * 100:.0f}% of a core "
          f"(bare reader {base_cpu * 100:.0f}%)")
    report(f"progress ingest ({jobs} jobs x 100 lines/s)", cpu * 100, "% of a core",
           baseline=base_cpu * 100, baseline_name="bare pipe reader CPU",
           target="all lines, lag < 0.5 s, < 50% CPU",
           passed=stored == expected and lag_p99 < 0.5 and cpu < 0.5,
           stored=stored, expected=expected, lag_p99_ms=round(lag_p99 * 1000, 1))


if __name__ == "__main__":
    main()
