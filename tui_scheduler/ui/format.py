"""Text for people: run states with a symbol and a word, times, durations, relative times.

Nothing here depends on colour alone: every state has a symbol and a word. Stored and
job-produced text passes ``one_line`` (or ``clip``, which uses it) on its way into a cell,
so no control character in it reaches the terminal.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len, set_cell_size

from tui_scheduler.core.durations import format_duration
from tui_scheduler.core.policies import FAILURE_STATUSES
from tui_scheduler.core.safe_text import safe_text

STATUS_SYMBOLS = {
    "scheduled": "◷", "running": "▶", "succeeded": "✔", "failed": "✘", "timed_out": "⧗",
    "stopped": "■", "interrupted": "↯", "skipped": "↷", "missed": "∅",
    "stopping": "■",  # not stored: a running run this console asked to stop
}
STATUS_STYLES = {
    "scheduled": "cyan", "running": "bold cyan", "succeeded": "green", "failed": "bold red",
    "timed_out": "bold red", "stopped": "yellow", "interrupted": "bold magenta",
    "skipped": "dim", "missed": "dim yellow", "stopping": "bold yellow",
}
STATUS_WORDS = {"timed_out": "timed out"}
JOB_STATE_SYMBOLS = {"running": "▶", "stopping": "■", "idle": "·", "paused": "‖", "disabled": "○",
                     "failing": "✘"}


def status_label(status: str) -> str:
    """'✔ succeeded', '⧗ timed out' ..."""
    return f"{STATUS_SYMBOLS.get(status, '?')} {STATUS_WORDS.get(status, status)}"


def job_states(*, enabled: bool, paused: bool, running: bool,
               last_status: str | None, stopping: bool = False) -> tuple[str, ...]:
    """Every state word that applies to a job, the one that decides first. The one rule
    every screen uses (the table, the detail header, help's wording).

    A running job is "running" (a manual run works whatever the switches say), or
    "stopping" once a stop was sent to every run it has going, until they end. Otherwise
    the two switches come next, both when both are set (each needs its own key to undo:
    x enables, p resumes); a job with neither is "failing" when its last result failed,
    else "idle".
    """
    if running:
        return ("stopping",) if stopping else ("running",)
    switches = tuple(word for word, on in (("disabled", not enabled), ("paused", paused)) if on)
    if switches:
        return switches
    return ("failing",) if last_status in FAILURE_STATUSES else ("idle",)


def job_state_label(states: tuple[str, ...] | str, *, compact: bool = False) -> str:
    """'‖ paused', '○ disabled, ‖ paused'; ``compact`` (the table's narrow column) puts
    the symbols first and only the deciding word: '○‖ disabled'."""
    states = (states,) if isinstance(states, str) else states
    if compact and len(states) > 1:
        return "".join(JOB_STATE_SYMBOLS.get(s, "?") for s in states) + f" {states[0]}"
    return ", ".join(f"{JOB_STATE_SYMBOLS.get(s, '?')} {s}" for s in states)


def count(n: int, noun: str) -> str:
    """'1 run', '2 runs', '1,204 runs'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def relative(when: datetime | None, now: datetime, *, seconds: bool = False) -> str:
    """'in 3m', '5m ago', 'now' — coarse, for scanning a table; with ``seconds``,
    'in 1m05s' below an hour, for fires that come less than a minute apart."""
    if when is None:
        return "-"
    delta = (when - now).total_seconds()
    if abs(delta) < 1:
        return "now"
    text = _coarse(abs(delta), precise=seconds)
    return f"in {text}" if delta > 0 else f"{text} ago"


def _coarse(seconds: float, *, precise: bool = False) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes}m{rest:02d}s" if precise else f"{minutes}m"
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


def one_line(text: object) -> str:
    """Stored or job-produced text for one row: every control (newlines too) made visible."""
    return safe_text(text, one_line=True)


def progress_text(done: float | None, total: float | None, message: str | None = "") -> str:
    message = one_line(message)
    if done is None:
        return message
    percent = f"{100 * max(0.0, min(1.0, done / total)):.0f}%" if total else f"{done:g}"
    return f"{percent} {message}".strip()


def relative_stale_in(when: datetime, now: datetime) -> float:
    """Seconds until ``relative(when, now)`` can read differently, so a table redraws a
    cell only when its text changes instead of on every tick."""
    delta = (when - now).total_seconds()
    magnitude = abs(delta)
    if magnitude < 60:
        unit = 1.0
    elif magnitude < 36000:  # "in 9h59m" still counts minutes
        unit = 60.0
    elif magnitude < 86400:
        unit = 3600.0
    else:
        unit = 86400.0
    into = magnitude % unit
    # Counting down, the text changes when the remainder runs out; counting up, when it fills.
    wait = into if delta > 0 else unit - into
    return max(wait, 0.05)


def fire_time(when: datetime | None, now: datetime) -> str:
    """Local wall time of a fire for a table: '14:05' today ('14:05:30' when seconds
    matter), 'Thu 09:00' within the week, 'Dec 03 09:00' beyond."""
    if when is None:
        return "-"
    local = now.astimezone().tzinfo
    here = when.astimezone(local)
    clock = here.strftime("%H:%M:%S" if here.second else "%H:%M")
    days = (here.date() - now.astimezone(local).date()).days
    if days == 0:
        return clock
    if 0 < days < 7:
        return f"{here.strftime('%a')} {clock}"
    return f"{here.strftime('%b %d')} {clock}"


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """A text progress bar of ``width`` cells with eighth-cell resolution."""
    fraction = max(0.0, min(1.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    return text + "░" * (width - len(text))


def bouncing_bar(elapsed: float, width: int, block: int = 3) -> str:
    """An indeterminate bar: a block that sweeps back and forth, two steps a second."""
    span = max(1, width - block)
    step = int(elapsed * 2) % (2 * span)
    start = step if step <= span else 2 * span - step
    return "░" * start + "▓" * block + "░" * (width - start - block)


def eta_text(elapsed: float, typical: float | None) -> str:
    """What past runs say about the rest: '~40s left', or 'over typical 2m'."""
    if not typical:
        return ""
    left = typical - elapsed
    if left > 0:
        # Under a second to go still reads as time left; "over" only once it is.
        return f"~{_coarse(max(left, 1.0))} left"
    return f"over typical {format_duration(typical)}"


def clip(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells, marking the cut with an ellipsis; controls in it
    are made visible first (a cell is one line of text from the database)."""
    if width <= 0:
        return ""
    text = one_line(text)
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…"
