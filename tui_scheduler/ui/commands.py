"""The command palette (ctrl+p): every action by name, plus "run"/"open" for each job.

Actions on "the selected job" act on the job table's cursor row; the per-job commands
name the job, so any job is one search away from any screen. Searching reads only the
table's in-memory rows, never the database. Job names are stored text: shown with
controls made visible and never read as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from tui_scheduler.core.safe_text import safe_text

Command = tuple[str, str, Callable[[], object]]


class JobCommands(Provider):
    """Commands of the tui-scheduler console."""

    def _commands(self) -> Iterator[Command]:
        from tui_scheduler.ui.screens.home import HomeScreen

        app = self.app
        home: HomeScreen = app.home
        if isinstance(self.screen, HomeScreen):
            yield from [
                ("Run the selected job now", "r", home.action_run),
                ("Run the selected job with parameters", "R", home.action_run_params),
                ("Pause or resume the selected job", "p", home.action_pause),
                ("Stop the selected job's run", "s (asks first)", home.action_stop),
                ("Enable or disable the selected job", "x", home.action_toggle_enabled),
                ("Delete the selected job", "d (asks first; history stays)",
                 home.action_delete),
                ("Edit the selected job", "e", home.action_edit),
                ("Open the selected job's details and runs", "enter", home.action_open),
                ("Filter jobs by name or tag", "/", home.action_filter),
                ("Clear the job filter", "escape", home.action_clear_filter),
                ("Sort the jobs by the next column", "o", home.action_sort),
                ("Sort the jobs by the previous column", "O",
                 lambda: home.action_sort(-1)),
                ("Show schedules as cron text or in words", "c", home.action_toggle_cron),
                ("Mute or unmute the selected job's failure toasts", "m", home.action_mute),
            ]
        yield ("New job", "n", home.action_new)
        yield ("Deleted jobs: their runs and logs", "D (kept until purged)",
               app.open_deleted_jobs)
        yield ("Show every key", "?", app.action_help)
        yield ("Quit tui-scheduler", "q (asks first when runs are active)", app.action_quit)
        for row in list(home.table.rows_by_id.values()):
            name = safe_text(row.job.name, one_line=True)
            yield (f"Open job {name}", "details and runs", partial(app.open_detail, row.job_id))
            yield (f"Run job {name} now", "a manual run", partial(app.request_run, row.job_id))

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            if not title.startswith(("Open job ", "Run job ")):
                yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, _highlight(matcher, title), callback, help=help_text)


def _highlight(matcher: Matcher, title: str) -> Content:
    """``title`` with the matched letters styled, as ``Matcher.highlight`` does, but as
    plain text: that one parses its argument as markup."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
