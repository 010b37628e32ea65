"""Cron preview: the next 10 fires of an expression, as the editor computes per keystroke.

Each keystroke produces a new expression, so it is measured cold (a new expression text
each time: parse, validate, describe, 10 fire times in a DST zone). Baseline: croniter
alone iterating the same 10 naive times, in the same run.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from common import median, parse_args, percentile, report

EXPRESSIONS = ["0 9 * * 1-5", "*/15 * * * *", "0 0 1 * 1", "30 2 * * *", "0 */2 * jan,jul sun",
               "5 4 * * 0", "0 0 */2 * 1", "15 10 1-7 * *", "0 12 * * 7", "@daily"]


def main() -> None:
    args = parse_args(__doc__)
    rounds = 20 if args.quick else 200
    from croniter import croniter

    from tui_scheduler.core import cron
    from tui_scheduler.core.schedule import describe, next_fires, parse_schedule, resolve_zone

    zone = resolve_zone("America/New_York")
    now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    ours, base = [], []
    for round_number in range(rounds):
        for expr in EXPRESSIONS:
            # A distinct text per keystroke defeats the caches, as typing does.
            text = expr if expr.startswith("@") else f"{expr}{' ' * (round_number % 3)}"
            cron.parse_cron.cache_clear()
            start = time.perf_counter()
            schedule = parse_schedule(text)
            describe(schedule)
            next_fires(schedule, now, zone, 10)
            ours.append(time.perf_counter() - start)
            if not expr.startswith("@"):
                start = time.perf_counter()
                it = croniter(expr, now.replace(tzinfo=None))
                for _ in range(10):
                    it.get_next(datetime)
                base.append(time.perf_counter() - start)
    typical = median(ours) * 1000
    report("cron preview median (next 10 fires)", typical, "ms",
           baseline=median(base) * 1000, baseline_name="croniter alone median",
           target="< 2 ms", passed=typical < 2, p99_ms=round(percentile(ours, 99) * 1000, 3))


if __name__ == "__main__":
    main()
