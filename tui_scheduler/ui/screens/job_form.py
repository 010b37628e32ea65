"""The job editor: every job field, with the schedule and its live preview at the centre.

The preview re-checks the schedule on every keystroke with the engine's own fire-time
function. The whole form is checked with ``validate_job_fields`` (the rule book the CLI
and TOML import use too); problems appear beside their fields once a field has been
changed, and all of them when a save is refused. Reading and writing the database
happens in thread workers, never in the UI thread. Stored text is shown with controls
made visible; a field left as shown is saved with its stored bytes (``StandIns``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from tui_scheduler.core.durations import DurationError, format_duration, parse_duration
from tui_scheduler.core.jobspec import DEFAULTS, JobSpecError, validate_job_fields
from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.core.schedule import resolve_zone
from tui_scheduler.core.secrets import mask_fields
from tui_scheduler.store.jobs import create_job, get_job, job_fields, update_job
from tui_scheduler.store.models import Job
from tui_scheduler.ui.key_values import keep_types, params_text, parse_params
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.unsaved import QUIT_BINDING, UnsavedInput
from tui_scheduler.ui.stand_ins import StandIns
from tui_scheduler.ui.widgets.cron_preview import CronPreview
from tui_scheduler.ui.widgets.fit_footer import FitFooter
from tui_scheduler.ui.widgets.state_checkbox import StateCheckbox

LABELS = {
    "name": "name", "description": "description", "kind": "kind", "target": "target",
    "schedule": "schedule", "timezone": "time zone", "enabled": "enabled", "paused": "paused",
    "timeout_s": "timeout", "stop_grace_s": "stop grace", "retries": "retries",
    "retry_delay_s": "retry delay", "retry_backoff": "backoff", "retry_max_delay_s":
    "max delay", "overlap": "overlap", "misfire": "missed fires", "catchup_limit":
    "catch-up limit", "stop_on_error": "stop on error", "restartable": "restartable",
    "params": "params", "env": "environment", "secrets": "secret names",
    "workdir": "working dir", "tags": "tags",
}  # fmt: skip
DURATIONS = ("timeout_s", "stop_grace_s", "retry_delay_s", "retry_max_delay_s")
PRESETS = ("hourly", "daily", "weekdays", "weekly", "monthly", "every")
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")


@lru_cache(maxsize=1)
def _zone_names() -> list[str]:
    return sorted(available_timezones())


def preset_schedule(preset: str, at: str, every: str) -> str:
    """The schedule text a preset button fills in; raises ValueError on a bad time or N."""
    match = _HHMM.fullmatch(at.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"preset time {at!r} is not HH:MM (00:00-23:59)")
    hour, minute = int(match[1]), int(match[2])
    if preset == "hourly":
        return f"{minute} * * * *"
    if preset == "every":
        if not every.strip().isdigit() or not 1 <= int(every) <= 1440:
            raise ValueError(f"N {every!r} is not a number of minutes (1-1440)")
        n = int(every)
        # */n only repeats evenly when n divides the hour; otherwise use a true interval.
        return f"*/{n} * * * *" if n < 60 and 60 % n == 0 else f"every {n}m"
    days = {"daily": "* * *", "weekdays": "* * 1-5", "weekly": "* * 1", "monthly": "1 * *"}
    return f"{minute} {hour} {days[preset]}"


def parse_env(text: str) -> tuple[dict[str, str], str | None]:
    """KEY=VALUE lines (blank lines and # comments skipped) -> mapping, problem."""
    env: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            return env, f"line {number}: expected KEY=VALUE"
        env[key.strip()] = value
    return env, None


def _duration_text(seconds: float | None) -> str:
    return "" if seconds is None else format_duration(seconds, compact=True)


class JobFormScreen(UnsavedInput, Screen[int | None]):
    """Create (``job_id=None``) or edit a job; dismisses with the saved job's id or None."""

    CSS_PATH = "../job_screens.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        QUIT_BINDING,
    ]

    class Loaded(Message):
        """The job being edited was read from the database."""

        def __init__(self, fields: dict[str, Any], created_at: datetime | None) -> None:
            super().__init__()
            self.fields = fields
            self.created_at = created_at

    class Saved(Message):
        """The job was written and the engine reloaded it."""

        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    class SaveRefused(Message):
        """The database refused the job (name taken, job gone...)."""

        def __init__(self, problems: dict[str, str]) -> None:
            super().__init__()
            self.problems = problems

    def __init__(self, job_id: int | None = None, job: Job | None = None) -> None:
        super().__init__()
        self.job_id = job_id
        """The job being edited; None for a new one."""
        self._job = job
        """The job as the table holds it (kept current by every change event): the form
        fills from it at once, so keys typed right after ``e`` land in a filled form."""
        self.anchor: datetime | None = None
        """The job's creation time: where an interval counts from, as in the engine."""
        self._baseline: dict[str, Any] | None = None
        self._show_all = False
        self._saving = False
        self._title = "New job" if job_id is None else "Edit job"
        self._shown: dict[str, object] = {}
        self._stand_ins = {field: StandIns() for field in LABELS}
        self._loaded_params: dict[str, Any] = {}
        """The params as loaded (masked): a line left as shown keeps its stored type."""

    # ---- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title, id="form-title", classes="screen-title")
        with VerticalScroll(id="form-body"):
            yield from self._row("Name", ("name", Input(placeholder="e.g. backup-db")))
            yield from self._row("Schedule", ("schedule", Input(
                placeholder="0 9 * * 1-5 · @daily · every 5m · at 2026-12-01 09:00 · manual")))
            yield Horizontal(
                Label("Presets", classes="label"),
                *[Button(p.title() if p != "every" else "Every N min", id=f"preset-{p}",
                         compact=True, classes="preset") for p in PRESETS],
                classes="row")
            yield Horizontal(
                Label("", classes="label"), Label("time", classes="sublabel"),
                Input("09:00", id="preset-at", compact=True, classes="short"),
                Label("N", classes="sublabel"),
                Input("15", id="preset-n", compact=True, classes="short"),
                Label("(used by the presets)", classes="hint"), classes="row")
            local = getattr(resolve_zone(None), "key", "UTC")
            yield from self._row("Time zone", ("timezone", Input(
                placeholder=f"empty = this machine's zone ({local}); → accepts a suggestion",
                suggester=SuggestFromList(_zone_names(), case_sensitive=False))))
            yield CronPreview(id="preview")
            yield Static("Command", classes="section")
            yield from self._row("Kind", ("kind", Select(
                [("command (shell)", "command"), ("python (module:function)", "python")],
                allow_blank=False, value="command")))
            yield from self._row("Target", ("target", Input(placeholder="e.g. pg_dump -Fc prod")))
            yield from self._row("Description", ("description", Input()))
            yield from self._row("Working dir", ("workdir", Input(placeholder="(inherit)")))
            yield from self._row("Tags", ("tags", Input(placeholder="e.g. db, nightly")))
            yield Static("State and policies", classes="section")
            yield from self._row("State", ("enabled", StateCheckbox("enabled")),
                                 ("paused", StateCheckbox("paused")))
            yield from self._row("Timeout", ("timeout_s", Input(placeholder="none")),
                                 ("stop_grace_s", Input(), "stop grace"))
            yield from self._row("Retries", ("retries", Input()),
                                 ("retry_delay_s", Input(), "delay"),
                                 ("retry_backoff", Input(), "backoff ×"),
                                 ("retry_max_delay_s", Input(), "max"))
            yield from self._row("Overlap", ("overlap", Select(
                [("skip if still running", "skip"), ("queue behind it", "queue"),
                 ("allow in parallel", "allow")], allow_blank=False, value="skip")))
            yield from self._row("Missed fires", ("misfire", Select(
                [("skip them", "skip"), ("run once", "once"), ("run each", "all")],
                allow_blank=False, value="skip")), ("catchup_limit", Input(), "limit"))
            yield from self._row("On failure",
                                 ("stop_on_error", StateCheckbox("disable the job")),
                                 ("restartable", StateCheckbox("rerun if interrupted")))
            yield Static("Parameters and environment", classes="section")
            yield from self._row("Params", ("params", TextArea(placeholder="KEY=VALUE")))
            yield from self._row("Environment", ("env", TextArea(placeholder="KEY=VALUE")))
            yield from self._row("Secret names", ("secrets", Input(
                placeholder="env/param names to mask whatever they are called, e.g. DSN")))
        yield FitFooter()

    def _row(self, label: str, *fields: tuple) -> list[Widget]:
        """One line: a label, then each field's widget (with a small label after the first),
        followed by one hidden problem line per field."""
        parts: list[Widget] = [Label(label, classes="label")]
        for index, (field, widget, *sub) in enumerate(fields):
            if index and sub:
                parts.append(Label(sub[0], classes="sublabel"))
            widget.id = f"f-{field}"
            if hasattr(widget, "compact"):
                widget.compact = True
            if isinstance(widget, Input):
                # Editing an expression starts at its end; selecting it all invites
                # replacing it by accident with the first keystroke.
                widget.select_on_focus = False
            if len(fields) > 1 and isinstance(widget, Input):
                widget.add_class("short")
            parts.append(widget)
        problems = [Static(id=f"p-{field}", classes="problem") for field, *_ in fields]
        return [Horizontal(*parts, classes="row"), *problems]

    def on_mount(self) -> None:
        self._fill(dict(DEFAULTS, name=""))
        if self.job_id is None:
            self._baseline = self._state()
            self.query_one("#f-name").focus()
        elif self._job is not None:
            self._show_loaded(mask_fields(job_fields(self._job)), self._job.created_at)
            self.query_one("#f-schedule").focus()
        else:
            self._load()
            self.query_one("#f-schedule").focus()
        self._check()
        # Relative times ("in 3m") go stale; the preview is cheap to redo.
        self.set_interval(30, self._check)

    # ---- loading and filling ----------------------------------------------------------

    @work(thread=True, exclusive=True, group="job-form-load")
    def _load(self) -> None:
        try:
            job = get_job(self.app.store, self.job_id)
        except LookupError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            self.app.call_from_thread(self.dismiss, None)
            return
        # Secret values are shown masked; saving the mask back keeps the stored value
        # (store.jobs.keep_stored_secrets).
        self.post_message(self.Loaded(mask_fields(job_fields(job)), job.created_at))

    def on_job_form_screen_loaded(self, message: Loaded) -> None:
        self._show_loaded(message.fields, message.created_at)
        self._check()

    def _show_loaded(self, fields: dict[str, Any], created_at: datetime | None) -> None:
        self.anchor = created_at
        self._fill(fields)
        self._baseline = self._state()
        self._title = f"Edit job {fields['name']}"

    def _fill(self, fields: dict[str, Any]) -> None:
        # Fields the form does not show (e.g. engines) travel through unchanged.
        self._hidden = {k: v for k, v in fields.items() if k not in LABELS}
        for field, value in fields.items():
            if field not in LABELS:
                continue
            widget = self.query_one(f"#f-{field}")
            if field in DURATIONS:
                value = _duration_text(value)
            elif field == "params":
                self._loaded_params = value
                value = params_text(value)
            elif field == "env":
                value = "\n".join(f"{k}={v}" for k, v in value.items())
            elif field in ("tags", "secrets"):
                value = ", ".join(value)
            elif isinstance(widget, Input) and not isinstance(value, str):
                value = f"{value:g}" if isinstance(value, float) else str(value)
            if isinstance(widget, TextArea):
                widget.load_text(self._stand_ins[field].show(value))
            elif isinstance(widget, Input):
                widget.value = value = self._stand_ins[field].show(value, one_line=True)
            else:
                widget.value = value
            if isinstance(widget, Input):
                widget.cursor_position = len(value)

    def _state(self) -> dict[str, Any]:
        """Every field's widget value, as typed."""
        state = {}
        for field in LABELS:
            widget = self.query_one(f"#f-{field}")
            value = widget.text if isinstance(widget, TextArea) else widget.value
            state[field] = self._stand_ins[field].stored(value) if isinstance(value, str) \
                else value
        return state

    # ---- checking ---------------------------------------------------------------------

    def _collect(self, state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Form state -> (job fields, problems), problems from the whole rule book."""
        raw = {**getattr(self, "_hidden", {}), **state}
        problems: dict[str, str] = {}
        for field in DURATIONS:
            text = state[field].strip()
            if not text:
                raw[field] = None if field == "timeout_s" else ""
                continue
            try:
                raw[field] = parse_duration(text)
            except DurationError as exc:
                problems[field] = f"{exc.reason} (e.g. 90s, 5m, 1h30m)"
                raw[field] = DEFAULTS[field]
        raw["env"], env_problem = parse_env(state["env"])
        params, params_problems = parse_params(state["params"])
        raw["params"] = keep_types(params, self._loaded_params)
        try:
            values = validate_job_fields(raw)
        except JobSpecError as exc:
            values = raw
            problems = {**exc.problems, **problems}
        if env_problem:
            problems["env"] = env_problem
        if params_problems:
            problems["params"] = "; ".join(params_problems)
        return values, problems

    def _check(self) -> dict[str, str]:
        """Re-check everything: preview, field problems, title. Returns the problems.

        Widgets are only touched when what they show changes: every update of an
        auto-height widget costs a layout pass, and this runs on every keystroke.
        """
        state = self._state()
        preview_key = (state["schedule"], state["timezone"], self.anchor, self._now())
        if preview_key != self._shown.get("preview"):
            self._shown["preview"] = preview_key
            self.query_one(CronPreview).check(state["schedule"], state["timezone"],
                                              self._now(), anchor=self.anchor)
        _, problems = self._collect(state)
        touched = {f for f in state if self._baseline is None or
                   state[f] != self._baseline.get(f)}
        for field, label in LABELS.items():
            reason = problems.get(field)
            # The preview right under the schedule field already points at its problem.
            shown = reason is not None and (self._show_all or field in touched) and \
                field != "schedule"
            self._show_problem(field, f"✘ {label}: {reason}" if shown else "")
        dirty = self._baseline is not None and state != self._baseline
        title = self._title + ("  ● modified" if dirty else "")
        if title != self._shown.get("title"):
            self._shown["title"] = title
            self.query_one("#form-title", Static).update(Text(safe_text(title, one_line=True)))
            self.query_one("#form-title").set_class(dirty, "-dirty")
        return problems

    def _show_problem(self, field: str, text: str) -> None:
        if self._shown.get(field, "") == text:
            return
        self._shown[field] = text
        line = self.query_one(f"#p-{field}", Static)
        line.update(Text(safe_text(text)))
        line.set_class(bool(text), "-shown")
        self.query_one(f"#f-{field}").set_class(bool(text), "-problem")

    @property
    def dirty(self) -> bool:
        """True once anything differs from what was loaded (or from the defaults)."""
        return self._baseline is not None and self._state() != self._baseline

    @property
    def unsaved_what(self) -> str:
        if self.job_id is None:
            return "the new job"
        return f"your changes to job {self._baseline['name'] if self._baseline else ''}"

    def _now(self) -> datetime:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else datetime.now(UTC)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Message) -> None:
        control = getattr(event, "control", None)
        if control is not None and str(control.id or "").startswith("f-"):
            self._check()

    def on_descendant_focus(self, event) -> None:
        # Highlight the label of the row being edited (CSS :focus-within went stale).
        for row in self.query(".row.-focus"):
            row.remove_class("-focus")
        parent = event.widget.parent
        if parent is not None and parent.has_class("row"):
            parent.add_class("-focus")

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Button.Pressed, ".preset")
    def _preset(self, event: Button.Pressed) -> None:
        preset = str(event.button.id).removeprefix("preset-")
        try:
            text = preset_schedule(preset, self.query_one("#preset-at", Input).value,
                                   self.query_one("#preset-n", Input).value)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.query_one("#f-schedule", Input).value = text

    # ---- saving and leaving -----------------------------------------------------------

    def action_save(self) -> None:
        if self._saving:
            return
        values, problems = self._collect(self._state())
        if problems:
            self._show_all = True
            self._check()
            listed = "; ".join(f"{LABELS.get(f, f)}: {why}" for f, why in problems.items())
            self.notify(f"Not saved, {len(problems)} problem(s): {listed}",
                        title="Cannot save", severity="error")
            first = next((f for f in LABELS if f in problems), None)
            if first:
                self.query_one(f"#f-{first}").focus()
            return
        self._saving = True
        self._save(values)

    @work(thread=True, exclusive=True, group="job-form-save")
    def _save(self, values: dict[str, Any]) -> None:
        store = self.app.store
        try:
            if self.job_id is None:
                job = create_job(store, values)
            else:
                job = update_job(store, self.job_id, values)
        except JobSpecError as exc:
            self.post_message(self.SaveRefused(exc.problems))
            return
        except Exception as exc:  # noqa: BLE001 - a database failure is shown, not raised
            self.post_message(self.SaveRefused({"name": f"could not save: {exc}"}))
            return
        engine = getattr(self.app, "engine", None)
        if engine is not None:
            engine.reload({job.id})
        self.post_message(self.Saved(job.id))

    def on_job_form_screen_saved(self, message: Saved) -> None:
        self.notify(f"Saved job {self._state()['name']}")
        self.dismiss(message.job_id)

    def on_job_form_screen_save_refused(self, message: SaveRefused) -> None:
        self._saving = False
        self._show_all = True
        self._check()
        for field, why in message.problems.items():
            field = field if field in LABELS else "name"
            self._show_problem(field, f"✘ {LABELS[field]}: {why}")
        self.notify("; ".join(message.problems.values()), title="Not saved", severity="error")

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard your changes to this job?", yes="Discard",
                                           no="Keep editing"), answered)
