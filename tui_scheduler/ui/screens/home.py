"""The home screen: the status header, the job table, its filter and the first-run hint.

Reads go through thread workers that post a message back; engine messages (re-posted by
the app) only change the row model, and a half-second tick draws what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tui_scheduler.core.policies import FAILURE_STATUSES
from tui_scheduler.ui import messages as msg
from tui_scheduler.ui import switches
from tui_scheduler.ui.format import one_line
from tui_scheduler.ui.rows import JobRow, LastResult, LiveRun, Palette
from tui_scheduler.ui.switches import switch_bindings
from tui_scheduler.ui.widgets.fit_footer import FitFooter
from tui_scheduler.ui.widgets.job_table import JobTable
from tui_scheduler.ui.widgets.status_header import StatusHeader, clock_text

if TYPE_CHECKING:  # reads run on worker threads after start-up and import the store there
    from tui_scheduler.store.models import Run

TICK_S = 0.5
RECOUNT_EVERY_S = 60.0
FIRST_RUN_HINT = """\
[b]No jobs yet.[/b]

Press [b]n[/b] to add your first job: a name, a command such as [i]echo hello[/i], and a
schedule such as [i]*/5 * * * *[/i] or [i]every 10m[/i]. The editor shows the next runs
as you type.

From a shell: [i]tui-scheduler add NAME --cron '0 9 * * 1-5' --command '...'[/i], or
[i]tui-scheduler import-crontab FILE[/i] to bring a crontab over.
Try [i]tui-scheduler --demo[/i] for a database with sample jobs.

[b]?[/b] lists every key · [b]ctrl+p[/b] finds any action · [b]q[/b] quits"""
OPENING_HINT = "Opening the database…"
LOADING_HINT = "Reading the jobs…"


class HomeScreen(Screen):
    """The job table and everything around it."""

    BINDINGS = [
        Binding("r", "run", "Run", id="jobs.run", tooltip="Run the job now"),
        Binding("R", "run_params", "Run with params", id="jobs.run_params", show=False),
        *switch_bindings("jobs", show_x=False),
        Binding("s", "stop", "Stop", id="jobs.stop",
                tooltip="Stop the running job (asks; SIGTERM, then offers SIGKILL)"),
        Binding("d", "delete", "Delete", id="jobs.delete", show=False,
                tooltip="Delete the job (asks; its run history stays readable)"),
        Binding("e", "edit", "Edit", id="jobs.edit"),
        Binding("n", "new", "New", id="jobs.new"),
        # priority: resolved as the key arrives, so keys typed right behind the slash
        # (a fast typist, a paste) are already routed to the filter box.
        Binding("slash", "filter", "Filter", id="jobs.filter", key_display="/", priority=True),
        Binding("escape", "clear_filter", "Clear filter", id="jobs.clear_filter"),
        Binding("o", "sort(1)", "Sort by next column", id="jobs.sort", show=False),
        Binding("O", "sort(-1)", "Sort by previous column", id="jobs.sort_back", show=False),
        Binding("c", "toggle_cron", "Cron text / words", id="jobs.cron", show=False),
        Binding("m", "mute", "Mute / unmute failure toasts", id="jobs.mute", show=False),
        Binding("D", "deleted_jobs", "Deleted jobs", id="jobs.deleted", show=False,
                tooltip="Deleted jobs and their kept runs"),
    ]

    @dataclass
    class Loaded(Message):
        """The first read of every job (or a full re-read) is ready."""

        rows: list[JobRow]
        failed_24h: int

    @dataclass
    class JobsLoaded(Message):
        """Fresh rows for jobs that changed; ``None`` for a job that is gone."""

        updates: list[tuple[int, JobRow | None]]

    @dataclass
    class RunLoaded(Message):
        """A finished run's row, for the exact last result."""

        run: Run

    @dataclass
    class TypicalLoaded(Message):
        job_id: int
        seconds: float | None

    @dataclass
    class FailedCounted(Message):
        count: int

    AUTO_FOCUS = "#jobs"
    HELP_NAME = "Jobs"

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False
        """True once the first read has been drawn."""
        self._stale = False
        self._select_when_shown: int | None = None
        self._since_recount = 0.0
        self._table: JobTable | None = None
        self._header: StatusHeader | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status")
        yield Input(placeholder="filter by name or tag (escape clears)", id="filter")
        yield JobTable(id="jobs")
        yield Static("", id="hint")
        yield FitFooter()

    @property
    def table(self) -> JobTable:
        if self._table is None:  # looked up once: the tick uses it twice a second
            self._table = self.query_one(JobTable)
        return self._table

    @property
    def header(self) -> StatusHeader:
        if self._header is None:
            self._header = self.query_one(StatusHeader)
        return self._header

    def on_mount(self) -> None:
        self.header.hostname = self.app.hostname
        self._apply_theme()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_theme())
        self._tick()
        self.set_interval(TICK_S, self._tick)
        if self.app.ready:
            self.query_one("#hint").display = False
            self.load()
        else:  # the first frame: the database opens on a thread (ui.boot)
            self.query_one("#hint", Static).update(OPENING_HINT)
            self.table.display = False

    def engine_ready(self) -> None:
        """The app has its store and engine now: read the jobs."""
        self.query_one("#hint", Static).update(LOADING_HINT)
        self._tick()
        self.load()

    def _apply_theme(self) -> None:
        palette = Palette.from_variables(self.app.get_css_variables())
        self.header.palette = palette
        self.table.set_palette(palette, self.app.now())

    # ---- reading ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="home-load", exit_on_error=False)
    def load(self) -> None:
        """Read every job, its last result and the failure count."""
        from tui_scheduler.ui import data

        now = self.app.now()
        running = {run.job.id for run in self.app.engine.running_runs()}
        table = data.load_table(self.app.store, now, running)
        rows = [JobRow.read(job, table.last.get(job.id), now, table.typical.get(job.id),
                            table.retries.get(job.id))
                for job in table.jobs]
        self.post_message(self.Loaded(rows, table.failed_24h))

    @work(thread=True, group="home-jobs", exit_on_error=False)
    def load_jobs(self, job_ids: set[int]) -> None:
        from tui_scheduler.ui import data

        now = self.app.now()
        updates: list[tuple[int, JobRow | None]] = []
        for update in data.load_jobs(self.app.store, job_ids):
            gone = update.job is None or update.job.deleted_at is not None
            updates.append((update.job_id,
                            None if gone else JobRow.read(update.job, update.last, now,
                                                          retry=update.retry)))
        self.post_message(self.JobsLoaded(updates))

    @work(thread=True, group="home-runs", exit_on_error=False)
    def load_run(self, run_id: int) -> None:
        from tui_scheduler.store.runs import get_run

        self.post_message(self.RunLoaded(get_run(self.app.store, run_id)))

    @work(thread=True, group="home-typical", exit_on_error=False)
    def load_typical(self, job_id: int) -> None:
        from tui_scheduler.store.runs import typical_duration

        self.post_message(self.TypicalLoaded(job_id, typical_duration(self.app.store, job_id)))

    @work(thread=True, exclusive=True, group="home-count", exit_on_error=False)
    def count_failed(self) -> None:
        from tui_scheduler.ui import data

        self.post_message(self.FailedCounted(data.count_failed(self.app.store, self.app.now())))

    # ---- applying what was read -------------------------------------------------------

    def on_home_screen_loaded(self, message: Loaded) -> None:
        rows = {row.job_id: row for row in message.rows}
        # Runs that started or ended while the read ran: the engine's live list is the
        # truth right now, and later events arrive in order after this.
        for run in self.app.engine.running_runs():
            row = rows.get(run.job.id)
            if row is not None and run.run_id is not None and run.started_at is not None:
                progress = run.progress
                row.live[run.run_id] = LiveRun(run.run_id, run.started_at, *(
                    (progress.done, progress.total, progress.message or "") if progress
                    else ()))
        self.table.rows_by_id = rows
        self.header.failed_24h = message.failed_24h
        first = not self.loaded
        self.loaded = True
        self.table.rebuild(self.app.now())
        self._show_table_or_hint()
        if first:
            self.app.settled()
        if self._stale:
            self._stale = False
            self.load()

    def on_home_screen_jobs_loaded(self, message: JobsLoaded) -> None:
        now = self.app.now()
        for job_id, row in message.updates:
            old = self.table.rows_by_id.get(job_id)
            if row is None:
                self.table.drop(job_id)
                continue
            if old is not None:
                row.live, row.typical_s = old.live, old.typical_s
                if old.last and (row.last is None or row.last.run_id < old.last.run_id):
                    row.last = old.last
            self.table.upsert(row, now)
            if job_id == self.table.selected_job_id:
                self.refresh_bindings()
            if self._select_when_shown == job_id:
                self._select_when_shown = None
                self.table.select_job(job_id)
        self._show_table_or_hint()

    def on_home_screen_run_loaded(self, message: RunLoaded) -> None:
        row = self.table.rows_by_id.get(message.run.job_id)
        if row is not None and message.run.status not in ("running", "scheduled") and \
                (row.last is None or row.last.run_id <= message.run.id):
            row.last = LastResult.from_run(message.run)
            self.table.touch(row.job_id)

    def on_home_screen_typical_loaded(self, message: TypicalLoaded) -> None:
        row = self.table.rows_by_id.get(message.job_id)
        if row is not None:
            row.typical_s = message.seconds
            self.table.touch(row.job_id)

    def on_home_screen_failed_counted(self, message: FailedCounted) -> None:
        self.header.failed_24h = message.count

    # ---- engine messages (re-posted here by the app) ----------------------------------

    def _row(self, job_id: int) -> JobRow | None:
        if not self.loaded:
            self._stale = True  # read again once the first read lands
            return None
        return self.table.rows_by_id.get(job_id)

    def on_run_started(self, message: msg.RunStarted) -> None:
        row = self._row(message.job_id)
        if row is not None:
            row.live.setdefault(message.run_id, LiveRun(message.run_id, message.started_at))
            self.table.touch(row.job_id)
            self.load_typical(row.job_id)  # the last run may have moved the median

    def on_run_progress(self, message: msg.RunProgress) -> None:
        row = self._row(message.job_id)
        run = row.live.get(message.run_id) if row is not None else None
        if run is not None:
            run.done, run.total, run.message = message.done, message.total, message.message
            row.recheck_at = None  # redrawn on the next tick; the order cannot change

    def on_run_finished(self, message: msg.RunFinished) -> None:
        row = self._row(message.job_id)
        if row is None:
            return
        run = row.live.pop(message.run_id, None)
        now = self.app.now()
        if run is not None and (row.last is None or row.last.run_id < message.run_id):
            # Shown at once; the stored row (exact times) replaces it when read.
            row.last = LastResult(message.run_id, message.status, now,
                                  (now - run.started_at).total_seconds())
        self.table.touch(row.job_id)
        self.load_run(message.run_id)
        if message.status in FAILURE_STATUSES:
            self.count_failed()

    def on_stop_requested(self, message: msg.StopRequested) -> None:
        row = self._row(message.job_id)
        if row is None:
            return
        for run_id in message.run_ids:
            if run_id in row.live:
                row.live[run_id].stopping = True
        self.table.touch(row.job_id)

    def on_fire_accounted(self, message: msg.FireAccounted) -> None:
        if message.status == "scheduled" and self._row(message.job_id) is not None:
            self.load_jobs({message.job_id})  # a retry (or queued run) is waiting: show it

    def on_jobs_changed(self, message: msg.JobsChanged) -> None:
        if not self.loaded:
            self._stale = True
        elif message.job_ids:
            self.load_jobs(set(message.job_ids))

    def on_engine_trouble(self, message: msg.EngineTrouble) -> None:
        self.header.trouble = message.message

    # ---- the tick ---------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.app.now()
        engine = self.app.engine
        self.header.show_clock(clock_text(now))
        if engine is None:
            return  # still "starting"
        self.header.engine_state = "running" if engine.running else "stopped"
        if engine.attached:
            self.header.attached = (f"{engine.lock.host} (pid {engine.lock.pid}, since "
                                    f"{engine.started_at.astimezone():%H:%M})")
        if engine.lost_lock:
            self.header.trouble = "another engine took over this database"
        elif self.header.trouble is None and engine.writer.trouble:
            self.header.trouble = engine.writer.trouble
        if not self.loaded:
            return
        self._count()
        self.table.refresh_cells(now)
        self._since_recount += TICK_S
        if self._since_recount >= RECOUNT_EVERY_S:
            self._since_recount = 0.0
            self.count_failed()  # failures age out of the 24-hour window

    def _count(self) -> None:
        rows = self.table.rows_by_id
        self.header.set_counts(jobs=len(rows), running=sum(len(r.live) for r in rows.values()))

    def _show_table_or_hint(self) -> None:
        self._count()
        hint = self.query_one("#hint", Static)
        table = self.table
        if not table.rows_by_id:
            hint.update(FIRST_RUN_HINT)
        elif not table.row_count:
            needle = escape(one_line(table.filter_text))
            hint.update(f"No job matches [b]{needle}[/b] by name or tag."
                        "\n\nPress [b]escape[/b] to clear the filter.")
        has_rows = table.row_count > 0
        table.display = has_rows
        hint.display = not has_rows
        if has_rows and not self.query_one("#filter", Input).has_focus:
            table.focus()

    def select_when_shown(self, job_id: int) -> None:
        """Put the cursor on a job as soon as its row appears (after creating it)."""
        if job_id in self.table.shown_ids:
            self.table.select_job(job_id)
        else:
            self._select_when_shown = job_id

    def job_name(self, job_id: int) -> str:
        row = self.table.rows_by_id.get(job_id) if self.loaded else None
        return row.job.name if row else f"job #{job_id}"

    # ---- keys -------------------------------------------------------------------------

    def _still_opening(self) -> bool:
        if self.loaded:
            return False
        self.notify("Still reading the jobs; a moment.", severity="warning", timeout=3)
        return True

    def selected(self) -> int | None:
        if self._still_opening():
            return None
        job_id = self.table.selected_job_id if self.table.display else None
        if job_id is None:
            self.notify("No job selected. Press n to add one.", severity="warning")
        return job_id

    def action_run(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_run(job_id)

    def action_run_params(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_run_with_params(job_id)

    def action_pause(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_toggle_pause(job_id)

    action_resume = action_pause

    def action_stop(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_stop(job_id)

    def action_toggle_enabled(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_toggle_enabled(job_id)

    action_enable = action_disable = action_toggle_enabled

    def action_delete(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_delete(job_id)

    def action_edit(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.open_editor(job_id)

    def action_mute(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.request_toggle_mute(job_id)

    def action_new(self) -> None:
        if not self._still_opening():
            self.app.open_editor(None)

    def action_open(self) -> None:
        if (job_id := self.selected()) is not None:
            self.app.open_detail(job_id)

    @on(DataTable.RowSelected, "#jobs")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_detail(int(event.row_key.value))

    @on(DataTable.HeaderSelected, "#jobs")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        reverse = column == self.table.sort_column and not self.table.sort_reverse
        self.table.set_sort(column, reverse)

    def action_sort(self, step: int = 1) -> None:
        """The column header shows the sort (▲/▼), so no toast is needed."""
        self.table.cycle_sort(step)

    def action_toggle_cron(self) -> None:
        self.table.toggle_cron(self.app.now())

    def action_deleted_jobs(self) -> None:
        self.app.open_deleted_jobs()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "escape: clear filter" is offered (and shown in the footer) only while filtering.
        if action == "clear_filter":
            boxes = self.query("#filter")
            return bool(boxes) and (boxes.first().display or bool(self.table.filter_text))
        return switches.allowed(action, self._selected_job())

    def _selected_job(self):
        if not self.loaded or self._table is None:
            return None
        row = self.table.rows_by_id.get(self.table.selected_job_id)
        return row.job if row is not None else None

    @on(DataTable.RowHighlighted, "#jobs")
    def _row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()  # p and x say what they do to this job

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:  # the binding has priority: a slash typed in the box is text
            box.insert_text_at_cursor("/")
            return
        box.display = True
        # Focus at once, not on the next idle (``focus()``): keys typed right after the
        # slash are already queued and must land in the filter, not on the table's keys.
        self.set_focus(box)
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.display and not self.table.filter_text:
            return
        box.value = ""
        box.display = False
        self.table.set_filter("", self.app.now())
        self._show_table_or_hint()
        self.set_focus(self.table)
        self.refresh_bindings()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.loaded:
            self.table.set_filter(event.value, self.app.now())
            self._show_table_or_hint()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, _event: Input.Submitted) -> None:
        if self.table.row_count:
            self.set_focus(self.table)

