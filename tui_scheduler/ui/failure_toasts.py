"""Which failures raise a toast: the first of a job's run of failures, then at most one
every few minutes with a count of those not shown, and none for a job the operator muted.

A job failing every 20 s would otherwise cover the screen with toasts; the table's state
column already says it is failing. Pure bookkeeping (no Textual), so it is tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

QUIET_S = 300.0
"""After a toast for a job, its further failures are counted, not shown, this long."""


@dataclass
class _JobToasts:
    last_toast: datetime
    held: int = 0
    held_since: datetime | None = None


@dataclass
class FailureToasts:
    """Per job: when it last raised a toast and how many failures were held back since."""

    muted: set[int] = field(default_factory=set)
    """Jobs whose failures raise no toast until unmuted (for this console session)."""
    _jobs: dict[int, _JobToasts] = field(default_factory=dict)

    def toggle_mute(self, job_id: int) -> bool:
        """Mute or unmute a job's failure toasts; True when now muted."""
        if job_id in self.muted:
            self.muted.discard(job_id)
            return False
        self.muted.add(job_id)
        self._jobs.pop(job_id, None)
        return True

    def on_failure(self, job_id: int, now: datetime) -> str | None:
        """None when this failure raises no toast, else the note to add to it ("" for
        none, or how many failures were not shown since when)."""
        if job_id in self.muted:
            return None
        seen = self._jobs.get(job_id)
        if seen is not None and (now - seen.last_toast).total_seconds() < QUIET_S:
            seen.held += 1
            seen.held_since = seen.held_since or now
            return None
        note = ""
        if seen is not None and seen.held:
            since = seen.held_since.astimezone().strftime("%H:%M") if seen.held_since else ""
            note = f" ({seen.held} more failure{'s' if seen.held > 1 else ''} since {since})"
        self._jobs[job_id] = _JobToasts(last_toast=now)
        return note
