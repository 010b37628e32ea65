"""The one-line header: engine state, job counts and the clock.

The state always has a symbol and a word ("● engine running", "⚠ engine trouble: ..."),
so it reads the same without colour. Trouble text, host names and the attached daemon's
description come from the database or errors: their controls are made visible.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_scheduler.ui.format import one_line
from tui_scheduler.ui.rows import Palette


@dataclass(frozen=True)
class _Level:
    """Which parts of the header line are drawn, from the fullest to the shortest."""

    title: bool = False
    host: bool = False
    holder: bool = True
    words: bool = True
    jobs: bool = True
    window: bool = True
    short_clock: bool = False


_LEVELS = (
    _Level(title=True, host=True),
    _Level(),
    _Level(holder=False),
    _Level(holder=False, words=False),
    _Level(holder=False, words=False, short_clock=True),
    _Level(holder=False, words=False, window=False, jobs=False, short_clock=True),
)


class StatusHeader(Widget):
    """Engine state on the left, counts in the middle, the clock on the right."""

    engine_state: reactive[str] = reactive("starting")
    """'running', 'stopped' or 'starting'."""
    trouble: reactive[str | None] = reactive(None)
    """Why the engine cannot do its work (database unwritable, lock lost), or None."""
    jobs: reactive[int] = reactive(0)
    running: reactive[int] = reactive(0)
    failed_24h: reactive[int | None] = reactive(None)
    """Failed, timed-out and interrupted runs in the last 24 hours; None until counted."""
    attached: reactive[str | None] = reactive(None)
    """'host pid N since HH:MM' of the daemon this console is attached to, or None."""
    clock: reactive[str] = reactive("")
    hostname: reactive[str] = reactive("")
    palette: reactive[Palette] = reactive(Palette)

    def render(self) -> Text:
        width = self.size.width
        clock = self.clock
        # Drop the least useful parts first until the line fits; what is kept to the
        # last is the engine's state and the failed count. Every level keeps the same
        # wording in an attached console and one with its own engine, so one database
        # reads the same in both.
        for level in _LEVELS:
            if level.short_clock:
                clock = self.clock[-8:]  # "Tue 09:41:00" -> "09:41:00"
            left = self._left(level)
            if left.cell_len + 1 + len(clock) <= width:
                break
        room = max(0, width - len(clock) - 1)
        if left.cell_len > room:
            left.truncate(room, overflow="ellipsis")
        left.pad_right(max(0, width - left.cell_len - len(clock)))
        left.append(clock, style="bold")
        return left

    def _left(self, level: _Level) -> Text:
        palette = self.palette
        left = Text("tui-scheduler  " if level.title else "", style="bold")
        if self.trouble:
            left.append(f"⚠ engine trouble: {one_line(self.trouble)}", style=palette.bad)
        elif self.attached and self.engine_state == "running":
            where = self.attached if level.holder else self.attached.split(" (")[0]
            words = "attached to engine on " if level.words else ""
            left.append(f"⇄ {words}{one_line(where)}", style=palette.good)
        elif self.engine_state == "running":
            left.append("● engine running" if level.words else "● running",
                        style=palette.good)
        else:
            words = "engine " if level.words else ""
            left.append(f"○ {words}{self.engine_state}", style=palette.warn)
        if level.host and self.hostname and not self.trouble and not self.attached:
            left.append(f" on {one_line(self.hostname)}", style=palette.muted)
        if level.jobs:
            left.append(f"  {self.jobs} job{'s' if self.jobs != 1 else ''}")
        running = f"  ▶ {self.running}" + (" running" if level.words else "")
        left.append(running, style=palette.live if self.running else "")
        if self.failed_24h is not None:
            window = " in 24h" if level.window else ""
            left.append(f"  ✘ {self.failed_24h} failed{window}",
                        style=palette.bad if self.failed_24h else "")
        return left

    def set_counts(self, *, jobs: int, running: int) -> None:
        self.jobs, self.running = jobs, running

    def show_clock(self, text: str) -> None:
        self.clock = text


def clock_text(now) -> str:
    """The header clock: local weekday and time."""
    return now.astimezone().strftime("%a %H:%M:%S")
