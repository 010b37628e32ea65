"""Requests to the engine that holds the database, from another process (CLI, an
attached console): a row in ``control`` that the engine serves within half a second
(its poll), or at once on PostgreSQL, where the row comes with a NOTIFY."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from tui_scheduler.store import notify
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Control

_control = Control.__table__


class ControlTimeout(RuntimeError):
    """The engine did not answer in time."""


def send_control(store: Store, action: str, *, job_id: int | None = None,
                 run_id: int | None = None, payload: dict[str, Any] | None = None,
                 timeout: float = 10.0) -> str:
    """Ask the engine to act and wait for its one-line answer."""
    woken = notify.supported(store)
    with store.engine.begin() as conn:
        inserted = conn.execute(insert(_control).values(
            action=action, job_id=job_id, run_id=run_id, payload=json.dumps(payload or {}),
            created_at=datetime.now(UTC))).inserted_primary_key
        assert inserted is not None  # a single-row INSERT always reports its key
        control_id = inserted[0]
        if woken:
            notify.notify(conn, [notify.REQUEST])
    started = time.monotonic()
    deadline = started + timeout
    # A woken engine answers within milliseconds: look often at first, then every 50 ms.
    brisk_until = started + (0.2 if woken else 0.0)
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            row = conn.execute(select(_control.c.done_at, _control.c.result)
                               .where(_control.c.id == control_id)).first()
        if row and row.done_at is not None:
            answer: str = row.result  # written with done_at, in the same UPDATE
            return answer
        time.sleep(0.005 if time.monotonic() < brisk_until else 0.05)
    raise ControlTimeout(f"the engine did not answer within {timeout:g}s; is it stuck?")
