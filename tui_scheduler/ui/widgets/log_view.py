"""A line-based view of a run's output that stays fast at 100,000+ lines.

It is a ``ScrollView`` that draws only the visible lines (``render_line``), so the cost
of a frame does not grow with the log. Lines can be added at the end (live output) and
at the start (older output paged in) without moving what the reader is looking at.
stderr lines carry a '┃' gutter as well as a colour, and the truncation marker a '»',
so the streams stay apart without colour.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_scheduler.core.safe_text import is_safe, safe_text

GUTTER = {"out": "  ", "err": "┃ ", "sys": "» "}
ERROR_LINE = re.compile(r"error|fail|traceback|exception", re.IGNORECASE)

Line = tuple[str, str]
"""(stream, text): stream is "out", "err" or "sys"."""


def clean_lines(stream: str, text: str) -> tuple[list[Line], int]:
    """One chunk's text as display-safe lines and their widest cell width.

    A carriage-return redraw keeps its last state and tabs become spaces, as on a
    terminal; every other control (escape sequences, C1, bidi overrides) is shown as a
    stand-in such as ``^[`` (``safe_text``): the terminal never receives it, and the
    reader sees that it was there.
    """
    body = text.removesuffix("\n")
    parts = body.split("\n")
    if "\r" in body or "\t" in body:
        parts = [p.rstrip("\r").rsplit("\r", 1)[-1].expandtabs(8) for p in parts]
    if not is_safe(body):
        parts = [safe_text(p, one_line=True) for p in parts]
    width = max(map(len, parts)) if body.isascii() else max(map(cell_len, parts))
    return [(stream, p) for p in parts], width


class LogView(ScrollView, can_focus=True):
    """Output lines with stream gutters, search highlights and a follow mode."""

    COMPONENT_CLASSES = {"log-view--err", "log-view--sys", "log-view--match",
                         "log-view--current"}
    DEFAULT_CSS = """
    LogView {
        background: $surface;
        & > .log-view--err { color: $text-error; }
        & > .log-view--sys { color: $text-warning; text-style: bold italic; }
        & > .log-view--match { background: $warning 40%; }
        & > .log-view--current { background: $warning; color: auto 90%;
                                 text-style: bold underline; }
    }
    """

    class NearTop(Message):
        """The reader is within a page of the first loaded line: time to load older ones."""

    class FollowChanged(Message):
        """Following stopped because the reader scrolled up (or started again)."""

        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Line] = []
        """Loaded lines, oldest first."""
        self.follow = False
        """Keep the last line in view as lines arrive."""
        self.needle = ""
        """The search text (matched case-insensitively); empty for no search."""
        self.matches: list[int] = []
        """Indexes of lines containing the needle, ascending."""
        self.current: int | None = None
        """The line of the current match (or of a jump), highlighted."""
        self._width = 0
        self._stick = False
        self._replacing = False

    # ---- content ------------------------------------------------------------------------

    def append(self, lines: list[Line], width: int) -> None:
        start = len(self.lines)
        self.lines.extend(lines)
        self.matches.extend(self._find(lines, start))
        self._resize(width)
        if self.follow:
            self.scroll_to_end()

    def replace(self, lines: list[Line], width: int) -> None:
        """Show ``lines`` instead of every loaded line (a re-read), at the end. Moving up
        to the new end is no scroll by the reader: following stays as it was."""
        self.lines, self.current, self._width = [], None, 0
        self.matches = self._find(lines, 0)
        self.lines = lines
        self._resize(width)
        self._replacing = True
        try:
            self.scroll_to_end()
        finally:
            self._replacing = False

    def scroll_to_end(self) -> None:
        # force: the scrollbars appear only after the next layout, and without them
        # Textual refuses to scroll; the new size is already known here.
        self._stick = True
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        # A scrollbar or a taller header can take rows after this: settle after layout.
        self.call_after_refresh(self._settle_end)

    def _settle_end(self) -> None:
        if self._stick:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def on_resize(self) -> None:
        self.call_after_refresh(self._settle_end)

    def prepend(self, lines: list[Line], width: int) -> None:
        """Insert older lines above, keeping the same lines on screen."""
        count = len(lines)
        if not count:
            return
        self.lines[0:0] = lines
        self.matches = self._find(lines, 0) + [i + count for i in self.matches]
        if self.current is not None:
            self.current += count
        self._resize(width)
        self.scroll_to(y=self.scroll_y + count, animate=False, immediate=True, force=True)

    def _resize(self, width: int) -> None:
        self._width = max(self._width, width + len(GUTTER["out"]))
        self.virtual_size = Size(self._width, len(self.lines))
        self.refresh()

    # ---- search -------------------------------------------------------------------------

    def _find(self, lines: list[Line], offset: int) -> list[int]:
        needle = self.needle
        if not needle:
            return []
        return [offset + i for i, (_, text) in enumerate(lines) if needle in text.lower()]

    def search(self, needle: str) -> None:
        self.needle = needle.lower()
        self.matches = self._find(self.lines, 0)
        self.current = None
        self.refresh()

    def next_match(self, forward: bool = True) -> int | None:
        """Move to the next (or previous) match from the current one, wrapping around."""
        if not self.matches:
            return None
        here = self.current if self.current is not None else (
            int(self.scroll_y) - 1 if forward else int(self.scroll_y) + self.size.height)
        if forward:
            index = bisect_right(self.matches, here)
            line = self.matches[index % len(self.matches)]
        else:
            index = bisect_left(self.matches, here) - 1
            line = self.matches[index]
        self.jump_to(line)
        return line

    def match_position(self) -> tuple[int, int]:
        """(1-based number of the current match, number of matches)."""
        if self.current is None or self.current not in self.matches:
            return 0, len(self.matches)
        return bisect_left(self.matches, self.current) + 1, len(self.matches)

    def first_error(self) -> int | None:
        for index, (stream, text) in enumerate(self.lines):
            if stream == "err" or ERROR_LINE.search(text):
                return index
        return None

    def jump_to(self, line: int) -> None:
        """Highlight ``line`` and scroll it to the middle (and its match into view)."""
        self.current = line
        self._stick = False
        self.set_follow(False)
        y = max(0, line - self.size.height // 2)
        x = 0
        if self.needle:
            column = self.lines[line][1].lower().find(self.needle)
            if column + len(self.needle) + 2 > self.size.width:
                x = max(0, column - 8)
        self.scroll_to(x=x, y=y, animate=False, immediate=True, force=True)
        self.refresh()

    # ---- following ------------------------------------------------------------------------

    def set_follow(self, follow: bool) -> None:
        if follow == self.follow:
            return
        self.follow = follow
        if follow:
            self.current = None
            self.scroll_to_end()
        self.post_message(self.FollowChanged(follow))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value < old_value - 0.5 and not self._replacing:
            self._stick = False
            if self.follow:
                self.set_follow(False)
        if new_value < max(self.size.height, 1):
            self.post_message(self.NearTop())

    # ---- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        stream, body = self.lines[index]
        gutter = GUTTER.get(stream, "  ")
        text = Text(gutter + body, no_wrap=True, end="")
        if stream != "out":
            text.stylize(self.get_component_rich_style(f"log-view--{stream}"))
        if self.needle:
            style = self.get_component_rich_style(
                "log-view--current" if index == self.current else "log-view--match")
            lowered, size, start = body.lower(), len(self.needle), 0
            while (found := lowered.find(self.needle, start)) >= 0:
                text.stylize(style, len(gutter) + found, len(gutter) + found + size)
                start = found + size
        elif index == self.current:
            text.stylize(self.get_component_rich_style("log-view--current"), len(gutter))
        strip = Strip(list(text.render(self.app.console))).apply_style(base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
