"""A DataTable that stays cheap to redraw when a few cells of a big table change often.

Textual 8's DataTable keys every render cache on one table-wide update counter, so a
single ``update_cell`` makes the next frame re-render every visible line, rebuild its
row-order and line-offset lists (a pass over all rows: 2,000 jobs) and work out the
same component styles once per line. With twenty live progress rows that cost ~40 ms per
frame, and a key pressed during a frame waits for it. This class:

- caches each rendered cell on the cell's own version (``_render_cell``);
- writes a row's changed cells and repaints that row only (``put_cells``), carrying
  the row-order caches over, since a cell's text moves no row;
- works out the table's style and its component styles once per frame, not per line.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.css.styles import RenderStyles
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

# Rendered cells kept between redraws; a full screen of a wide table is a few hundred.
CELL_CACHE_SIZE = 5000


class _FrameStyles(RenderStyles):
    """Component styles whose Rich style is worked out once; lives for one frame."""

    @property
    def rich_style(self):
        cached = self.__dict__.get("_frame_rich_style")
        if cached is None:
            cached = self.__dict__["_frame_rich_style"] = super().rich_style
        return cached


class FastDataTable(DataTable):
    """DataTable with per-cell render caching, per-row repaints and per-frame styles."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cell_cache: dict[tuple, object] = {}
        self._cell_versions: dict[tuple[str, str], int] = {}
        self._frame_memo: dict[object, object] | None = None

    # ---- writing cells ------------------------------------------------------------------

    def bump_cell(self, row: str, column: str) -> None:
        """The cell's content changed: its cached render is stale."""
        ident = (row, column)
        self._cell_versions[ident] = self._cell_versions.get(ident, 0) + 1

    def update_cell(self, row_key, column_key, value, *, update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, value, update_width=update_width)
        self.bump_cell(str(getattr(row_key, "value", row_key)),
                       str(getattr(column_key, "value", column_key)))

    def put_cells(self, row: str, cells: dict[str, Text]) -> None:
        """Replace some cells of one row and repaint that row alone."""
        if not cells:
            return
        row_key = RowKey(row)
        data = self._data[row_key]
        for column, value in cells.items():
            data[ColumnKey(column)] = value
            self.bump_cell(row, column)
        count, rows = self._update_count, self.row_count
        offsets = self._offset_cache.get(count)
        ordered = self._ordered_row_cache.get((rows, count))
        # Still bumped: DataTable's row and line caches are keyed on it.
        self._update_count += 1
        if offsets is not None:
            self._offset_cache[self._update_count] = offsets
        if ordered is not None:
            self._ordered_row_cache[(rows, self._update_count)] = ordered
        self.refresh_row(self._row_locations.get(row_key))

    # ---- drawing ------------------------------------------------------------------------

    def render_lines(self, crop):
        self._frame_memo = {}
        try:
            return super().render_lines(crop)
        finally:
            self._frame_memo = None

    @property
    def rich_style(self):
        memo = self._frame_memo
        if memo is None:
            return super().rich_style
        style = memo.get(None)
        if style is None:
            style = memo[None] = super().rich_style
        return style

    def get_component_styles(self, *names: str) -> RenderStyles:
        memo = self._frame_memo
        if memo is None:
            return super().get_component_styles(*names)
        styles = memo.get(names)
        if styles is None:
            styles = super().get_component_styles(*names)
            styles.__class__ = _FrameStyles
            memo[names] = styles
        return styles  # type: ignore[return-value]

    def _render_cell(self, row_index: int, column_index: int, base_style, width: int,
                     cursor: bool = False, hover: bool = False):
        # DataTable keys its cell cache on the table-wide update counter; keyed on each
        # cell's own version instead, a frame re-renders only the cells that changed.
        if row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)
        cell = self.coordinate_to_cell_key(Coordinate(row_index, column_index))
        ident = (str(cell.row_key.value), str(cell.column_key.value))
        key = (ident, row_index, column_index, base_style, width, cursor, hover,
               getattr(self, "_show_hover_cursor", None),
               getattr(self, "_pseudo_class_state", None), self._cell_versions.get(ident, 0))
        lines = self._cell_cache.get(key)
        if lines is None:
            if len(self._cell_cache) > CELL_CACHE_SIZE:
                self._cell_cache.clear()
            lines = super()._render_cell(row_index, column_index, base_style, width,
                                         cursor, hover)
            self._cell_cache[key] = lines
        return lines

    def notify_style_update(self) -> None:
        self._cell_cache.clear()
        super().notify_style_update()

    def clear(self, columns: bool = False):
        self._cell_cache.clear()
        self._cell_versions.clear()
        return super().clear(columns)
