"""The one-line header: engine state, job counts and the clock.

The state always has a symbol and a word ("● engine running", "⚠ engine trouble: ..."),
so it reads the same without colour. Trouble text, host names and the attached daemon's
description come from the database or errors: their controls are made visible.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_scheduler.ui.format import one_line
from tui_scheduler.ui.rows import Palette


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
        room = max(0, width - len(self.clock) - 1)
        # Drop the least useful parts first until the line fits (80 columns and up); the
        # counts keep their wording, so one database reads the same in every console.
        for full, holder in ((True, True), (False, True), (False, False)):
            left = self._left(title=full, host=full, holder=holder)
            if left.cell_len <= room:
                break
        if left.cell_len > room:
            left.truncate(room, overflow="ellipsis")
        left.pad_right(max(0, width - left.cell_len - len(self.clock)))
        left.append(self.clock, style="bold")
        return left

    def _left(self, *, title: bool, host: bool, holder: bool) -> Text:
        palette = self.palette
        left = Text("tui-scheduler  " if title else "", style="bold")
        if self.trouble:
            left.append(f"⚠ engine trouble: {one_line(self.trouble)}", style=palette.bad)
        elif self.attached and self.engine_state == "running":
            where = self.attached if holder else self.attached.split(" (")[0]
            left.append(f"⇄ attached to engine on {one_line(where)}", style=palette.good)
        elif self.engine_state == "running":
            left.append("● engine running", style=palette.good)
        else:
            left.append(f"○ engine {self.engine_state}", style=palette.warn)
        if host and self.hostname and not self.trouble and not self.attached:
            left.append(f" on {one_line(self.hostname)}", style=palette.muted)
        left.append(f"  {self.jobs} job{'s' if self.jobs != 1 else ''}")
        left.append(f"  ▶ {self.running} running", style=palette.live if self.running else "")
        if self.failed_24h is not None:
            left.append(f"  ✘ {self.failed_24h} failed in 24h",
                        style=palette.bad if self.failed_24h else "")
        return left

    def set_counts(self, *, jobs: int, running: int) -> None:
        self.jobs, self.running = jobs, running

    def show_clock(self, text: str) -> None:
        self.clock = text


def clock_text(now) -> str:
    """The header clock: local weekday and time."""
    return now.astimezone().strftime("%a %H:%M:%S")
