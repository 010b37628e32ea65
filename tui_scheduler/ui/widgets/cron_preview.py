"""Live preview of a schedule: what it means in words, when it fires next, or what is wrong.

The fire times come from ``core.schedule.next_fires``, the function the engine's trigger
uses, so the preview cannot disagree with what runs. Each check is pure computation
(well under 2 ms), cheap enough to run on every keystroke in the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import pairwise

from rich.text import Text
from textual.widgets import Static

from tui_scheduler.core.cron import ScheduleError
from tui_scheduler.core.schedule import describe, next_fires, parse_schedule, resolve_zone
from tui_scheduler.ui.format import one_line, relative

FIRES = 10
# Short names for the ruler under a cron expression; ScheduleError.field uses the long ones.
_FIELD_LABELS = {
    "second": "second", "minute": "minute", "hour": "hour", "day-of-month": "day",
    "month": "month", "day-of-week": "weekday",
}  # fmt: skip
_FIVE = ("minute", "hour", "day-of-month", "month", "day-of-week")


@dataclass(frozen=True)
class PreviewResult:
    """What one check found; the form shows the problems beside their fields."""

    schedule_error: str | None = None
    zone_error: str | None = None
    fires: tuple[datetime, ...] = ()


def _cron_tokens(text: str) -> tuple[str, ...] | None:
    """Field names for a text that looks like a cron expression (5 or 6 words), else None."""
    words = text.split()
    if not words or words[0].lower() in ("every", "at", "now", "manual") or words[0][0] == "@":
        return None
    if len(words) == 5:
        return _FIVE
    if len(words) == 6:
        return ("second", *_FIVE)
    return None


def _ruler(text: str, bad_field: str | None) -> list[Text]:
    """Labels over the words of a cron expression; the bad word highlighted and underlined
    with carets, so the pointer does not depend on colour."""
    names = _cron_tokens(text)
    if names is None:
        return []
    words = text.split()
    labels, values, carets = Text("  "), Text("  "), Text("  ")
    for name, word in zip(names, words, strict=False):
        width = max(len(word), len(_FIELD_LABELS[name])) + 2
        bad = name == bad_field
        labels.append(_FIELD_LABELS[name].ljust(width), style="bold red" if bad else "dim")
        values.append(word, style="reverse bold red" if bad else "bold")
        values.append(" " * (width - len(word)))
        carets.append(("^" * len(word)).ljust(width) if bad else " " * width, style="bold red")
    lines = [labels, values]
    if bad_field in names:
        lines.append(carets)
    return lines


def _stamp(when: datetime, zone: tzinfo, seconds: bool) -> str:
    here = when.astimezone(zone)
    return here.strftime("%a %Y-%m-%d %H:%M" + (":%S" if seconds else "") + " %Z")


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def _fire_lines(fires: list[datetime], zone: tzinfo, local: tzinfo,
                now: datetime) -> list[Text]:
    if not fires:
        return [Text("⚠ never fires again: the time has passed", style="bold yellow")]
    seconds = any(f.second for f in fires)
    # Fires under a minute apart would all read "in 1m": count seconds then.
    close = any((b - a).total_seconds() < 60 for a, b in pairwise(fires))
    relatives = [relative(fire, now, seconds=close) for fire in fires]
    rel_width = max(8, *(len(text) for text in relatives)) + 2
    same = _zone_name(zone) == _zone_name(local)
    title = f"{_zone_name(zone)} (job zone)"
    width = max(len(_stamp(fires[0], zone, seconds)), len(title)) + 2
    head = Text("  " + "next".ljust(rel_width), style="dim")
    head.append(title.ljust(width), style="bold")
    if not same:
        head.append(f"local ({_zone_name(local)})", style="bold")
    lines = [head]
    for fire, when in zip(fires, relatives, strict=True):
        line = Text(f"  {when:<{rel_width}}", style="cyan")
        line.append(_stamp(fire, zone, seconds).ljust(width))
        if not same:
            line.append(_stamp(fire, local, seconds), style="dim")
        lines.append(line)
    if same:
        lines[0].append("= local", style="dim")
    return lines


def build_preview(text: str, zone_name: str, now: datetime, *, anchor: datetime | None = None,
                  local: tzinfo | None = None) -> tuple[PreviewResult, Text]:
    """What the preview shows for a schedule text in a zone: pure, no widget needed."""
    local = local or resolve_zone(None)
    body: list[Text] = []
    schedule_error = zone_error = None
    zone = None
    try:
        zone = resolve_zone(zone_name or None)
    except ScheduleError as exc:
        zone_error = str(exc)
    try:
        schedule = parse_schedule(text, now=now)
    except ScheduleError as exc:
        schedule_error = str(exc)
        schedule = None
        body.append(Text.assemble(("✘ ", "bold red"), ("invalid schedule", "bold red")))
        # What was typed (or stored) is echoed: its controls are made visible.
        body.extend(_ruler(one_line(" ".join(text.split())), exc.field))
        body.append(Text(f"  {one_line(exc)}", style="red"))
    fires: list[datetime] = []
    if schedule is not None:
        body.append(Text.assemble(("✔ ", "bold green"), (describe(schedule), "bold")))
        body.extend(_ruler(schedule.text if schedule.kind == "cron" else "", None))
        if zone_error:
            # The form shows the zone's problem beside the zone field.
            body.append(Text("✘ no fire times until the time zone is fixed", style="red"))
        elif not schedule.fires_by_clock:
            body.append(Text("  No fires by the clock.", style="dim"))
        else:
            fires = next_fires(schedule, now, zone, FIRES, anchor=anchor)
            body.extend(_fire_lines(fires, zone, local, now))
    return PreviewResult(schedule_error, zone_error, tuple(fires)), Text("\n").join(body)


class CronPreview(Static):
    """Words, the next fires (job zone and local) or a pointer at the bad field."""

    DEFAULT_CSS = """
    CronPreview {
        height: auto;
        padding: 0 1;
        border: round $primary 50%;
        border-title-color: $text-muted;
    }
    CronPreview.-invalid {
        border: round $error;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Preview"
        self.result = PreviewResult()
        """The outcome of the last check."""

    def check(self, text: str, zone_name: str, now: datetime, *,
              anchor: datetime | None = None, local: tzinfo | None = None) -> PreviewResult:
        """Validate ``text`` in ``zone_name`` and show the result; returns what was found.

        ``anchor`` is the job's creation time for an existing job (intervals count from
        it, as in the engine); ``local`` is the operator's zone (the machine's by default).
        """
        self.result, body = build_preview(text, zone_name, now, anchor=anchor, local=local)
        self.set_class(bool(self.result.schedule_error or self.result.zone_error), "-invalid")
        self.update(body)
        return self.result
