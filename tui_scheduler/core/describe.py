"""Plain-English descriptions of schedules, for the editor preview and the job table.

Descriptions are built from our parsed cron form (not from croniter), so they follow
the same cronie rules as the fire times, in particular the day rule: when both day
fields are restricted and neither starts with ``*`` a day matches either one ("or");
otherwise both must match ("if it is a Monday").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .cron import DAY_FULL, MONTH_FULL, CronExpr, CronField, CronItem
from .durations import format_duration

if TYPE_CHECKING:
    from .schedule_value import Schedule

# Listing every time ("At 09:00, 12:00 and 17:00") stops being readable beyond this.
_MAX_LISTED_TIMES = 8
# Monday first, so "sat,sun" reads as one run and "fri-sun" as a range.
_WEEK_ORDER = (1, 2, 3, 4, 5, 6, 0)


def describe(schedule: Schedule) -> str:
    """One line of English saying when ``schedule`` fires."""
    if schedule.kind == "cron":
        assert schedule.cron is not None
        return describe_cron(schedule.cron)
    if schedule.kind == "interval":
        assert schedule.interval_seconds is not None
        text = _every(schedule.interval_seconds)
        return f"{text} (from {_when(schedule.start)})" if schedule.start else text
    if schedule.kind == "once":
        assert schedule.at is not None
        return f"Once, at {_when(schedule.at)}"
    if schedule.kind == "reboot":
        return "When the engine starts"
    return "Manually only (never fires by itself)"


def describe_cron(expr: CronExpr) -> str:
    times = _listed_times(expr)
    time = f"At {_join(times, 'and')}" if times else _time_phrase(expr)
    day = _day_phrase(expr)
    month = _month_phrase(expr)
    if not day and times:
        day = "every day"
    if month and _single_date(expr):
        day, month = f"on {MONTH_FULL[min(expr.month.values) - 1]} {min(expr.dom.values)}", ""
    text = time
    if day:
        text += f", {day}"
    if month:
        text += f" {month}" if day == "every day" else f", {month}"
    return text


def _every(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"Every {unit}" if count == 1 else f"Every {count} {unit}s"
    if seconds < 3600:
        return "Every second" if seconds == 1 else f"Every {seconds} seconds"
    return f"Every {format_duration(seconds)}"


def _when(moment: datetime | None) -> str:
    assert moment is not None
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return text
    # isoformat's tail after "YYYY-MM-DDTHH:MM" is the offset, e.g. "+01:00".
    return f"{text} UTC" if not offset else f"{text} {moment.isoformat(timespec='minutes')[16:]}"


def _join(words: list[str], conj: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conj} {words[-1]}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _only_values(f: CronField | None) -> bool:
    return f is None or all(it.kind == "value" for it in f.items)


def _listed_times(expr: CronExpr) -> list[str]:
    fields = (expr.hour, expr.minute, expr.second)
    if not all(_only_values(f) for f in fields):
        return []
    seconds = sorted(expr.second.values) if expr.second else [0]
    if len(expr.hour.values) * len(expr.minute.values) * len(seconds) > _MAX_LISTED_TIMES:
        return []
    fmt = "{:02d}:{:02d}:{:02d}" if any(seconds) else "{:02d}:{:02d}"
    return [
        fmt.format(h, m, s)
        for h in sorted(expr.hour.values)
        for m in sorted(expr.minute.values)
        for s in seconds
    ]


def _plain_star(f: CronField) -> bool:
    return f.items == (CronItem("star", f.spec.low, f.spec.high, 1),)


def _item_text(it: CronItem, unit: str) -> str:
    if it.kind == "value":
        return str(it.start)
    if it.kind == "star":
        if it.step > 1 and (it.end - it.start + 1) % it.step:
            # */7 fires at :56 then :00; "every 7 minutes" would promise even gaps.
            return f"every {_ordinal(it.step)} {unit} from {it.start} through {it.end}"
        return f"every {it.step} {unit}s" if it.step > 1 else f"every {unit}"
    if it.step == 1:
        return f"{it.start} through {it.end}"
    return f"every {_ordinal(it.step)} {unit} from {it.start} through {it.end}"


def _unit_phrase(f: CronField, unit: str) -> tuple[bool, str]:
    """(is an "every ..." phrase, text) for a second/minute/hour field."""
    if len(f.items) == 1 and f.items[0].kind == "star":
        return True, _item_text(f.items[0], unit)
    if len(f.items) == 1 and f.items[0].kind == "range" and f.items[0].step > 1:
        return True, _item_text(f.items[0], unit)
    noun = unit if len(f.items) == 1 and f.items[0].kind == "value" else f"{unit}s"
    if any(it.kind == "star" or it.step > 1 for it in f.items):
        # A list mixing steps with other items reads best as the values it expands to.
        return False, f"{noun} {_numbers(sorted(f.values))}"
    return False, f"{noun} {_join([_item_text(it, unit) for it in f.items], 'and')}"


def _numbers(values: list[int]) -> str:
    words = []
    for run in _runs(values):
        words += [f"{run[0]} through {run[-1]}"] if len(run) >= 3 else [str(v) for v in run]
    return _join(words, "and")


def _time_phrase(expr: CronExpr) -> str:
    m_every, m_text = _unit_phrase(expr.minute, "minute")
    h_text = _unit_phrase(expr.hour, "hour")[1]
    first = expr.hour.items[0]
    if len(expr.hour.items) == 1 and first.kind == "star" and first.step > 1:
        h_text = f"every {_ordinal(first.step)} hour"  # "past every 2nd hour", not "2 hours"
    text = m_text if m_every else f"at {m_text}"
    if not _plain_star(expr.hour):
        text += f" past {h_text}"
    elif not m_every:
        text += " past every hour"
    sec = expr.second
    if sec is None or sec.values == frozenset({0}):
        return text[0].upper() + text[1:]
    s_every, s_text = _unit_phrase(sec, "second")
    lead = s_text if s_every else f"at {s_text}"
    lead = lead[0].upper() + lead[1:]
    if _plain_star(expr.minute) and _plain_star(expr.hour):
        return lead if s_every else f"{lead} past every minute"
    return f"{lead}, {text}"


def _runs(values: list[int]) -> list[list[int]]:
    """Split ``values`` (already in display order) into runs of adjacent positions."""
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return runs


def _named(values: list[int], names: tuple[str, ...], conj: str) -> tuple[str, bool]:
    """Names with runs of three or more as "A through B"; also whether it is one range."""
    words = []
    runs = _runs(values)
    for run in runs:
        if len(run) >= 3:
            words.append(f"{names[run[0]]} through {names[run[-1]]}")
        else:
            words.extend(names[v] for v in run)
    return _join(words, conj), len(runs) == 1 and len(runs[0]) >= 3


def _dow_words(dow: CronField, conj: str) -> tuple[str, bool]:
    positions = sorted(_WEEK_ORDER.index(v) for v in dow.values)
    names = tuple(DAY_FULL[d] for d in _WEEK_ORDER)
    return _named(positions, names, conj)


def _dom_phrase(dom: CronField) -> str:
    if len(dom.items) == 1 and dom.items[0].step > 1:
        it = dom.items[0]
        text = f"every {_ordinal(it.step)} day of the month"
        return text if it.kind == "star" else f"{text} from day {it.start} through {it.end}"
    noun = "day" if len(dom.values) == 1 else "days"
    return f"on {noun} {_numbers(sorted(dom.values))} of the month"


def _day_phrase(expr: CronExpr) -> str:
    dom, dow = expr.dom, expr.dow
    if not expr.day_and:
        if dom.full or dow.full:
            return ""  # cronie: either side matching every day means every day
        return f"{_dom_phrase(dom)} or on {_dow_words(dow, 'or')[0]}"
    if dow.full:
        return "" if dom.full else _dom_phrase(dom)
    if dom.full:
        words, one_range = _dow_words(dow, "and")
        return words if one_range else f"on {words}"
    if len(dow.values) == 1:
        return f"{_dom_phrase(dom)} if it is a {DAY_FULL[min(dow.values)]}"
    return f"{_dom_phrase(dom)} if it falls on {_dow_words(dow, 'or')[0]}"


def _month_phrase(expr: CronExpr) -> str:
    if expr.month.full:
        return ""
    names = ("", *MONTH_FULL)
    return "in " + _named(sorted(expr.month.values), names, "and")[0]


def _single_date(expr: CronExpr) -> bool:
    """Whether to say "on February 29" rather than "on day 29 of the month, in February"."""
    dom, month = expr.dom, expr.month
    return (
        expr.day_and
        and expr.dow.full
        and len(dom.values) == 1
        and len(month.values) == 1
        and _only_values(dom)
        and _only_values(month)
    )
