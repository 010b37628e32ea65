"""Sample jobs for ``tui-scheduler --demo``: a newcomer sees the console alive in seconds.

One job reports progress, one fails, one runs for a long time, one is paused, one is
manual and a few follow cron schedules. A little made-up history gives the table last
results and the progress job a typical duration (so its ETA shows from the first run).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import Job, OutputChunk, Run, row_id

# Prints JSON progress with a message for about 30 seconds.
PROGRESS_SCRIPT = (
    'for i in $(seq 0 5 100); do '
    'printf \'{"progress": {"done": %d, "total": 100}, "message": "copying batch %d of 20"}\\n\' '
    '"$i" "$((i / 5))"; sleep 1.5; done; echo "all batches copied"'
)

SAMPLE_JOBS: list[dict] = [
    {"name": "sync-photos", "target": PROGRESS_SCRIPT, "schedule": "every 1m",
     "description": "Copies photos in batches, reporting progress as it goes.",
     "tags": ["demo", "progress"]},
    {"name": "check-disk", "target": 'echo "checking /data"; sleep 2; '
     'echo "disk /data is 97% full" >&2; exit 3', "schedule": "every 2m",
     "description": "Fails on purpose: shows a failure toast and the failing state.",
     "tags": ["demo", "monitoring"]},
    {"name": "rebuild-index", "target": 'echo "rebuilding the search index"; sleep 900; '
     'echo done', "schedule": "@reboot",
     "description": "Runs for 15 minutes without reporting progress.", "tags": ["demo"]},
    {"name": "nightly-backup", "target": 'echo "backing up"; sleep 3; echo "backup done"',
     "schedule": "30 2 * * *", "description": "A nightly cron job.",
     "tags": ["demo", "backup"]},
    {"name": "weekday-report", "target": 'echo "report sent"',
     "schedule": "0 9 * * 1-5", "description": "Weekdays at nine.", "tags": ["demo"]},
    {"name": "cleanup-tmp", "target": 'find /tmp -maxdepth 1 -name "demo-*" -mmin +60 -print',
     "schedule": "*/15 * * * *", "paused": True,
     "description": "Paused: p resumes it.", "tags": ["demo"]},
    {"name": "deploy-site", "target": 'echo "deploying ${PARAM_VERSION:-latest}"; sleep 4; '
     'echo "deployed"', "schedule": "manual", "params": {"VERSION": "1.4.2"},
     "description": "Manual: r runs it, R asks for parameters.", "tags": ["demo"]},
]

_SYNC_LINES = [("out", json.dumps({"progress": {"done": i, "total": 100},
                                   "message": f"copying batch {i // 5} of 20"}))
               for i in range(0, 101, 5)]
# Made-up past runs per job: (status, duration seconds, output lines).
_HISTORY: dict[str, tuple[str, float, list[tuple[str, str]]]] = {
    "sync-photos": ("succeeded", 31.0, [*_SYNC_LINES, ("out", "all batches copied")]),
    "nightly-backup": ("succeeded", 3.2, [("out", "backing up"), ("out", "backup done")]),
    "weekday-report": ("succeeded", 0.1, [("out", "report sent")]),
    "check-disk": ("failed", 2.0, [("out", "checking /data"),
                                   ("err", "disk /data is 97% full")]),
    "deploy-site": ("succeeded", 4.1, [("out", "deploying 1.4.2"), ("out", "deployed")]),
}


def populate(store: Store, *, now: datetime | None = None, history: int = 12) -> list[int]:
    """Create the sample jobs (and a little history); returns their ids.

    Given ``now``, everything is a function of it (creation times included, which anchor
    the intervals), so screenshots and snapshot tests come out the same every time.
    """
    pinned = now is not None
    now = now or datetime.now(UTC)
    ids = [row_id(create_job(store, dict(spec))) for spec in SAMPLE_JOBS]
    by_name = dict(zip([spec["name"] for spec in SAMPLE_JOBS], ids, strict=True))
    rng = random.Random(7)
    with store.session() as session:
        for job_id in ids if pinned else ():
            # Not earlier than ``now``: an engine would owe every fire since creation.
            job = session.get_one(Job, job_id)
            job.created_at = job.updated_at = now
            session.add(job)
        for name, (status, seconds, lines) in _HISTORY.items():
            for back in range(history, 0, -1):
                started = now - timedelta(minutes=37 * back + rng.randint(0, 9))
                took = seconds * rng.uniform(0.85, 1.15)
                run = Run(job_id=by_name[name], trigger="manual", status=status,
                          created_at=started, started_at=started,
                          finished_at=started + timedelta(seconds=took),
                          exit_code=0 if status == "succeeded" else 3,
                          error="" if status == "succeeded" else
                          "exit code 3: disk /data is 97% full", host="demo")
                session.add(run)
                session.flush()  # the run's id, for its output
                for seq, (stream, line) in enumerate(lines, 1):
                    session.add(OutputChunk(run_id=row_id(run), seq=seq, stream=stream,
                                            text=line + "\n", lines=1,
                                            nbytes=len(line) + 1))
                run.output_bytes = sum(len(line) + 1 for _, line in lines)
        session.commit()
    return ids


def kick(engine, job_ids: list[int]) -> None:
    """Start the progress and failing jobs at once, so the first screen is alive."""
    for job_id in job_ids[:2]:
        engine.run_now(job_id)
