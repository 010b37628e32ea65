"""A checkbox whose state shows in its characters, not only in its colour.

Textual's Checkbox draws ``▐X▌`` both on and off and tells them apart by colour alone;
under NO_COLOR (or a monochrome terminal) every box reads ``▐X▌``. This one draws
``▐X▌`` when on and ``▐ ▌`` when off, in the same width, so the state is readable
without colour and the layout does not move when it flips.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class StateCheckbox(Checkbox):
    """A Checkbox showing ``X`` inside the box when on, a blank when off."""

    @property
    def _button(self) -> Content:
        # ToggleButton._button reads BUTTON_INNER on each render; a per-instance value
        # that follows ``value`` keeps Textual's styling of the box and its sides.
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button

