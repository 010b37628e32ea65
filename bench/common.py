"""Shared bits of the benchmark scripts: temporary databases, percentiles, result lines.

Every script prints one JSON line per figure (``RESULT {...}``) that run_all.py collects,
with the figure, its baseline measured in the same run, and the target.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
logging.getLogger("apscheduler").setLevel(logging.ERROR)


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small smoke-test sizes")
    return parser.parse_args()


def scratch_dir(prefix: str = "tui-bench-") -> str:
    """A fresh temporary folder, removed when the script exits (databases of a few
    hundred MB each: a run must not leave them behind)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def temp_store():
    from tui_scheduler.store.db import open_store

    return open_store(os.path.join(scratch_dir(), "bench.db"))


@contextlib.contextmanager
def temp_pg_store(admin: str):
    """A store on a fresh PostgreSQL database made through ``admin`` (an admin URL such
    as ``postgresql://tui:tui@localhost/postgres``), dropped afterwards."""
    import psycopg

    from tui_scheduler.store.db import open_store

    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    name = f"tui_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    store = None
    try:
        store = open_store(f"{admin.rsplit('/', 1)[0]}/{name}")
        yield store
    finally:
        if store is not None:
            store.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(figure: str, value: float, unit: str, *, baseline: float | None,
           baseline_name: str, target: str, passed: bool, **extra) -> None:
    ratio = (value / baseline) if baseline else None
    record = {"figure": figure, "value": round(value, 3), "unit": unit,
              "baseline": None if baseline is None else round(baseline, 3),
              "baseline_name": baseline_name,
              "ratio": None if ratio is None else round(ratio, 2), "target": target,
              "pass": bool(passed), **extra}
    print(f"{figure}: {value:.2f} {unit} (baseline {baseline_name}: "
          f"{'-' if baseline is None else f'{baseline:.2f}'} {unit}; target {target}) "
          f"{'PASS' if passed else 'FAIL'}")
    print("RESULT " + json.dumps(record), flush=True)


def bulk_jobs(store, count: int, prefix: str, **fields) -> None:
    """Insert many validated jobs in one transaction (create_job commits one by one)."""
    from sqlalchemy import insert

    from tui_scheduler.core.jobspec import validate_job_fields
    from tui_scheduler.store.jobs import bump_change_counter, column_values, utcnow
    from tui_scheduler.store.models import Job

    values = column_values(validate_job_fields({"name": f"{prefix}0", **fields}))
    now = utcnow()
    rows = [{**values, "name": f"{prefix}{i}", "created_at": now, "updated_at": now,
             "state": "{}"} for i in range(count)]
    with store.engine.begin() as conn:
        conn.execute(insert(Job.__table__), rows)
    with store.session() as session:
        bump_change_counter(session)
        session.commit()
