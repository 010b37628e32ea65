"""The job table's model: one ``JobRow`` per job, what each of its cells says, how rows
sort, and which columns fit a given width.

Pure code over job rows and engine events (no widgets, no database), so the table can
recompute a row on the UI thread in microseconds and tests can check it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text

from tui_scheduler.core.policies import FAILURE_STATUSES
from tui_scheduler.core.schedule import (
    Schedule,
    ScheduleError,
    describe,
    next_fire_after,
    parse_schedule,
    resolve_zone,
)
from tui_scheduler.ui import format as fmt

if TYPE_CHECKING:  # rows are built after start-up; the first frame needs no SQLModel
    from tui_scheduler.store.models import Job, Run

STATE_ORDER = {"running": 0, "stopping": 0, "failing": 1, "idle": 2, "paused": 3, "disabled": 4}
# How often a running row redraws: elapsed time and the indeterminate bar move.
LIVE_REDRAW = timedelta(seconds=0.5)


@dataclass
class LastResult:
    """The newest finished run of a job, as the table shows it."""

    run_id: int
    status: str
    finished_at: datetime | None
    seconds: float | None

    @classmethod
    def from_run(cls, run: Run) -> LastResult:
        seconds = None
        if run.started_at and run.finished_at:
            seconds = (run.finished_at - run.started_at).total_seconds()
        return cls(run.id, run.status, run.finished_at or run.started_at, seconds)


@dataclass(frozen=True)
class PendingRetry:
    """A retry recorded and waiting for its delay (or held while the job is paused)."""

    run_id: int
    due: datetime
    attempt: int

    @classmethod
    def from_run(cls, run: Run) -> PendingRetry:
        return cls(run.id, run.scheduled_for or run.created_at, run.attempt)


@dataclass
class LiveRun:
    """A run in progress, kept up to date from engine messages."""

    run_id: int
    started_at: datetime
    done: float | None = None
    total: float | None = None
    message: str = ""
    stopping: bool = False
    """This console sent the run SIGTERM (or SIGKILL); it has not ended yet."""

    @property
    def fraction(self) -> float | None:
        if self.done is None or not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


@dataclass
class JobRow:
    """Everything the table knows about one job."""

    job: Job
    last: LastResult | None = None
    live: dict[int, LiveRun] = field(default_factory=dict)
    """Runs of this job in progress, by run id (more than one with overlap 'allow')."""
    typical_s: float | None = None
    """Median duration of recent successful runs, for an ETA; None when unknown."""
    next_fire: datetime | None = None
    retry: PendingRetry | None = None
    """The job's retry waiting to start, if any (shown instead of the next fire)."""
    schedule: Schedule | None = field(default=None, init=False)
    zone: ZoneInfo | None = field(default=None, init=False)
    words: str = field(default="", init=False)
    """The schedule in words, or why it cannot be read."""
    recheck_at: datetime | None = field(default=None, init=False)
    """When the cells may read differently without any event; None means now."""

    def __post_init__(self) -> None:
        self.set_job(self.job)

    @classmethod
    def read(cls, job: Job, last_run: Run | None, now: datetime,
             typical_s: float | None = None, retry: Run | None = None) -> JobRow:
        """A row from what a worker read, its next fire already found (off the UI
        thread: the fire-time search is the costly part)."""
        row = cls(job, last=LastResult.from_run(last_run) if last_run else None,
                  typical_s=typical_s,
                  retry=PendingRetry.from_run(retry) if retry is not None else None)
        row.refresh_next(now)
        return row

    def set_job(self, job: Job) -> None:
        self.job = job
        try:
            self.schedule = parse_schedule(job.schedule)
            self.zone = resolve_zone(job.timezone or None)
            self.words = describe(self.schedule)
        except ScheduleError as exc:
            self.schedule, self.zone, self.words = None, None, f"invalid: {exc}"
        self.next_fire = None
        self.recheck_at = None

    @property
    def job_id(self) -> int:
        return self.job.id

    @property
    def tags(self) -> list[str]:
        return [tag for tag in self.job.tags.split(",") if tag]

    @property
    def states(self) -> tuple[str, ...]:
        """Every state word that applies, the deciding one first (``fmt.job_states``)."""
        return fmt.job_states(enabled=self.job.enabled, paused=self.job.paused,
                              running=bool(self.live),
                              last_status=self.last.status if self.last else None,
                              stopping=bool(self.live) and all(
                                  run.stopping for run in self.live.values()))

    @property
    def state(self) -> str:
        return self.states[0]

    @property
    def waiting_retry(self) -> PendingRetry | None:
        """The pending retry, unless it has started or ended since it was read."""
        retry = self.retry
        if retry is None or retry.run_id in self.live or \
                (self.last is not None and self.last.run_id >= retry.run_id):
            return None
        return retry

    @property
    def newest_run(self) -> LiveRun | None:
        return self.live[max(self.live)] if self.live else None

    def fires_by_clock(self) -> bool:
        return (self.schedule is not None and self.schedule.fires_by_clock
                and self.job.enabled and not self.job.paused)

    def refresh_next(self, now: datetime) -> None:
        """Recompute the next fire with the engine's own function once the old one passed."""
        if not self.fires_by_clock():
            self.next_fire = None
        elif self.next_fire is None or self.next_fire <= now:
            self.next_fire = next_fire_after(self.schedule, now, self.zone,
                                             anchor=self.job.created_at)

    def matches(self, needle: str) -> bool:
        """The filter: a case-insensitive part of the name or of a tag."""
        needle = needle.strip().casefold()
        if not needle:
            return True
        return needle in self.job.name.casefold() or \
            any(needle in tag.casefold() for tag in self.tags)


# ---- columns --------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


CELL_PADDING = 2  # DataTable pads each cell by one on both sides
MEDIUM_FROM = 110  # narrower: short "next" and a small merged last-result/progress column
WIDE_FROM = 160    # wider: last result and progress get columns of their own
NARROW_REST = 24   # under this many cells for name + schedule, the schedule column goes
MIN_NAME = 6


def plan_columns(width: int) -> tuple[Column, ...]:
    """Column widths that fill ``width`` cells. Below ``WIDE_FROM`` a running job shows
    its progress where its last result would be (the state column says "running")."""
    state = Column("state", "State", 12)  # '▶ running ×2', '○‖ disabled'
    if width >= WIDE_FROM:
        fixed = [state, Column("next", "Next run", 20), Column("last", "Last result", 18)]
    elif width >= MEDIUM_FROM:
        fixed = [state, Column("next", "Next run", 20), Column("last", "Last / progress", 36)]
    else:
        fixed = [state, Column("next", "Next", 8), Column("last", "Last / progress", 15)]
    count = len(fixed) + 2 + (width >= WIDE_FROM)
    rest = width - sum(c.width for c in fixed) - CELL_PADDING * count
    if rest < NARROW_REST:
        # Too narrow for names and schedules both: the schedule goes (its column's
        # words are in the detail screen), the name takes what is left, the state and
        # the next and last columns keep their widths, and nothing scrolls sideways.
        name = max(MIN_NAME, rest + CELL_PADDING)
        return (fixed[0], Column("name", "Name", name), fixed[1], fixed[2])
    name = min(30, max(10, int(rest * 0.42 if width < WIDE_FROM else rest * 0.28)))
    schedule = min(36, rest - name) if width >= WIDE_FROM else rest - name
    columns = [fixed[0], Column("name", "Name", name), Column("schedule", "Schedule", schedule),
               fixed[1], fixed[2]]
    if width >= WIDE_FROM:
        columns.append(Column("progress", "Progress", rest - name - schedule))
    return tuple(columns)


# ---- cells ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Palette:
    """Rich styles taken from the current theme's readable text colours."""

    good: str = "green"
    bad: str = "bold red"
    warn: str = "yellow"
    live: str = "bold cyan"
    muted: str = "dim"

    @classmethod
    def from_variables(cls, variables: dict[str, str]) -> Palette:
        def pick(name: str, fallback: str) -> str:
            value = variables.get(name, "")
            return value if value.startswith("#") and len(value) == 7 else fallback
        return cls(good=pick("text-success", "green"),
                   bad="bold " + pick("text-error", "red"),
                   warn=pick("text-warning", "yellow"),
                   live="bold " + pick("text-primary", "cyan"),
                   muted="dim")

    def for_state(self, state: str) -> str:
        return {"running": self.live, "stopping": self.warn, "failing": self.bad,
                "paused": self.warn, "disabled": self.muted}.get(state, "")

    def for_status(self, status: str) -> str:
        if status == "succeeded":
            return self.good
        if status in FAILURE_STATUSES:
            return self.bad
        return self.warn if status == "stopped" else self.muted


class RowText(Text):
    """A cell that knows its job: ``DataTable.sort`` hands key functions cells, not row
    keys, so the first cell carries the id the sort looks the model up by."""

    job_id: int = 0


def same_cell(old: Text | None, new: Text) -> bool:
    """Equal text, spans and base style (``Text.__eq__`` ignores the base style)."""
    return old is not None and old.plain == new.plain and old.style == new.style \
        and old.spans == new.spans


@dataclass(frozen=True)
class View:
    """How cells are drawn right now: column widths, palette, cron text or words."""

    columns: tuple[Column, ...]
    palette: Palette = Palette()
    show_cron: bool = False

    @property
    def wide(self) -> bool:
        return self.has("progress")

    def has(self, key: str) -> bool:
        return any(c.key == key for c in self.columns)

    def width(self, key: str) -> int:
        return next(c.width for c in self.columns if c.key == key)


def render_cells(row: JobRow, now: datetime, view: View) -> dict[str, Text]:
    """Every cell of ``row``; also sets ``row.recheck_at`` to when they next change."""
    row.refresh_next(now)
    stale: list[datetime] = []
    if row.next_fire is not None:
        stale.append(row.next_fire)  # the fire passes: the next one must be found
    states = row.states
    state = states[0]
    label = fmt.job_state_label(states, compact=True)
    if len(row.live) > 1:
        label += f" ×{len(row.live)}"
    first = RowText(label, style=view.palette.for_state(state))
    first.job_id = row.job_id
    cells = {
        "state": first,
        "name": _name_cell(row, view.width("name"), view.palette),
        "next": _next_cell(row, now, view, stale),
        "last": _last_cell(row, now, view, stale),
    }
    if view.has("schedule"):
        cells["schedule"] = _schedule_cell(row, view)
    if view.wide:
        cells["progress"] = _progress_cell(row, now, view.width("progress"), view.palette)
    elif row.live:
        cells["last"] = _progress_cell(row, now, view.width("last"), view.palette)
    if row.live:
        stale.append(now + LIVE_REDRAW)
    row.recheck_at = min(stale) if stale else None
    if row.recheck_at is None:
        row.recheck_at = datetime.max.replace(tzinfo=now.tzinfo)
    return cells


def _name_cell(row: JobRow, width: int, palette: Palette) -> Text:
    text = Text(fmt.clip(row.job.name, width), style="bold" if row.live else "")
    tags = fmt.one_line(" ".join(f"#{tag}" for tag in row.tags))
    if tags and text.cell_len + 1 + len(tags) <= width:  # whole tags or none
        text.append(" " + tags, style=palette.muted)
    return text


# The table's column is narrow: shorter words than describe() for clockless schedules.
_SHORT_WORDS = {"manual": "Manual only", "reboot": "At engine start"}


def _schedule_cell(row: JobRow, view: View) -> Text:
    width = view.width("schedule")
    if row.schedule is None:
        return Text(fmt.clip(row.words, width), style=view.palette.bad)
    shown = row.schedule.text if view.show_cron else _SHORT_WORDS.get(row.schedule.kind,
                                                                        row.words)
    return Text(fmt.clip(shown, width))


def _next_cell(row: JobRow, now: datetime, view: View, stale: list[datetime]) -> Text:
    width = view.width("next")
    retry = row.waiting_retry
    if retry is not None and not row.live:
        return Text(retry_text(row, retry, now, width), style=view.palette.warn)
    if row.next_fire is None:
        if row.schedule is not None and row.schedule.kind == "manual":
            return Text("manual", style=view.palette.muted)
        if row.schedule is not None and row.schedule.kind == "reboot":
            return Text("at start", style=view.palette.muted)
        return Text("-", style=view.palette.muted)
    stale.append(now + timedelta(seconds=fmt.relative_stale_in(row.next_fire, now)))
    when = fmt.relative(row.next_fire, now)
    if width < 12:
        return Text(fmt.clip(when, width))
    text = Text(when)
    text.append(" · " + fmt.fire_time(row.next_fire, now), style=view.palette.muted)
    text.truncate(width, overflow="ellipsis")
    return text


def retry_text(row: JobRow, retry: PendingRetry, now: datetime, width: int) -> str:
    """'retry at 14:05 (2/3)': when the waiting retry runs and which attempt of how
    many it is; 'retry held (2/3)' while pause or disable holds it."""
    of = f"({retry.attempt}/{row.job.retries + 1})"
    if row.job.paused or not row.job.enabled:
        return fmt.clip(f"retry held {of}", width)
    when = fmt.fire_time(retry.due.replace(second=0, microsecond=0), now)
    text = f"retry at {when} {of}"
    return text if len(text) <= width else fmt.clip(f"↻ {when}", width)


def _last_cell(row: JobRow, now: datetime, view: View, stale: list[datetime]) -> Text:
    last = row.last
    if last is None:
        return Text("never run", style=view.palette.muted)
    style = view.palette.for_status(last.status)
    text = Text(fmt.STATUS_SYMBOLS.get(last.status, "?"), style=style)
    if last.finished_at is not None:
        stale.append(now + timedelta(seconds=fmt.relative_stale_in(last.finished_at, now)))
        text.append(" " + fmt.relative(last.finished_at, now))
    if view.width("last") >= 16 and last.seconds is not None:
        text.append(" · " + fmt.duration(last.seconds), style=view.palette.muted)
    text.truncate(view.width("last"), overflow="ellipsis")
    return text


def _progress_cell(row: JobRow, now: datetime, width: int, palette: Palette) -> Text:
    run = row.newest_run
    if run is None:
        return Text("")
    elapsed = max(0.0, (now - run.started_at).total_seconds())
    fraction = run.fraction
    bar_width = 10 if width >= 50 else 8 if width >= 20 else 5
    if fraction is None:
        text = Text(fmt.bouncing_bar(elapsed, bar_width), style=palette.live)
        figure = "" if run.done is None else f" {run.done:g}"
    else:
        text = Text(fmt.bar(fraction, bar_width), style=palette.live)
        figure = f" {100 * fraction:.0f}%"
    text.append(figure)
    text.append(" " + fmt.format_duration(int(elapsed), compact=True), style=palette.muted)
    eta = fmt.eta_text(elapsed, row.typical_s)
    if eta and text.cell_len + len(eta) + 1 <= width:
        text.append(" " + eta, style=palette.muted)
    if run.message and text.cell_len + 3 <= width:
        text.append(" " + fmt.one_line(run.message))
    text.truncate(width, overflow="ellipsis")
    return text


# ---- sorting --------------------------------------------------------------------------

SORTABLE = ("name", "state", "next", "last", "schedule")


def sort_key(row: JobRow, column: str) -> tuple:
    """A key per column; ties fall back to the name so the order is stable."""
    name = row.job.name.casefold()
    if column == "state":
        return (STATE_ORDER.get(row.state, 9), name)
    if column in ("next", "schedule"):
        # Schedules in words ("At 09:00", "Every 5 minutes") sort nonsensically as text;
        # what an operator wants from that column is which job fires first.
        fire = row.next_fire
        return (fire is None, fire.timestamp() if fire else 0.0, name)
    if column == "last":
        # Newest result first reads naturally; never-run jobs go last.
        when = row.last.finished_at if row.last and row.last.finished_at else None
        return (when is None, -(when.timestamp()) if when else 0.0, name)
    return (name,)
