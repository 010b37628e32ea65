"""The home screen's table: one row per job, kept live by updating cells by row key.

Rows come from ``ui.rows`` (the model); this widget only decides which rows are shown
(filter), in what order (sort) and which cells changed since the last tick. Changes are
applied in one pass per tick, only for rows on screen, only to cells whose text changed,
and each changed row repaints alone (``FastDataTable.put_cells``).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from tui_scheduler.ui.rows import (
    SORTABLE,
    JobRow,
    Palette,
    RowText,
    View,
    plan_columns,
    render_cells,
    same_cell,
)
from tui_scheduler.ui.rows import sort_key as row_sort_key
from tui_scheduler.ui.widgets.fast_table import FastDataTable

# Rows drawn when the table is laid out; the rest get blank cells until they scroll into
# view. Drawing all 2,000 took ~0.3 s of the UI thread on every rebuild (a filter edit).
EAGER_ROWS = 100


class JobTable(FastDataTable):
    """Jobs as rows keyed by job id (as text)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open the job: details and runs", id="table.open",
                show=False),
        Binding("j", "cursor_down", "Down", id="table.down", show=False),
        Binding("k", "cursor_up", "Up", id="table.up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_id: dict[int, JobRow] = {}
        """Every known job, shown or filtered out."""
        self.view = View(plan_columns(118))
        """Column widths, palette and schedule style the cells are drawn with."""
        self.sort_column = "name"
        self.sort_reverse = False
        self.filter_text = ""
        self._planned_width = 0
        self._order_dirty = False
        self._drawn: dict[int, dict[str, Text]] = {}
        """The cells currently in the table, per shown job: the base of each diff."""

    # ---- what is shown ----------------------------------------------------------------

    @property
    def shown_ids(self) -> list[int]:
        """Jobs with a row (those the filter lets through), in the order they were added."""
        return list(self._drawn)

    @property
    def selected_job_id(self) -> int | None:
        if not self._drawn or self.cursor_row < 0:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        except CellDoesNotExist:
            return None
        return int(key.value)

    def select_job(self, job_id: int) -> None:
        try:
            self.move_cursor(row=self.get_row_index(str(job_id)), animate=False)
        except RowDoesNotExist:
            pass

    def rebuild(self, now: datetime) -> None:
        """Lay the table out again: after a resize, a theme change or a new filter.

        Live updates never come here; they go through ``refresh_cells``.
        """
        selected = self.selected_job_id
        self._planned_width = self._usable_width()
        self.view = View(plan_columns(self._planned_width), self.view.palette,
                         self.view.show_cron)
        self.clear(columns=True)
        for column in self.view.columns:
            self.add_column(self._label(column.key, column.label), width=column.width,
                            key=column.key)
        self._drawn.clear()
        ordered = sorted((r for r in self.rows_by_id.values() if r.matches(self.filter_text)),
                         key=lambda r: row_sort_key(r, self.sort_column),
                         reverse=self.sort_reverse)
        for index, row in enumerate(ordered):
            self._add(row, now, render=index < EAGER_ROWS or row.job_id == selected)
        if selected is not None:
            self.select_job(selected)
        self.refresh_cells(now)  # whatever is in view now, in case it was left blank

    def _usable_width(self) -> int:
        # The vertical scrollbar (1 cell, see app.tcss) is kept out of the plan so rows
        # never overflow sideways when enough jobs arrive to need it.
        return max(40, (self.size.width or 120) - 1)

    def on_resize(self) -> None:
        if self._usable_width() != self._planned_width:
            self.rebuild(self.app.now())

    def _add(self, row: JobRow, now: datetime, render: bool = True) -> None:
        if render:
            cells = render_cells(row, now, self.view)
        else:  # drawn when it scrolls into view (refresh_cells: recheck_at None is due)
            first = RowText("")
            first.job_id = row.job_id  # what sorting looks the row up by
            cells = {column.key: first if column.key == "state" else Text("")
                     for column in self.view.columns}
            row.recheck_at = None
        self._drawn[row.job_id] = cells
        for key in cells:  # a row can come back (filter): its old renders are stale
            self.bump_cell(str(row.job_id), key)
        self.add_row(*(cells[c.key] for c in self.view.columns), key=str(row.job_id))

    def _label(self, key: str, label: str) -> Text:
        if key == self.sort_column:
            return Text(f"{label} {'▼' if self.sort_reverse else '▲'}", style="bold")
        return Text(label)

    # ---- model changes ----------------------------------------------------------------

    def upsert(self, row: JobRow, now: datetime) -> None:
        """A new or changed job: add its row, drop it, or mark it for the next tick."""
        self.rows_by_id[row.job_id] = row
        shown = row.job_id in self._drawn
        if row.matches(self.filter_text) and not shown:
            self._add(row, now)
            self.apply_sort()
        elif shown and not row.matches(self.filter_text):
            self._remove(row.job_id)
        else:
            self.touch(row.job_id)

    def drop(self, job_id: int) -> None:
        self.rows_by_id.pop(job_id, None)
        if job_id in self._drawn:
            self._remove(job_id)

    def _remove(self, job_id: int) -> None:
        del self._drawn[job_id]
        self.remove_row(str(job_id))

    def set_filter(self, text: str, now: datetime) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self.rebuild(now)

    def set_sort(self, column: str, reverse: bool) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        for col in self.view.columns:
            self.columns[col.key].label = self._label(col.key, col.label)
        self.apply_sort()

    def cycle_sort(self, step: int = 1) -> None:
        """The next (``step`` 1) or previous (-1) sortable column, ascending."""
        columns = [c for c in SORTABLE if c in {col.key for col in self.view.columns}]
        index = columns.index(self.sort_column) if self.sort_column in columns else -step
        self.set_sort(columns[(index + step) % len(columns)], False)

    def apply_sort(self) -> None:
        """Reorder rows by the model, keeping the cursor on the same job."""
        selected = self.selected_job_id
        column = self.sort_column
        self.sort("state", key=lambda cell: row_sort_key(self.rows_by_id[cell.job_id], column),
                  reverse=self.sort_reverse)
        if selected is not None:
            self.select_job(selected)

    def set_palette(self, palette: Palette, now: datetime) -> None:
        self.view = View(self.view.columns, palette, self.view.show_cron)
        self.rebuild(now)

    def toggle_cron(self, now: datetime) -> bool:
        self.view = View(self.view.columns, self.view.palette, not self.view.show_cron)
        for row in self.rows_by_id.values():
            row.recheck_at = None
        self.refresh_cells(now)
        return self.view.show_cron

    # ---- the tick ----------------------------------------------------------------------

    def touch(self, job_id: int) -> None:
        """The model of a job changed (an engine message): redraw it on the next tick,
        and re-sort if the order depends on what changed."""
        row = self.rows_by_id.get(job_id)
        if row is not None:
            row.recheck_at = None
            self._order_dirty = True

    def refresh_cells(self, now: datetime) -> int:
        """Redraw the cells that changed in the rows on screen; returns how many cells
        were updated.

        Rows out of view are not drawn: with thousands of jobs, many share a fire time
        and would all tick at once. They are redrawn when they scroll into view.
        """
        for job_id in self._drawn:
            row = self.rows_by_id[job_id]
            if row.next_fire is not None and row.next_fire <= now:
                row.refresh_next(now)  # a fire passed: the next one is due
                row.recheck_at = None
                self._order_dirty = self._order_dirty or self.sort_column == "next"
        if self._order_dirty:
            self._order_dirty = False
            if self.sort_column != "name":  # names change only through upsert
                self.apply_sort()
        due = [jid for jid in self._visible_ids()
               if (r := self.rows_by_id[jid]).recheck_at is None or r.recheck_at <= now]
        updated = 0
        for job_id in due:
            cells = render_cells(self.rows_by_id[job_id], now, self.view)
            old = self._drawn[job_id]
            changed = {key: cell for key, cell in cells.items()
                       if not same_cell(old.get(key), cell)}
            self.put_cells(str(job_id), changed)  # repaints this row only
            updated += len(changed)
            self._drawn[job_id] = cells
        return updated

    def _visible_ids(self) -> list[int]:
        top = int(self.scroll_y)
        bottom = min(self.row_count, top + max(0, self.size.height - self.header_height) + 1)
        return [int(self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value)
                for index in range(top, bottom)]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value) and self.is_mounted:
            # Rows that come into view may have missed ticks while they were out of it.
            self.refresh_cells(self.app.now())
