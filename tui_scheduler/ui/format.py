"""Text for people: run states with a symbol and a word, times, durations, relative times.

Nothing here depends on colour alone: every state has a symbol and a word.
"""

from __future__ import annotations

from datetime import datetime

from tui_scheduler.core.durations import format_duration

STATUS_SYMBOLS = {
    "scheduled": "◷", "running": "▶", "succeeded": "✔", "failed": "✘", "timed_out": "⧗",
    "stopped": "■", "interrupted": "↯", "skipped": "↷", "missed": "∅",
}
STATUS_STYLES = {
    "scheduled": "cyan", "running": "bold cyan", "succeeded": "green", "failed": "bold red",
    "timed_out": "bold red", "stopped": "yellow", "interrupted": "bold magenta",
    "skipped": "dim", "missed": "dim yellow",
}
STATUS_WORDS = {"timed_out": "timed out"}
JOB_STATE_SYMBOLS = {"running": "▶", "idle": "·", "paused": "‖", "disabled": "○",
                     "failing": "✘"}


def status_label(status: str) -> str:
    """'✔ succeeded', '⧗ timed out' ..."""
    return f"{STATUS_SYMBOLS.get(status, '?')} {STATUS_WORDS.get(status, status)}"


def job_state_label(state: str) -> str:
    return f"{JOB_STATE_SYMBOLS.get(state, '?')} {state}"


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def relative(when: datetime | None, now: datetime) -> str:
    """'in 3m', '5m ago', 'now' — coarse, for scanning a table."""
    if when is None:
        return "-"
    delta = (when - now).total_seconds()
    if abs(delta) < 1:
        return "now"
    text = _coarse(abs(delta))
    return f"in {text}" if delta > 0 else f"{text} ago"


def _coarse(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        hours, rest = divmod(int(seconds), 3600)
        return f"{hours}h{rest // 60:02d}m" if hours < 10 else f"{hours}h"
    return f"{int(seconds // 86400)}d"


def local_time(when: datetime | None, now: datetime) -> str:
    """Local wall time: '14:05:00' today, 'Nov 27 09:00' otherwise."""
    if when is None:
        return "-"
    here = when.astimezone(now.astimezone().tzinfo)
    if here.date() == now.astimezone().date():
        return here.strftime("%H:%M:%S")
    return here.strftime("%b %d %H:%M")


def progress_text(done: float | None, total: float | None, message: str = "") -> str:
    if done is None:
        return message
    if total:
        percent = f"{100 * max(0.0, min(1.0, done / total)):.0f}%"
    else:
        percent = f"{done:g}"
    return f"{percent} {message}".strip()
