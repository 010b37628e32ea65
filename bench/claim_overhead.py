"""Claim overhead per fire on PostgreSQL: recording fires through the engine's claiming
insert (duplicate check plus ON CONFLICT DO NOTHING on the fire's unique key) against a
plain multi-row insert of the same rows, in the same run. Needs a server: set
TUI_SCHEDULER_TEST_PG to an admin URL (e.g. postgresql://tui:tui@localhost/postgres).
A second pass replays the same fires, as a losing engine would: nothing may land.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from common import bulk_jobs, parse_args, report, temp_pg_store


def main() -> None:
    args = parse_args(__doc__)
    admin = os.environ.get("TUI_SCHEDULER_TEST_PG")
    if not admin:
        print("claim overhead: skipped (set TUI_SCHEDULER_TEST_PG to a PostgreSQL admin URL)")
        return
    from sqlalchemy import insert

    from tui_scheduler.engine import records
    from tui_scheduler.store.models import Run

    fires = 1000 if args.quick else 20_000
    with temp_pg_store(admin) as store:
        bulk_jobs(store, 100, "c", schedule="manual", target="true")
        base_time = datetime(2030, 1, 1, tzinfo=UTC)

        def rows(offset: int, trigger: str) -> list[list[dict]]:
            batches = []
            for start in range(0, fires, 100):
                batches.append([records.run_row(
                    job_id=i % 100 + 1, trigger=trigger, status="running",
                    scheduled_for=base_time + timedelta(seconds=offset + (start + i) // 100),
                    started_at=base_time) for i in range(100)])
            return batches

        plain = rows(0, "manual")
        started = time.perf_counter()
        for batch in plain:
            with store.engine.begin() as conn:
                conn.execute(insert(Run.__table__), batch)
        plain_s = time.perf_counter() - started
        claimed = rows(10_000_000, "schedule")
        started = time.perf_counter()
        landed = 0
        for batch in claimed:
            with store.engine.begin() as conn:
                landed += sum(1 for i in records.insert_runs(batch)(conn) if i is not None)
        claim_s = time.perf_counter() - started
        lost_race = 0
        for batch in rows(10_000_000, "schedule"):
            with store.engine.begin() as conn:
                lost_race += sum(1 for i in records.insert_runs(batch)(conn) if i is not None)
    per_fire = claim_s / fires * 1e6
    base = plain_s / fires * 1e6
    print(f"  {fires} fires in batches of 100: claimed {per_fire:.0f} us/fire, plain insert "
          f"{base:.0f} us/row; {landed} landed, {lost_race} landed twice")
    report("claim overhead per fire (PostgreSQL)", per_fire - base, "us/fire added",
           baseline=base, baseline_name="plain insert us/row",
           target="exactly once", passed=landed == fires and lost_race == 0)


if __name__ == "__main__":
    main()
