"""Text of the job detail screen: run rows, settings, next fires, statistics, live runs.

Pure functions of store rows and the clock, so the screen stays about behaviour and these
can be read (and tested) on their own. Every stored value goes through ``fmt.one_line``
or ``fmt.clip`` (controls made visible) on its way into the text.
"""

from __future__ import annotations

import json
from datetime import datetime

from rich.text import Text

from tui_scheduler.core.durations import format_duration
from tui_scheduler.core.schedule import ScheduleError, describe, parse_schedule
from tui_scheduler.core.secrets import mask_mapping
from tui_scheduler.store.models import Job, Run
from tui_scheduler.store.runs import JobStats
from tui_scheduler.ui import format as fmt
from tui_scheduler.ui.key_values import value_text


def _short(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds, compact=True)


def run_cells(run: Run, now: datetime, *, stopping: bool = False) -> tuple:
    """The cells of a run's row, in the table's column order; ``stopping``: a running run
    this console sent a stop to reads "■ stopping" until it ends."""
    shown = "stopping" if stopping and run.status == "running" else run.status
    status = Text(fmt.status_label(shown), style=fmt.STATUS_STYLES.get(shown, ""))
    end = run.finished_at or (now if run.status == "running" else None)
    seconds = (end - run.started_at).total_seconds() if end and run.started_at else None
    if run.status == "running":
        note = fmt.progress_text(run.progress_done, run.progress_total,
                                 run.progress_message) or "running"
    else:
        note = (run.error or "").splitlines()[0] if run.error else ""
    return (
        Text(str(run.id), justify="right"), status, fmt.one_line(run.trigger),
        fmt.local_time(run.scheduled_for, now), fmt.local_time(run.started_at, now),
        Text(fmt.duration(seconds), justify="right"),
        Text("-" if run.exit_code is None else str(run.exit_code), justify="right"),
        Text(str(run.attempt), justify="right"), fmt.clip(note, 60),
    )


def settings_text(job: Job) -> Text:
    """The job's settings, one per line; secret env and param values masked."""
    rows: list[tuple[str, str]] = []
    try:
        words = describe(parse_schedule(job.schedule))
    except ScheduleError as exc:
        words = f"✘ {exc}"
    rows.append(("schedule", words))
    rows.append(("", f"{job.schedule} · {job.timezone or 'local time'}"))
    rows.append((job.kind, job.target))
    timeout = fmt.duration(job.timeout_s) if job.timeout_s else "none"
    grace = fmt.duration(job.stop_grace_s)
    rows.append(("policy", f"timeout {timeout} · grace {grace} · overlap {job.overlap}"))
    retries = "no retries" if not job.retries else (
        f"{job.retries} retries, {fmt.duration(job.retry_delay_s)} ×{job.retry_backoff:g}"
        f" ≤{fmt.duration(job.retry_max_delay_s)}")
    flags = [retries, f"missed: {job.misfire}"
             + (f" ≤{job.catchup_limit}" if job.misfire == "all" else "")]
    if job.stop_on_error:
        flags.append("disable on failure")
    if job.restartable:
        flags.append("restartable")
    rows.append(("on error", " · ".join(flags)))
    marked = json.loads(job.secrets or "[]")
    env = mask_mapping(json.loads(job.env or "{}"), marked)
    if env:
        rows.append(("env", " ".join(f"{k}={v}" for k, v in sorted(env.items()))))
    params = mask_mapping(json.loads(job.params or "{}"), marked)
    if params:  # KEY=VALUE, as R, the editor and --param write them
        rows.append(("params", " ".join(f"{k}={value_text(v)}"
                                        for k, v in sorted(params.items()))))
    if marked:
        rows.append(("secret", ", ".join(marked)))
    # Each on a labelled row of its own: under a blank label they read as more params.
    if job.workdir:
        rows.append(("workdir", job.workdir))
    if job.tags:
        rows.append(("tags", job.tags.replace(",", ", ")))
    text = Text()
    for index, (label, value) in enumerate(rows):
        if index:
            text.append("\n")
        text.append(f"{label:<9}", style="dim")
        text.append(fmt.one_line(value))
    return text


def next_text(job: Job, fires: list[datetime], now: datetime) -> Text:
    """The next fires in local time with how far away they are."""
    text = Text()
    if job.deleted_at is not None:
        return Text("deleted: never fires again\nits runs are kept until purged",
                    style="yellow")
    if not job.enabled or job.paused:
        why = "deleted" if job.deleted_at else "disabled" if not job.enabled else "paused"
        text.append(f"{why}: no fires until resumed\n", style="yellow")
    if not fires:
        text.append("next   none (runs only when started)", style="dim")
    for index, fire in enumerate(fires):
        local = fire.astimezone(now.astimezone().tzinfo).strftime("%a %b %d %H:%M")
        text.append("next   " if index == 0 else "       ", style="dim")
        text.append(local)
        text.append(f" {fmt.relative(fire, now)}", style="cyan")
        if index < len(fires) - 1:
            text.append("\n")
    return text


def stats_text(stats: JobStats) -> Text:
    """Success rate and durations over the job's recent finished runs."""
    text = Text()
    if not stats.runs:
        text.append("runs   no finished runs yet", style="dim")
    else:
        rate = f"{100 * stats.success_rate:.0f}%" if stats.success_rate is not None else "-"
        text.append("ok     ", style="dim")
        text.append(f"{rate}", style="bold")
        text.append(f" of last {stats.runs}\n")
        text.append("time   ", style="dim")
        text.append(f"median {_short(stats.median_s)} · p95 {_short(stats.p95_s)}")
    return text


def live_text(running: list[Run], now: datetime) -> Text:
    """One line per running run (three at most): a bar, percent, message, elapsed."""
    text = Text()
    for index, run in enumerate(running[:3]):
        elapsed = (now - run.started_at).total_seconds() if run.started_at else 0.0
        if index:
            text.append("\n")
        text.append(f"▶ run #{run.id} ", style="bold cyan")
        if run.progress_total:
            text.append(fmt.bar(run.progress_done / run.progress_total, 20), style="cyan")
        else:
            text.append(fmt.bouncing_bar(elapsed, 20), style="cyan")
        progress = fmt.progress_text(run.progress_done, run.progress_total,
                                     run.progress_message)
        text.append(f" {progress}")
        text.append(f" · {fmt.duration(elapsed)}", style="dim")
    return text
