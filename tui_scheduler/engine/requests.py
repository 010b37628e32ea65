"""Serving what consoles and the CLI ask of an engine through ``control`` rows.

A console attached to a daemon, or ``tui-scheduler run``/``stop`` while a daemon holds the
database, inserts a row (``store/control.py``) and waits for its ``result``. The engine
looks for waiting rows on its poll (and at once on a PostgreSQL NOTIFY, see ``wakeup.py``),
serves each, and writes the answer back through its batch writer.

On a shared database every engine sees every row, so each request is claimed first with
one conditional UPDATE: exactly one engine serves it, even when two of its threads (the
ticker and the NOTIFY waker) look at the same moment.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import select, update

from tui_scheduler.core.policies import RunStatus
from tui_scheduler.engine import records
from tui_scheduler.engine.retries import RetryBook
from tui_scheduler.engine.runs import ActiveRun, RunExecutor
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Control, Job
from tui_scheduler.store.writer import BatchWriter

_control = Control.__table__


class Engine(Protocol):
    """What serving a request needs of the engine (``scheduler.Engine`` fits)."""

    store: Store
    writer: BatchWriter
    lock: Any
    """``shared`` (absent on SQLite) and ``token``, to claim a request."""
    executor: RunExecutor
    retries: RetryBook

    def job(self, job_id: int) -> Job | None: ...
    def runs_here(self, job: Job) -> bool: ...
    def run_now(self, job_id: int, params: dict[str, Any] | None = None) -> ActiveRun | None: ...
    def stop_or_cancel(self, run_id: int, *, kill: bool = False) -> str | None: ...
    def reload(self, job_ids: set[int] | None = None) -> None: ...


def serve_requests(engine: Engine) -> None:
    """Serve every waiting request this engine can claim, oldest first."""
    with engine.store.engine.connect() as conn:
        pending = conn.execute(select(_control).where(_control.c.done_at.is_(None))
                               .order_by(_control.c.id)).mappings().all()
    for request in pending:
        if not _claim(engine, request):
            continue
        result = _serve(engine, request)
        engine.writer.submit(_answer(request["id"], result))


def _claim(engine: Engine, request) -> bool:
    """On a shared database, exactly one engine serves each request: a stop goes to the
    engine running that run, anything else to whichever engine claims it first."""
    if not getattr(engine.lock, "shared", False):
        return True
    if request["action"] == "stop" and request["run_id"] not in engine.executor.active \
            and request["run_id"] not in engine.retries:
        return False
    if request["action"] == "run":
        job = engine.job(request["job_id"])
        if job is not None and not engine.runs_here(job):
            return False  # pinned elsewhere: leave it to an engine it names
    with engine.store.engine.begin() as conn:
        claimed = conn.execute(update(_control).where(_control.c.id == request["id"])
                               .where(_control.c.claimed_by == "")
                               .values(claimed_by=engine.lock.token)).rowcount
    return claimed == 1


def _serve(engine: Engine, request) -> str:
    payload = json.loads(request["payload"] or "{}")
    action = request["action"]
    if action == "run":
        run = engine.run_now(request["job_id"], payload.get("params"))
        if run is None:
            return "refused: job is not active"
        run.recorded.wait(10)
        words: dict[str | None, str] = {RunStatus.SKIPPED: "skipped",
                                        RunStatus.SCHEDULED: "queued"}
        word = words.get(run.status, "run")
        return f"{word} {run.run_id}"
    if action == "stop":
        done = engine.stop_or_cancel(request["run_id"], kill=bool(payload.get("kill")))
        return done or "not running"
    if action == "reload":
        engine.reload()
        return "reloaded"
    return f"unknown action {action!r}"


def _answer(control_id: int, result: str):
    def op(conn) -> None:
        conn.execute(update(_control).where(_control.c.id == control_id)
                     .values(done_at=records.utcnow(), result=result))
    return op
