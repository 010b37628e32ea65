"""The help screen: every key that works where ``?`` was pressed, with what it does.

Built from the live bindings (``App.active_bindings``) so it can never disagree with what
the keys actually do, and the same on every screen that has bindings.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_scheduler.ui.switches import SWITCHES_HELP

# A key the palette owns, not a binding of ours.
EXTRA_KEYS = [("ctrl+p", "Command palette: every action by name")]
# Textual's own bindings that say nothing useful on a row-cursor table of jobs.
SKIPPED_ACTIONS = {"cursor_left", "cursor_right", "scroll_home", "scroll_end", "copy_text",
                   "page_left", "page_right",
                   "screen.copy_text", "app.copy_text",
                   "command_palette"}  # listed once, as EXTRA_KEYS says it


def key_rows(app: App) -> list[tuple[str, str, str]]:
    """(where, key, description) for every binding that works here, screen keys first.

    The live bindings, plus the screen's own ones that are switched off just now (such
    as escape, which clears a filter only while there is one)."""
    screen = app.screen
    found = [(active.node, active.binding) for active in app.active_bindings.values()]
    found += [(screen, b) for b in type(screen).BINDINGS if isinstance(b, Binding)]
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for node, binding in found:
        if binding.system or not binding.description or binding.action in SKIPPED_ACTIONS:
            continue
        where = "Everywhere" if node is app else _place(node)
        shown = app.get_key_display(binding)
        text = binding.tooltip or binding.description
        if (shown, text) in seen:
            continue
        seen.add((shown, text))
        rows.append((where, shown, text))
    rows += [("Everywhere", key, text) for key, text in EXTRA_KEYS]
    order = {"Everywhere": 2, "Table": 1}
    # Within the screen's section, its own order: "p Pause" next to "p Resume".
    place = {b.id: i for i, b in enumerate(type(screen).BINDINGS)
             if isinstance(b, Binding) and b.id}
    ids = {(app.get_key_display(b), b.tooltip or b.description): b.id for _n, b in found}
    rows.sort(key=lambda row: (order.get(row[0], 0),
                               place.get(ids.get((row[1], row[2])), -1)))
    return rows


def _place(node) -> str:
    from textual.screen import Screen
    from textual.widgets import DataTable

    if isinstance(node, Screen):
        return getattr(node, "HELP_NAME", "This screen")
    if isinstance(node, DataTable):
        return "Table"
    return type(node).__name__


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close"),
        Binding("j", "scroll(1)", "Scroll down", id="help.down", show=False),
        Binding("k", "scroll(-1)", "Scroll up", id="help.up", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what")
        section = None
        for where, key, text in self.rows:
            if where != section:
                if section is not None:
                    table.add_row("", "")
                table.add_row(Text(where, style="bold underline"), "")
                section = where
            table.add_row(key, text)
        if any(key in ("p", "x") for _where, key, _text in self.rows):
            table.add_row("", "")
            table.add_row(Text("p and x", style="bold underline"), "")
            table.add_row("", SWITCHES_HELP)
        # The title and the closing hint live in the border: the list is the dialog's
        # only child, so it gets every line the dialog has and scrolls within them
        # (as siblings, they pushed the list's end and the hint off a short terminal).
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "escape, q or ? closes this · j/k, pgup/pgdn scroll"
            with VerticalScroll(id="help-body"):
                yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=lines, animate=False)
