"""Stored text in an editable field: shown with visible stand-ins, saved with its bytes.

An input or text area draws its value on the terminal, so a stored value with an ESC in
it is shown through ``safe_text`` (``^[`` instead of ESC). Saving must not turn that
stand-in into the stored value: every line the operator left as shown is given back as
it was stored, and only what they typed is taken as typed.
"""

from __future__ import annotations

from tui_scheduler.core.safe_text import safe_text


class StandIns:
    """Remembers, for one field, which shown lines stand for which stored lines."""

    def __init__(self) -> None:
        self._stored: dict[str, str] = {}

    def show(self, text: str, *, one_line: bool = False) -> str:
        """``text`` as the field should show it (a tab stays a tab unless ``one_line``)."""
        self._stored = {}
        shown = []
        for line in text.split("\n"):
            safe = safe_text(line, one_line=one_line)
            if safe != line:
                self._stored[safe] = line
            shown.append(safe)
        return "\n".join(shown)

    def stored(self, text: str) -> str:
        """What the field holds, with every line left as shown back to its stored bytes."""
        if not self._stored:
            return text
        return "\n".join(self._stored.get(line, line) for line in text.split("\n"))
