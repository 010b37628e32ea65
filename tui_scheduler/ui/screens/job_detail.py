"""One job in depth: its settings, next fires, statistics and its runs, live.

Runs are paged newest first (50 at a time, more as the cursor nears the end) with
indexed, LIMITed queries, so a job with a million runs opens as fast as one with ten.
Every second a thread worker reads what changed (new runs, the runs still active, the
job row); the table then gains rows at the top and updates cells by row key, it is
never cleared and rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Sparkline, Static

from tui_scheduler.core.policies import ACTIVE_STATUSES
from tui_scheduler.core.schedule import (
    ScheduleError,
    next_fires,
    parse_schedule,
    resolve_zone,
)
from tui_scheduler.store.jobs import get_job_by_id
from tui_scheduler.store.models import Job, Run
from tui_scheduler.store.runs import JobStats, first_page, job_stats, list_runs, runs_changed
from tui_scheduler.ui import format as fmt
from tui_scheduler.ui import job_text as texts
from tui_scheduler.ui import switches
from tui_scheduler.ui.data import latest_result
from tui_scheduler.ui.switches import switch_bindings
from tui_scheduler.ui.widgets.fit_footer import FitFooter

PAGE = 50
# Load the next page when the cursor comes this close to the last loaded row.
NEAR_END = 10
NEXT_FIRES = 5
COLUMNS = (("id", "run"), ("status", "status"), ("trigger", "trigger"),
           ("scheduled", "scheduled"), ("started", "started"), ("duration", "duration"),
           ("exit", "exit"), ("attempt", "try"), ("note", "progress / error"))


@dataclass
class DetailData:
    """What one background read found."""

    job: Job | None
    new_runs: list[Run] = field(default_factory=list)
    """Newest first."""
    changed: list[Run] = field(default_factory=list)
    stats: JobStats | None = None
    total: int | None = None
    fires: list[datetime] = field(default_factory=list)
    last_status: str | None = None
    """The newest finished run's status; read with the statistics."""


class JobDetailScreen(Screen[None]):
    """Settings, next fires, statistics and runs of one job; keys act on that job."""

    CSS_PATH = "../job_screens.tcss"
    BINDINGS = [
        Binding("enter", "open_run", "Log", id="detail.open_log"),
        Binding("r", "run", "Run", id="detail.run"),
        Binding("R", "run_params", "Run…", id="detail.run_params"),
        *switch_bindings("detail", show_x=True),
        Binding("s", "stop", "Stop", id="detail.stop"),
        Binding("d", "delete", "Delete", id="detail.delete"),
        Binding("e", "edit", "Edit", id="detail.edit"),
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("j", "cursor(1)", "Down", show=False, id="detail.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="detail.up"),
    ]

    class Read(Message):
        """A background read finished."""

        def __init__(self, data: DetailData, *, older: list[Run] | None = None) -> None:
            super().__init__()
            self.data = data
            self.older = older

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
        """The job shown."""
        self.job: Job | None = None
        """The job row as last read."""
        self._cells: dict[int, tuple] = {}
        self._active: set[int] = set()
        self._newest = 0
        self._oldest: int | None = None
        self._exhausted = False
        self._paging = False
        self._reading = False
        self._total: int | None = None
        self._shown: dict[str, Text] = {}
        self._last_status: str | None = None
        """The status of the job's newest finished run (None when it has none)."""
        self._switches: tuple[bool, bool] | None = None
        """(enabled, paused) the footer's labels were drawn for."""

    def compose(self) -> ComposeResult:
        yield Static(f"Job #{self.job_id}", id="detail-title", classes="screen-title")
        with Horizontal(id="detail-top"):
            yield Static(id="detail-settings")
            with Vertical(id="detail-side"):
                yield Static(id="detail-next")
                yield Static(id="detail-stats")
                yield Sparkline([], id="detail-spark")
        yield Static(id="detail-live")
        table: DataTable = DataTable(id="detail-runs", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#detail-settings").border_title = "Settings"
        self.query_one("#detail-side").border_title = "Next fires · history"
        self.query_one(DataTable).focus()
        self._reading = True
        self._read(True, 0, [])
        self.set_interval(1.0, self._tick)

    # ---- reading (thread workers) -----------------------------------------------------

    def _tick(self) -> None:
        if not self._reading:
            self._reading = True
            # What the worker needs is copied here: the sets change on this thread.
            self._read(False, self._newest, sorted(self._active))

    @work(thread=True, group="detail-read", exit_on_error=False)
    def _read(self, first: bool, newest: int, active: list[int]) -> None:
        try:
            data = self._gather(first, newest, active)
        except Exception:
            self._reading = False
            raise
        # _reading is cleared when this is applied: a read started before that would
        # ask for runs newer than a stale id and add them twice.
        self.post_message(self.Read(data))

    def _gather(self, first: bool, newest: int, active: list[int]) -> DetailData:
        store = self.app.store
        job = get_job_by_id(store, self.job_id)
        data = DetailData(job)
        if job is None:
            return data
        if first:
            data.new_runs, data.total = first_page(store, self.job_id, limit=PAGE)
        else:
            data.new_runs, data.changed = runs_changed(store, self.job_id, newest, active)
        if first or data.new_runs or any(r.status not in ACTIVE_STATUSES for r in data.changed):
            data.stats = job_stats(store, self.job_id)
            last = latest_result(store, self.job_id)
            data.last_status = last.status if last is not None else None
        data.fires = self._fires(job)
        return data

    def _fires(self, job: Job) -> list[datetime]:
        try:
            schedule = parse_schedule(job.schedule)
            zone = resolve_zone(job.timezone or None)
        except ScheduleError:
            return []
        engine = getattr(self.app, "engine", None)
        first = engine.next_run_time(self.job_id) if engine is not None else None
        if first is not None:
            later = next_fires(schedule, first, zone, NEXT_FIRES - 1, anchor=job.created_at)
            return [first, *later]
        return next_fires(schedule, self._now(), zone, NEXT_FIRES, anchor=job.created_at)

    @work(thread=True, group="detail-page", exit_on_error=False)
    def _load_more(self, before_id: int) -> None:
        older = list_runs(self.app.store, self.job_id, limit=PAGE, before_id=before_id)
        self.post_message(self.Read(DetailData(None), older=older))

    # ---- applying what was read ---------------------------------------------------------

    def on_job_detail_screen_read(self, message: Read) -> None:
        if message.older is not None:
            self._paging = False
            self._exhausted = len(message.older) < PAGE
            self._add_rows(message.older, at_top=False)
            return
        data = message.data
        self._reading = False
        if data.job is None:
            self.query_one("#detail-title", Static).update(f"Job #{self.job_id} not found")
            return
        self.job = data.job
        if data.stats is not None:
            self._last_status = data.last_status
        if self._switches != (data.job.enabled, data.job.paused):
            self._switches = (data.job.enabled, data.job.paused)
            self.refresh_bindings()  # the footer says Enable or Disable, Pause or Resume
        if data.total is not None:
            self._total = data.total
            self._exhausted = data.total <= PAGE
        elif self._total is not None:
            self._total += len([r for r in data.new_runs if r.id not in self._cells])
        now = self._now()
        self._show("#detail-settings", texts.settings_text(data.job))
        self._show("#detail-next", texts.next_text(data.job, data.fires, now))
        self._title()
        if data.stats is not None:
            self._show_stats(data.stats)
        table = self.query_one(DataTable)
        first_load = not self._cells
        self._add_rows(data.new_runs, at_top=not first_load)
        for run in data.changed:
            self._update_row(run, now)
        self._show_live(data.changed + [r for r in data.new_runs if r.status == "running"], now)
        if first_load and table.row_count:
            table.move_cursor(row=0)

    def _add_rows(self, runs: list[Run], *, at_top: bool) -> None:
        table = self.query_one(DataTable)
        now = self._now()
        added = False
        for run in runs:
            if run.id in self._cells:
                continue
            cells = texts.run_cells(run, now, stopping=run.id in self._stopping)
            table.add_row(*cells, key=str(run.id))
            self._cells[run.id] = cells
            added = True
            self._newest = max(self._newest, run.id)
            self._oldest = run.id if self._oldest is None else min(self._oldest, run.id)
            if run.status in ACTIVE_STATUSES:
                self._active.add(run.id)
        if added and at_top:
            # DataTable only appends: re-sort by id, keeping the cursor on the same run.
            keep = self._cursor_key()
            table.sort("id", key=lambda cell: -int(cell.plain), reverse=False)
            if keep is not None:
                table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._title()

    def _update_row(self, run: Run, now: datetime) -> None:
        table = self.query_one(DataTable)
        cells = texts.run_cells(run, now, stopping=run.id in self._stopping)
        old = self._cells.get(run.id)
        if old is None:
            return
        for (key, _), before, after in zip(COLUMNS, old, cells, strict=False):
            if str(before) != str(after) or getattr(before, "style", None) != \
                    getattr(after, "style", None):
                # A cell may grow ("▶ running" -> "✔ succeeded"): widen its column
                # rather than cut the new text to the old width.
                table.update_cell(str(run.id), key, after, update_width=True)
        self._cells[run.id] = cells
        if run.status not in ACTIVE_STATUSES:
            self._active.discard(run.id)

    # ---- the panels --------------------------------------------------------------------

    def _title(self) -> None:
        job = self.job
        name = job.name if job else f"#{self.job_id}"
        if job is None:
            state = ""
        elif job.deleted_at is not None:
            state = "✘ deleted (history kept)"
        else:
            state = fmt.job_state_label(self.states)
        total = f" · {fmt.count(self._total, 'run')}" if self._total is not None else ""
        about = f" · {job.description}" if job is not None and job.description else ""
        self._show("#detail-title", Text(fmt.one_line(f"Job {name} — {state}{total}{about}")))

    @property
    def states(self) -> tuple[str, ...]:
        """The job's state words, by the rule the job table uses (``fmt.job_states``);
        running means running in the engine, as in the table."""
        job = self.job
        if job is None:
            return ()
        engine = getattr(self.app, "engine", None)
        # Without an engine (a screen on its own) the runs read as active stand in.
        going = {run.run_id for run in engine.running_runs(self.job_id)} \
            if engine is not None else set(self._active)
        return fmt.job_states(enabled=job.enabled, paused=job.paused, running=bool(going),
                              last_status=self._last_status,
                              stopping=bool(going) and going <= self._stopping)

    @property
    def _stopping(self) -> set[int]:
        """Runs this console sent a stop to that have not ended (the app keeps them)."""
        return getattr(self.app, "stopping_runs", set())

    def _show(self, selector: str, text: Text) -> None:
        """Update a panel only when its text changed: each update costs a layout pass."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    def _show_stats(self, stats: JobStats) -> None:
        self._show("#detail-stats", texts.stats_text(stats))
        spark = self.query_one(Sparkline)
        if list(spark.data or []) != stats.recent_durations:
            spark.data = stats.recent_durations
        spark.display = bool(stats.recent_durations)

    def _show_live(self, runs: list[Run], now: datetime) -> None:
        running = [r for r in runs if r.status == "running"]
        self.query_one("#detail-live").set_class(bool(running), "-active")
        if running:
            self._show("#detail-live", texts.live_text(running, now))

    # ---- engine messages (re-posted by the app): read at once instead of next tick ------

    def _poke(self, job_id: int | None) -> None:
        if job_id == self.job_id and self.job is not None:
            self._tick()

    def on_run_started(self, message: Message) -> None:
        self._poke(getattr(message, "job_id", None))

    def on_run_finished(self, message: Message) -> None:
        self._poke(getattr(message, "job_id", None))

    def on_fire_accounted(self, message: Message) -> None:
        self._poke(getattr(message, "job_id", None))

    def on_stop_requested(self, message: Message) -> None:
        self._poke(getattr(message, "job_id", None))

    def on_jobs_changed(self, message: Message) -> None:
        if self.job_id in getattr(message, "job_ids", ()):
            self._poke(self.job_id)

    def on_screen_resume(self) -> None:
        self._poke(self.job_id)

    # ---- keys --------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else datetime.now(UTC)

    def _cursor_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(DataTable.RowHighlighted)
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if (not self._exhausted and not self._paging and self._oldest is not None
                and event.cursor_row >= table.row_count - NEAR_END):
            self._paging = True
            self._load_more(self._oldest)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_run_log(int(event.row_key.value))

    def action_open_run(self) -> None:
        key = self._cursor_key()
        if key is not None:
            self.app.open_run_log(int(key))

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if step > 0 else table.action_cursor_up()

    def action_run(self) -> None:
        self.app.request_run(self.job_id)

    def action_run_params(self) -> None:
        self.app.request_run_with_params(self.job_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return switches.allowed(action, self.job)

    def action_toggle_pause(self) -> None:
        self.app.request_toggle_pause(self.job_id)

    action_pause = action_resume = action_toggle_pause

    def action_stop(self) -> None:
        self.app.request_stop(self.job_id)

    def action_toggle_enabled(self) -> None:
        self.app.request_toggle_enabled(self.job_id)

    action_enable = action_disable = action_toggle_enabled

    def action_delete(self) -> None:
        self.app.request_delete(self.job_id)

    def action_edit(self) -> None:
        self.app.open_editor(self.job_id)

    def action_back(self) -> None:
        self.dismiss(None)
