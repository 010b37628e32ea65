"""Run states, triggers and the policies a job can choose, plus retry back-off."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"
    MISSED = "missed"


MAX_ROW_ID = 2**63 - 1
"""The largest id a job or run can have (64-bit on SQLite and PostgreSQL)."""


def as_row_id(ref: str | int) -> int | None:
    """``ref`` as an id when it can be one: an int, or ASCII digits, up to MAX_ROW_ID.
    Larger numbers cannot be ids (and would make the driver raise OverflowError)."""
    if isinstance(ref, str) and not (ref.isascii() and ref.isdigit()):
        return None
    number = int(ref)
    return number if 0 <= number <= MAX_ROW_ID else None


ACTIVE_STATUSES = frozenset({RunStatus.SCHEDULED, RunStatus.RUNNING})
FAILURE_STATUSES = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.INTERRUPTED})


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"
    CATCH_UP = "catch-up"
    RESTART = "restart"


class Overlap(StrEnum):
    SKIP = "skip"
    QUEUE = "queue"
    ALLOW = "allow"


class Misfire(StrEnum):
    SKIP = "skip"
    ONCE = "once"
    ALL = "all"


class JobKind(StrEnum):
    COMMAND = "command"
    PYTHON = "python"


# `misfire = all` replays at most this many fires, however long the engine was down.
MAX_CATCHUP = 100
# `overlap = queue` holds at most this many waiting fires per job; more are recorded skipped.
MAX_QUEUED = 10


def retry_delay(attempt: int, delay: float, backoff: float, max_delay: float) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after attempt ``attempt`` failed."""
    exponent = max(attempt - 1, 0)
    try:
        value = delay * (backoff ** exponent)
    except OverflowError:
        value = max_delay
    return min(value, max_delay)
