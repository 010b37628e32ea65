"""One run: its header (status, progress, timing, exit code) and its full output.

Opening is instant whatever the size of the log: the tail is read first, older chunks
are paged in as the reader scrolls up (or all at once for a search or a jump to the
first error). While the run is going, a thread worker polls for new chunks three times
a second and the view follows the end until the reader scrolls up or presses ``f``.

Past its cap the engine keeps a run's head and a rolling tail and drops the middle, so
what a live view appended is not what is stored (lines since dropped, no marker). For
such a run the view is read again from the tail once it holds ``LIVE_MAX_BYTES`` of live
output, and once more when the run ends: a flood cannot grow the console without bound,
and the finished log matches the stored one, marker included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, ProgressBar, Static

from tui_scheduler.core.policies import ACTIVE_STATUSES
from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.core.secrets import mask_values
from tui_scheduler.store.jobs import get_job_by_id, job_secret_values
from tui_scheduler.store.models import Run
from tui_scheduler.store.output import read_chunks, read_chunks_before
from tui_scheduler.store.runs import RunNotFound, get_run
from tui_scheduler.ui import format as fmt
from tui_scheduler.ui.widgets.fit_footer import FitFooter
from tui_scheduler.ui.widgets.log_view import Line, LogView, clean_lines

POLL_S = 0.33
# A page of older output: enough lines to fill several screens, bounded in bytes so a
# page of 64 KiB chunks stays quick to read.
PAGE_LINES = 2000
PAGE_BYTES = 1024 * 1024
# Chunks are up to 64 KiB (a bulk writer) or a few lines (a slow one): ask for a few
# first and for more each round, so both kinds of log fill a page in a few queries.
FIRST_QUERY_CHUNKS = 4
MAX_QUERY_CHUNKS = 256
NEW_CHUNKS_LIMIT = 256
# Live output a view of a truncated run may hold before it is read again from the tail.
LIVE_MAX_BYTES = 16 * 1024 * 1024


@dataclass
class Batch:
    """Lines read by a worker, and where they sit in the run's chunk sequence."""

    lines: list[Line]
    width: int
    first_seq: int | None
    last_seq: int | None
    more_older: bool = False
    nbytes: int = 0


def read_older(store, run_id: int, before_seq: int | None, *, everything: bool = False,
               secrets: Sequence[str] = ()) -> Batch:
    """Chunks before ``before_seq`` (the end when None), newest pages first, until a page of
    lines (or all of them) is read. Every query is indexed and LIMITed."""
    chunks = []
    lines = nbytes = 0
    more = True
    limit = FIRST_QUERY_CHUNKS
    while everything or (lines < PAGE_LINES and nbytes < PAGE_BYTES):
        page = read_chunks_before(store, run_id, before_seq=before_seq, limit=limit)
        chunks[0:0] = page
        lines += sum(c.lines for c in page)
        nbytes += sum(c.nbytes for c in page)
        if len(page) < limit:
            more = False
            break
        before_seq = page[0].seq
        limit = min(limit * 2, MAX_QUERY_CHUNKS)
    return _batch(chunks, secrets, more_older=more)


def _batch(chunks, secrets: Sequence[str] = (), *, more_older: bool = False) -> Batch:
    """Chunks as display lines, the job's known secret values masked."""
    lines: list[Line] = []
    width = 0
    for chunk in chunks:
        part, part_width = clean_lines(chunk.stream, mask_values(chunk.text, secrets))
        lines.extend(part)
        width = max(width, part_width)
    first = chunks[0].seq if chunks else None
    last = chunks[-1].seq if chunks else None
    return Batch(lines, width, first, last, more_older, sum(c.nbytes for c in chunks))


class RunLogScreen(Screen[None]):
    """A run's header and output: follow, search and jump to the first error."""

    CSS_PATH = "../job_screens.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="log.back"),
        Binding("f", "toggle_follow", "Follow", id="log.follow"),
        Binding("slash", "search", "Search", id="log.search", key_display="/"),
        Binding("n", "next_match(True)", "Next", id="log.next"),
        Binding("N", "next_match(False)", "Prev", id="log.previous"),
        Binding("E", "first_error", "First error", id="log.first_error"),
        Binding("g", "top", "Top", show=False, id="log.top"),
        Binding("G", "bottom", "Bottom", show=False, id="log.bottom"),
        Binding("j", "scroll(1)", "Down", show=False, id="log.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="log.up"),
    ]

    class Loaded(Message):
        """Lines (and the run row) read by a worker."""

        def __init__(self, batch: Batch, *, run: Run | None = None, job_name: str = "",
                     where: str = "end", generation: int = 0) -> None:
            super().__init__()
            self.batch = batch
            self.run = run
            self.job_name = job_name
            self.where = where
            """"end" (new output) or "start" (older output)."""
            self.generation = generation
            """The screen's generation when the read began (a reload starts a new one)."""

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        """The run shown."""
        self.run: Run | None = None
        """The run row as last read."""
        self.job_name = ""
        self._secrets: list[str] = []
        """The job's secret values, masked wherever its output prints them."""
        self._polling = False
        self._poller = None
        self._pending: str | None = None
        self._shown: dict[str, Text] = {}
        self._generation = 0
        self._start_reading()

    def _start_reading(self) -> None:
        """Forget what was read: the log is (re)read from its tail."""
        self._first_seq: int | None = None
        self._last_seq = 0
        self._more_older = False
        self._busy_older = False
        self._loaded = False
        self._live_bytes = 0
        """Bytes of output appended while the run was going, since the last (re)load."""
        self._holding = False
        """New output of a truncated run is left unread while the reader scrolls."""

    def compose(self) -> ComposeResult:
        yield Static(f"Run #{self.run_id}", id="log-title", classes="screen-title")
        yield Static(id="log-header")
        with Horizontal(id="log-progress"):
            yield ProgressBar(show_eta=False)
            yield Static(id="log-progress-text")
        yield LogView(id="log-view")
        yield Input(placeholder="search (enter: find, escape: close)", id="log-search")
        yield Static(id="log-status")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one(LogView).focus()
        self._load_tail(self._generation)

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    # ---- reading (thread workers) -----------------------------------------------------

    @work(thread=True, group="run-log", exit_on_error=False)
    def _load_tail(self, generation: int) -> None:
        store = self.app.store
        try:
            run = get_run(store, self.run_id)
        except RunNotFound as exc:
            self.app.call_from_thread(self.query_one("#log-header", Static).update, str(exc))
            return
        job = get_job_by_id(store, run.job_id)
        # Set before the first read; every later read starts after that one is applied.
        self._secrets = job_secret_values(job, run.params)
        batch = read_older(store, self.run_id, None, secrets=self._secrets)
        self.post_message(self.Loaded(batch, run=run, job_name=job.name if job else "?",
                                      where="start", generation=generation))

    @work(thread=True, group="run-log-older", exit_on_error=False)
    def _load_older(self, before_seq: int, everything: bool = False,
                    generation: int = 0) -> None:
        try:
            batch = read_older(self.app.store, self.run_id, before_seq, everything=everything,
                               secrets=self._secrets)
        except Exception:
            self._busy_older = False
            raise
        self.post_message(self.Loaded(batch, where="start", generation=generation))

    def _poll(self) -> None:
        if not self._polling and self._loaded:
            self._polling = True
            self._read_new(self._last_seq, self._generation,
                           self.view.follow or not self._holding)

    @work(thread=True, group="run-log-poll", exit_on_error=False)
    def _read_new(self, after_seq: int, generation: int, output: bool = True) -> None:
        try:
            # The row first: once it says finished, every chunk is already committed.
            run = get_run(self.app.store, self.run_id)
            chunks = read_chunks(self.app.store, self.run_id, after_seq=after_seq,
                                 limit=NEW_CHUNKS_LIMIT) if output else []
        except Exception:
            self._polling = False
            raise
        # _polling is cleared when this is applied, so no second read overlaps it.
        self.post_message(self.Loaded(_batch(chunks, self._secrets), run=run, where="end",
                                      generation=generation))

    # ---- applying what was read ---------------------------------------------------------

    def on_run_log_screen_loaded(self, message: Loaded) -> None:
        batch, view = message.batch, self.view
        if message.generation != self._generation:  # read before a reload: stale
            if message.where == "start":
                self._busy_older = False
            else:
                self._polling = False
            return
        if message.job_name:
            self.job_name = message.job_name
        if message.where == "start":
            self._busy_older = False
            self._more_older = batch.more_older
            if batch.first_seq is not None:
                self._first_seq = batch.first_seq
            if not self._loaded:
                self._loaded = True
                self._last_seq = batch.last_seq or 0
                active = message.run is not None and message.run.status in ACTIVE_STATUSES
                if self._generation:  # a re-read (see _reread): new lines, same follow
                    view.follow = active and view.follow
                    view.replace(batch.lines, batch.width)
                else:
                    view.follow = active
                    view.append(batch.lines, batch.width)
                    view.scroll_to_end()
            else:
                view.prepend(batch.lines, batch.width)
        else:
            self._polling = False
            if message.run is not None and self._reread(message.run, batch):
                return
            if batch.last_seq is not None and batch.last_seq > self._last_seq:
                self._last_seq = batch.last_seq
                self._live_bytes += batch.nbytes
                view.append(batch.lines, batch.width)
        if message.run is not None:
            self._show_run(message.run)
        if self._pending and message.where == "start":
            self._continue_pending()
        self._status()
        if self._more_older and not self._busy_older and view.scroll_y < view.size.height:
            self.on_log_view_near_top()

    def _reread(self, run: Run, batch: Batch) -> bool:
        """For a run whose output the engine truncates: read the log again from the tail
        instead of appending (True), or drop new output while the reader looks elsewhere."""
        if not run.output_truncated or (not self._live_bytes and not batch.nbytes):
            return False
        active = run.status in ACTIVE_STATUSES
        if active and self._live_bytes + batch.nbytes <= LIVE_MAX_BYTES:
            return False
        if active and not self.view.follow:
            # The reader scrolled up: keep their lines, leave new output unread until
            # they follow again (f), and keep the header current.
            self._holding = True
            self._show_run(run)
            return True
        self._generation += 1
        self._start_reading()
        self._show_run(run)  # the old lines stay on screen until the tail is read
        self._load_tail(self._generation)
        return True

    def _show_run(self, run: Run) -> None:
        self.run = run
        active = run.status in ACTIVE_STATUSES
        if active and self._poller is None:
            self._poller = self.set_interval(POLL_S, self._poll)
        elif not active and self._poller is not None and not self._polling:
            # One more read after the final status picks up the last flushed lines.
            self._poller.stop()
            self._poller = None
            self._poll()
        now = self._now()
        end = run.finished_at or (now if run.status == "running" else None)
        seconds = (end - run.started_at).total_seconds() if end and run.started_at else None
        title = Text(f"{fmt.one_line(self.job_name)} · run #{run.id} · ", style="bold")
        title.append(fmt.status_label(run.status), style=fmt.STATUS_STYLES.get(run.status, ""))
        self._show("#log-title", title)
        head = Text()
        head.append("trigger ", style="dim").append(f"{fmt.one_line(run.trigger)}   ")
        head.append("attempt ", style="dim").append(f"{run.attempt}   ")
        head.append("scheduled ", style="dim")
        head.append(f"{fmt.local_time(run.scheduled_for, now)}   ")
        head.append("started ", style="dim").append(f"{fmt.local_time(run.started_at, now)}\n")
        head.append("elapsed " if run.status == "running" else "duration ", style="dim")
        head.append(f"{fmt.duration(seconds)}   ")
        head.append("exit code ", style="dim")
        head.append("-" if run.exit_code is None else str(run.exit_code))
        if run.host:
            head.append("   host ", style="dim").append(fmt.one_line(run.host))
        if run.output_truncated:
            head.append("   output truncated (see »)", style="yellow")
        if run.error:
            head.append("\nerror ", style="bold red").append(
                safe_text(mask_values(run.error, self._secrets)), style="red")
        self._show("#log-header", head)
        bar = self.query_one(ProgressBar)
        has_progress = run.progress_done is not None
        self.query_one("#log-progress").set_class(has_progress or run.status == "running",
                                                  "-shown")
        if has_progress and run.progress_total:
            bar.update(total=run.progress_total, progress=run.progress_done)
        elif run.status == "running":
            bar.update(total=None)  # indeterminate: the run reports no progress
        message = run.progress_message or ("" if has_progress else "no progress reported")
        self._show("#log-progress-text", Text(fmt.one_line(message)))

    def _status(self) -> None:
        view = self.view
        parts = ["following" if view.follow else "not following (f)",
                 fmt.count(len(view.lines), "line")
                 + (" (older above)" if self._more_older else "")]
        if view.needle:
            number, count = view.match_position()
            needle = fmt.one_line(view.needle)  # typed, or pasted from the log
            parts.append(f"/{needle}: {number}/{count}" if count else f"/{needle}: no match")
        parts.append("┃ stderr  » marker")
        self._show("#log-status", Text("  ·  ".join(parts)))

    def _show(self, selector: str, text: Text) -> None:
        """Update a line only when its text changed: polls come three times a second."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    # ---- scrolling and following ---------------------------------------------------------

    def on_log_view_near_top(self, message: LogView.NearTop | None = None) -> None:
        if self._more_older and not self._busy_older and self._first_seq is not None:
            self._busy_older = True
            self._load_older(self._first_seq, False, self._generation)

    def on_log_view_follow_changed(self, message: LogView.FollowChanged) -> None:
        self._status()

    def action_toggle_follow(self) -> None:
        self.view.set_follow(not self.view.follow)
        self._status()

    def action_top(self) -> None:
        self.view.set_follow(False)
        self.view.scroll_home(animate=False, immediate=True)

    def action_bottom(self) -> None:
        # On a live run the end is where new lines arrive: G follows them again, as in less.
        if self.run is not None and self.run.status in ACTIVE_STATUSES:
            self.view.set_follow(True)
            self._status()
        self.view.scroll_to_end()

    def action_scroll(self, step: int) -> None:
        self.view.scroll_relative(y=step, animate=False, immediate=True)

    # ---- search and first error ----------------------------------------------------------

    def _whole_log_then(self, task: str) -> bool:
        """Load all older output first (in a worker) and then do ``task``; True if so."""
        if not self._more_older or self._first_seq is None:
            return False
        self._pending = task
        if not self._busy_older:
            self._busy_older = True
            self._load_older(self._first_seq, True, self._generation)
        # else: the page being read arrives first; _continue_pending goes on from there.
        return True

    def _continue_pending(self) -> None:
        if self._more_older and not self._busy_older and self._first_seq is not None:
            self._busy_older = True
            self._load_older(self._first_seq, True, self._generation)
            return
        task, self._pending = self._pending, None
        if task == "first_error":
            self._jump_first_error()
        elif task == "search":
            self._run_search()

    def action_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.add_class("-shown")
        search.focus()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._close_search()
        if not self._whole_log_then("search"):
            self._run_search()

    def _run_search(self) -> None:
        needle = self.query_one("#log-search", Input).value
        self.view.search(needle)
        if needle and self.view.next_match(True) is None:
            self.notify(f"No line contains {needle!r}.", severity="warning", markup=False)
        self._status()

    def _close_search(self) -> None:
        self.query_one("#log-search", Input).remove_class("-shown")
        self.view.focus()

    def action_next_match(self, forward: bool) -> None:
        if not self.view.needle:
            self.action_search()
            return
        self.view.next_match(forward)
        self._status()

    def action_first_error(self) -> None:
        if not self._whole_log_then("first_error"):
            self._jump_first_error()

    def _jump_first_error(self) -> None:
        line = self.view.first_error()
        if line is None:
            self.notify("No error lines: nothing on stderr, nothing like error, fail, "
                        "traceback or exception.")
            return
        self.view.jump_to(line)
        self._status()

    # ---- engine messages (re-posted by the app) and leaving -------------------------------

    def on_run_output(self, message: Message) -> None:
        if getattr(message, "run_id", None) == self.run_id and self._loaded:
            self._poll()

    def on_run_finished(self, message: Message) -> None:
        self.on_run_output(message)

    def _now(self) -> datetime:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else datetime.now(UTC)

    def action_back(self) -> None:
        search = self.query_one("#log-search", Input)
        if search.has_class("-shown"):
            self._close_search()
            return
        self.dismiss(None)
