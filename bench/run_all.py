"""Run every benchmark and print one table: figure, value, baseline, ratio, target, verdict.

``--quick`` runs the small smoke sizes (what CI runs); without it, the full sizes the
targets are stated for. Each script runs in its own process so one cannot warm another.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["fire_lateness.py", "burst_accounting.py", "run_overhead.py", "progress_ingest.py",
           "history_at_scale.py", "cron_preview.py", "claim_overhead.py",
           "attach_latency.py", "console_load.py", "startup.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="run just these scripts")
    args = parser.parse_args()
    results, failures = [], []
    for script in args.only or SCRIPTS:
        if not (HERE / script).exists():
            failures.append(f"{script}: missing")
            continue
        command = [sys.executable, str(HERE / script)] + (["--quick"] if args.quick else [])
        started = time.monotonic()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=HERE, check=False,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        found = [json.loads(line[7:]) for line in proc.stdout.splitlines()
                 if line.startswith("RESULT ")]
        if proc.returncode == 0 and not found and ": skipped (" in proc.stdout:
            print(proc.stdout.strip())
            continue
        if proc.returncode != 0 or not found:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            failures.append(f"{script}: exit {proc.returncode}: {' | '.join(tail)}")
        for record in found:
            record["seconds"] = round(time.monotonic() - started, 1)
            results.append(record)
    header = f"{'figure':44} {'value':>12} {'baseline':>12} {'ratio':>6}  {'target':34} result"
    print(header)
    print("-" * len(header))
    for r in results:
        value = f"{r['value']:g} {r['unit'].split()[0]}"
        base = "-" if r["baseline"] is None else f"{r['baseline']:g}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:g}"
        print(f"{r['figure'][:44]:44} {value:>12} {base:>12} {ratio:>6}  {r['target'][:34]:34} "
              f"{'pass' if r['pass'] else 'FAIL'}")
    for failure in failures:
        print(f"ERROR {failure}")
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; "
          f"{'quick' if args.quick else 'full'} sizes")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
