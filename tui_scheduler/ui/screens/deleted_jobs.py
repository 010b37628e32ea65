"""Deleted jobs and their kept history: a list of them, and one deleted job's runs.

Deleting a job keeps its runs until ``tui-scheduler purge``; this is where the console
reaches them. ``enter`` on a deleted job opens its runs in the job detail screen (the
same runs table and paging), with the keys that would act on a live job switched off;
``enter`` on a run opens the usual run log.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.store.deleted import DeletedJob, list_deleted
from tui_scheduler.ui import format as fmt
from tui_scheduler.ui.screens.job_detail import JobDetailScreen
from tui_scheduler.ui.widgets.fit_footer import FitFooter

COLUMNS = (("id", "job"), ("name", "name"), ("deleted", "deleted"), ("runs", "runs"),
           ("last", "last run"))
ABOUT = ("Deleted jobs no longer fire; their runs and output are kept until "
         "`tui-scheduler purge NAME|ID` removes them. enter: the job's runs.")
REREAD_S = 5.0
EMPTY = "No deleted jobs: nothing to look back at."


def _shown(rows: list[DeletedJob]) -> list[tuple]:
    """What the table draws of each row, to tell whether a re-read changed anything."""
    return [(r.job.id, r.job.name, r.job.deleted_at, r.runs, r.last_status, r.last_at)
            for r in rows]


class DeletedJobsScreen(Screen[None]):
    """Every deleted job, most recently deleted first; enter opens its runs."""

    CSS_PATH = "../job_screens.tcss"
    HELP_NAME = "Deleted jobs"
    BINDINGS = [
        Binding("enter", "open_job", "Runs", id="deleted.open"),
        Binding("escape", "back", "Back", id="deleted.back"),
        Binding("j", "cursor(1)", "Down", show=False, id="deleted.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="deleted.up"),
    ]

    class Read(Message):
        """A background read of the deleted jobs finished."""

        def __init__(self, rows: list[DeletedJob]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DeletedJob] | None = None
        """The deleted jobs as last read (None before the first read)."""

    def compose(self) -> ComposeResult:
        yield Static("Deleted jobs", id="deleted-title", classes="screen-title")
        yield Static(ABOUT, id="deleted-about")
        table: DataTable = DataTable(id="deleted-jobs", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._read()
        # A purge from the CLI tells no engine (no live job changed): look again now and
        # then; the list is small.
        self.set_interval(REREAD_S, self._read)

    @work(thread=True, group="deleted-read", exclusive=True, exit_on_error=False)
    def _read(self) -> None:
        self.post_message(self.Read(list_deleted(self.app.store)))

    def on_deleted_jobs_screen_read(self, message: Read) -> None:
        if self.rows is not None and _shown(self.rows) == _shown(message.rows):
            return  # nothing changed: leave the table (and its cursor) alone
        self.rows = message.rows
        table = self.query_one(DataTable)
        keep = self._cursor_key()
        table.clear()
        now = self._now()
        for row in message.rows:
            last = Text("-", style="dim")
            if row.last_status is not None:
                last = Text(fmt.status_label(row.last_status),
                            style=fmt.STATUS_STYLES.get(row.last_status, ""))
                last.append(f" {fmt.local_time(row.last_at, now)}", style="dim")
            table.add_row(Text(str(row.job.id), justify="right"),
                          Text(safe_text(row.job.name, one_line=True)),
                          fmt.local_time(row.job.deleted_at, now),
                          Text(f"{row.runs:,}", justify="right"), last, key=str(row.job.id))
        if keep is not None and keep in {str(row.job.id) for row in message.rows}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        count = len(message.rows)
        self.query_one("#deleted-title", Static).update(
            f"Deleted jobs · {count}" if count else "Deleted jobs")
        self.query_one("#deleted-about", Static).update(ABOUT if count else EMPTY)

    # ---- a delete elsewhere: read again at once -------------------------------------------

    def on_jobs_changed(self, _message: Message) -> None:
        self._read()

    def on_screen_resume(self) -> None:
        if self.rows is not None:
            self._read()

    # ---- keys ----------------------------------------------------------------------------

    # The same clock, cursor and j/k as the detail screen (plain methods over a DataTable).
    _now = JobDetailScreen._now
    _cursor_key = JobDetailScreen._cursor_key
    action_cursor = JobDetailScreen.action_cursor

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(DeletedJobRunsScreen(int(event.row_key.value)))

    def action_open_job(self) -> None:
        key = self._cursor_key()
        if key is not None:
            self.app.push_screen(DeletedJobRunsScreen(int(key)))

    def action_back(self) -> None:
        self.dismiss(None)


class DeletedJobRunsScreen(JobDetailScreen, inherit_bindings=False):
    """A deleted job's settings and runs: the detail screen, read-only."""

    HELP_NAME = "Deleted job"
    BINDINGS = [
        *Screen.BINDINGS,
        Binding("enter", "open_run", "Log", id="deleted-job.open_log"),
        Binding("escape", "back", "Back", id="deleted-job.back"),
        Binding("j", "cursor(1)", "Down", show=False, id="deleted-job.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="deleted-job.up"),
    ]

    def _fires(self, job) -> list[datetime]:
        return []  # a deleted job never fires again
