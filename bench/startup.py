"""Start-up: the console on a database with 1,000 jobs and 100,000 runs.

Spawns ``python -m tui_scheduler --db DB`` in a 120x40 pseudo-terminal and times, from
just before the spawn, the first frame (the status header, "tui-scheduler") and the
moment the job table shows (a job's name). Bytecode is compiled once by a warm-up launch,
as an installed package would have it; the figure is the median of several launches.
Baseline: a minimal Textual app (one Static) in the same pty set-up, in the same run.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from common import bulk_jobs, parse_args, report, temp_store
from console_load import PtyConsole, console_argv

# The console entered below the CLI (whose module imports the store and SQLModel before
# it looks at its arguments): what the console itself costs, for the CLI to aim at.
UI_ENTRY = ("import argparse, sys\n"
            "from tui_scheduler.ui.launch import launch_console\n"
            "sys.exit(launch_console(argparse.Namespace(db=sys.argv[1], demo=False)))\n")

MINIMAL_APP = ("from textual.app import App\n"
               "from textual.widgets import Static\n"
               "class Minimal(App):\n"
               "    def compose(self):\n"
               "        yield Static('minimal-first-frame')\n"
               "Minimal().run()\n")


def fill(jobs: int, runs: int) -> str:
    """Jobs through the store, runs through sqlite3 executemany (fast)."""
    store = temp_store()
    schedules = ["*/5 * * * *", "0 9 * * 1-5", "every 7m", "@daily", "30 2 * * *"]
    for index, schedule in enumerate(schedules):
        bulk_jobs(store, jobs // len(schedules), f"job-{index}-", schedule=schedule,
                  target="true")
    location = store.location
    store.close()
    conn = sqlite3.connect(location)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=runs * 20)
    rng = random.Random(3)
    rows = []
    for index in range(runs):
        began = start + timedelta(seconds=index * 20)
        status = "succeeded" if rng.random() > 0.05 else "failed"
        ended = began + timedelta(seconds=rng.uniform(1, 60))
        rows.append((index % jobs + 1, "schedule", status, str(began), str(began), str(began),
                     str(ended), 0 if status == "succeeded" else 1, "", 1, "bench", "", 0, 0,
                     "{}", "", ""))
    conn.executemany(
        "INSERT INTO run (job_id, trigger, status, scheduled_for, created_at, started_at, "
        "finished_at, exit_code, error, attempt, host, progress_message, output_bytes, "
        "output_truncated, params, owner, shard) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    conn.commit()
    conn.close()
    return location


def launch(argv: list[str], first: bytes, table: bytes | None, quit_key: bytes,
           ) -> tuple[float, float | None]:
    """Seconds from spawn to the first frame showing ``first``, and to ``table``."""
    term = PtyConsole(argv)
    try:
        shown = term.wait_for(first, 60)
        loaded = term.wait_for(table, 60) if table else None
    finally:
        term.proc.poll() is None and term.press(quit_key)
        code = term.close()
    if shown is None or (table and loaded is None) or code != 0:
        tail = term.output()[-400:].decode(errors="replace")
        raise SystemExit(f"{argv[-1]}: nothing shown (exit {code}); last output {tail!r}")
    return shown - term.started, None if loaded is None else loaded - term.started


def main() -> None:
    args = parse_args(__doc__)
    jobs, runs, repeat = (200, 10_000, 3) if args.quick else (1000, 100_000, 7)
    db = fill(jobs, runs)
    minimal = [sys.executable, "-c", MINIMAL_APP]
    console = console_argv(db)
    launch(minimal, b"minimal-first-frame", None, b"\x11")  # warm-up: compile bytecode
    ui_entry = [sys.executable, "-c", UI_ENTRY, db]
    launch(console, b"tui-scheduler", b"job-0-0", b"q")
    base, first, table, below_cli = [], [], [], []
    for _ in range(repeat):  # interleaved, so all see the same machine
        base.append(launch(minimal, b"minimal-first-frame", None, b"\x11")[0])
        shown, loaded = launch(console, b"tui-scheduler", b"job-0-0", b"q")
        first.append(shown)
        table.append(loaded)
        below_cli.append(launch(ui_entry, b"tui-scheduler", b"job-0-0", b"q")[0])
        time.sleep(0.2)
    first_s, table_s, base_s, ui_s = (statistics.median(v)
                                      for v in (first, table, base, below_cli))
    print(f"  {jobs} jobs, {runs} runs: first frame {first_s:.2f} s, job table shown "
          f"{table_s:.2f} s (minimal Textual app {base_s:.2f} s; the console entered below "
          f"the CLI {ui_s:.2f} s); median of {repeat}")
    report(f"start-up first frame ({jobs} jobs, {runs} runs)", first_s, "s", baseline=base_s,
           baseline_name="minimal Textual app first frame", target="< 1.0 s",
           passed=first_s < 1.0, table_shown_s=round(table_s, 3),
           below_cli_first_s=round(ui_s, 3), repeat=repeat,
           all_first_s=[round(v, 3) for v in first])


if __name__ == "__main__":
    main()
