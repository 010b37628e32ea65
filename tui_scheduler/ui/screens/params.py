"""Run with parameters: a small form of KEY=VALUE lines, prefilled with the job's defaults.

Dismisses with the parameters (a dict of strings) or None when cancelled. The values
reach a command as ``$PARAM_KEY`` and ``$TUI_SCHEDULER_PARAMS_JSON``, never spliced into
the command line. Stored values are shown with controls made visible; a line left as
shown runs with its stored value (``StandIns``).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.core.secrets import mask_mapping, restore_masked
from tui_scheduler.ui.key_values import params_text, parse_params
from tui_scheduler.ui.screens.unsaved import QUIT_BINDING, UnsavedInput
from tui_scheduler.ui.stand_ins import StandIns


class ParamsScreen(UnsavedInput, ModalScreen[dict[str, str] | None]):
    """Edit the parameters of one manual run."""

    BINDINGS = [
        Binding("ctrl+s", "run", "Run", id="params.run"),
        Binding("escape", "cancel", "Cancel", id="params.cancel"),
        QUIT_BINDING,
    ]

    def __init__(self, job_name: str, defaults: dict[str, Any],
                 marked: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.job_name = job_name
        self.defaults = defaults
        self._stand_ins = StandIns()
        self.marked = marked
        """Names the job marks secret: their defaults are shown masked, like secret-looking
        names, and a mask left in place runs with the stored default."""

    def compose(self) -> ComposeResult:
        with Vertical(id="params-dialog"):
            name = safe_text(self.job_name, one_line=True)
            yield Static(Text.assemble("Run ", (name, "bold"), " with parameters"),
                         id="params-title")
            yield Static("One KEY=VALUE per line; the job's defaults are filled in. "
                         "Commands read them as $PARAM_KEY.", id="params-help")
            yield TextArea(self._stand_ins.show(params_text(
                mask_mapping(self.defaults, self.marked))), id="params-text", soft_wrap=False)
            yield Static("", id="params-error")
            with Horizontal(id="params-buttons"):
                yield Button("Run (ctrl+s)", id="params-run", variant="primary")
                yield Button("Cancel (esc)", id="params-cancel")

    @property
    def dirty(self) -> bool:
        return self.query_one(TextArea).text != params_text(self.defaults)

    @property
    def unsaved_what(self) -> str:
        return f"the parameters typed for {self.job_name}"

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "params-run":
            self.action_run()
        else:
            self.action_cancel()

    def action_run(self) -> None:
        params, problems = parse_params(self._stand_ins.stored(self.query_one(TextArea).text))
        if problems:
            self.query_one("#params-error", Static).update(Text(safe_text("\n".join(problems))))
            return
        params, _ = restore_masked(params, self.defaults, self.marked)
        self.dismiss(params)

    def action_cancel(self) -> None:
        self.dismiss(None)
