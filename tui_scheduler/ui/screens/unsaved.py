"""Screens that hold input the operator has not saved yet, and what quitting does there.

In such a screen ``q`` typed into a text field is text (the field takes the key first).
Anywhere else on it, ``q`` goes to the app's quit, which asks before throwing the input
away; the binding below is not shown, so the footer never offers "q Quit" over a form.
"""

from __future__ import annotations

from textual.binding import Binding

QUIT_BINDING = Binding("q", "app.quit", "Quit", id="form.quit", show=False,
                       tooltip="Quit (asks first while this form has unsaved changes)")
"""Put in the BINDINGS of every screen that mixes in ``UnsavedInput``."""


class UnsavedInput:
    """Mixed into a screen whose fields the operator edits."""

    @property
    def dirty(self) -> bool:
        """True while something typed here would be lost by leaving."""
        raise NotImplementedError

    @property
    def unsaved_what(self) -> str:
        """What would be lost, for the question: 'your changes to job backup'."""
        raise NotImplementedError
