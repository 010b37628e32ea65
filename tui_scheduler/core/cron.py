"""Cron expressions as cronie (Vixie cron) reads them: parsing, validation, parsed form.

We parse with our own code before croniter ever sees the text, for two reasons: the
errors must name the field and say what is wrong in words an operator understands, and
croniter departs from cronie in ways that change fire times (it treats a full-range day
field such as ``1-31`` as ``*``, which silently flips cronie's day-of-month /
day-of-week OR rule into AND). The parsed form therefore carries both what the user
wrote (for descriptions) and a normalised expression that makes croniter behave like
cronie (for fire times, see ``firetimes.py``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_FULL = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
DAY_FULL = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# Feb 29 exists in leap years, so only days 30 and 31 can make an expression impossible.
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
MACRO_HINT = "use @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually or @reboot"
FIELD_COUNT_HINT = (
    "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds"
)


class ScheduleError(ValueError):
    """A schedule text that cannot be used; ``str(e)`` is one line fit to show a user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """Which part was wrong: "minute", "day-of-week", "interval", "zone", ... or None."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Three-letter names; ``names[i]`` stands for the value ``low_name + i``."""
    name_base: int = 0


SECOND = FieldSpec("second", 0, 59)
MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DOM = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec("month", 1, 12, MONTH_NAMES, 1)
# cronie accepts 7 as a second Sunday; values are folded to 0 after parsing.
DOW = FieldSpec("day-of-week", 0, 7, DAY_NAMES, 0)


@dataclass(frozen=True)
class CronItem:
    """One comma-separated piece of a field, kept so descriptions can follow the text."""

    kind: str
    """"star" (``*`` or ``*/n``), "value" (``5``) or "range" (``1-5``, ``1-5/2``, ``5/2``)."""
    start: int
    end: int
    step: int = 1


@dataclass(frozen=True)
class CronField:
    spec: FieldSpec
    text: str
    """The field as written, lower-cased."""
    items: tuple[CronItem, ...]
    values: frozenset[int]
    """Matching values; day-of-week uses 0-6 (Sunday is 0)."""

    @property
    def star(self) -> bool:
        """cronie decides the day rule and DST behaviour on the text's first character."""
        return self.text.startswith("*")

    @property
    def full(self) -> bool:
        high = 6 if self.spec is DOW else self.spec.high
        return len(self.values) == high - self.spec.low + 1


@dataclass(frozen=True)
class CronExpr:
    text: str
    """Canonical text: lower-case fields joined by single spaces, or the macro as written."""
    second: CronField | None
    minute: CronField
    hour: CronField
    dom: CronField
    month: CronField
    dow: CronField
    macro: str | None = None
    croniter_expr: str = field(default="", compare=False, repr=False)
    """Normalised expression (explicit value lists) that croniter evaluates like cronie."""
    croniter_day_or: bool = field(default=True, compare=False, repr=False)

    @property
    def day_and(self) -> bool:
        """cronie ANDs the two day fields when either one's text starts with ``*``."""
        return self.dom.star or self.dow.star

    @property
    def fixed_time(self) -> bool:
        """cronie's DST rule: only jobs with no leading ``*`` in the time fields are fixed."""
        fields = (self.second, self.minute, self.hour)
        return not any(f.star for f in fields if f is not None)


def printable(text: str) -> str:
    """Quote-safe, single-line rendering of user text for error messages."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class _FieldError(Exception):
    """Internal: a reason, to be prefixed with the field's name and text."""


_ALLOWED = re.compile(r"[0-9a-z*,/\-]*", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_LETTERS = re.compile(r"[a-z]+", re.ASCII)


def _bad_char(text: str) -> str:
    ch = next(c for c in text if not _ALLOWED.fullmatch(c))
    if ch.isnumeric():
        return f"'{printable(ch)}' is not an ASCII digit (use 0-9)"
    if ch == "?":
        return "'?' is not supported by cron (use *)"
    if ch == "#":
        return "'#' (nth weekday of the month) is not supported by cron"
    if ch == "+":
        return "signs are not allowed"
    return f"unexpected character '{printable(ch)}'"


def _unsupported_letters(spec: FieldSpec, item: str) -> str | None:
    if spec is DOM and (item in ("l", "lw") or re.fullmatch(r"[0-9]+w", item)):
        what = "'W' (nearest weekday)" if item.endswith("w") else "'L' (last day of the month)"
        return f"{what} is not supported by cron"
    if spec is DOW and (item == "l" or re.fullmatch(r"([0-9]+|[a-z]{3})l", item)):
        return "'L' (last weekday of the month) is not supported by cron"
    return None


def _value(spec: FieldSpec, token: str) -> int:
    if token == "":
        raise _FieldError("missing value")
    if token == "*":
        raise _FieldError("'*' must stand alone or be followed by /step")
    if _DIGITS.fullmatch(token):
        value = int(token)
        if not spec.low <= value <= spec.high:
            raise _FieldError(f"{value} is out of range {spec.low}-{spec.high}")
        return value
    if _LETTERS.fullmatch(token):
        if not spec.names:
            raise _FieldError(f"'{token}' is not a number")
        if token in spec.names:
            return spec.names.index(token) + spec.name_base
        kind = "month" if spec is MONTH else "day"
        raise _FieldError(f"unknown {kind} name '{token}' (use {spec.names[0]}-{spec.names[-1]})")
    raise _FieldError(f"'{token}' is not a valid value")


def _item(spec: FieldSpec, text: str) -> CronItem:
    if text == "":
        raise _FieldError("empty list item")
    if text.startswith("-"):
        raise _FieldError("signs are not allowed")
    reason = _unsupported_letters(spec, text)
    if reason:
        raise _FieldError(reason)
    base, slash, step_text = text.partition("/")
    step = 1
    if slash:
        if "/" in step_text:
            raise _FieldError(f"'{text}' has more than one '/'")
        if step_text == "":
            raise _FieldError(f"'{text}' has no step after '/'")
        if not _DIGITS.fullmatch(step_text):
            raise _FieldError(f"step '{step_text}' is not a number")
        step = int(step_text)
        if step == 0:
            raise _FieldError("step 0 is not allowed (use 1 or more)")
    if base == "*":
        return CronItem("star", spec.low, spec.high, step)
    low_text, dash, high_text = base.partition("-")
    if not dash:
        value = _value(spec, base)
        # cronie reads "a/n" as "a to the field's maximum, every n".
        return (
            CronItem("range", value, spec.high, step) if slash else CronItem("value", value, value)
        )
    if high_text == "":
        raise _FieldError(f"range '{base}' has no end")
    if "-" in high_text:
        raise _FieldError(f"'{base}' is not a valid range")
    low, high = _value(spec, low_text), _value(spec, high_text)
    if low > high:
        raise _FieldError(f"range start {low} is after end {high}")
    return CronItem("range", low, high, step)


def parse_field(spec: FieldSpec, text: str) -> CronField:
    """Parse one field; raises ScheduleError naming the field."""
    lowered = text.lower()
    try:
        if not _ALLOWED.fullmatch(lowered):
            raise _FieldError(_bad_char(lowered))
        items = tuple(_item(spec, part) for part in lowered.split(","))
    except _FieldError as exc:
        raise ScheduleError(f"{spec.name} field '{printable(text)}': {exc}", spec.name) from None
    values: set[int] = set()
    for it in items:
        values.update(range(it.start, it.end + 1, it.step))
    if spec is DOW and 7 in values:
        values.discard(7)
        values.add(0)
    return CronField(spec, lowered, items, frozenset(values))


def _join(words: list[str], conj: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conj} {words[-1]}"


def _check_possible(expr_text: str, dom: CronField, month: CronField, day_and: bool) -> None:
    # Under the OR rule the day-of-week side always contributes days. Only the AND rule
    # (which a plain "*" day-of-week also selects) can leave no (month, day) pair.
    if not day_and:
        return
    if any(d <= DAYS_IN_MONTH[m - 1] for m in month.values for d in dom.values):
        return
    months = [MONTH_FULL[m - 1] for m in sorted(month.values)]
    days = [str(d) for d in sorted(dom.values)]
    verb = "has" if len(months) == 1 else "have"
    noun = "day" if len(days) == 1 else "days"
    raise ScheduleError(
        f"'{expr_text}' can never fire: {_join(months, 'and')} {verb} no {noun} "
        f"{_join(days, 'or')}",
        DOM.name,
    )


def _croniter_form(fields: list[CronField], dom: CronField, dow: CronField) -> tuple[str, bool]:
    def explicit(f: CronField) -> str:
        return "*" if f.full else ",".join(str(v) for v in sorted(f.values))

    parts = [explicit(f) for f in fields]
    day_and = dom.star or dow.star
    if not day_and and (dom.full or dow.full):
        # OR with a side that matches every day is every day; croniter would AND it.
        parts[-3] = parts[-1] = "*"
    # Explicit lists never start with "*", so croniter's own star test cannot fire;
    # day_or carries cronie's decision instead.
    return " ".join(parts), not day_and


@functools.lru_cache(maxsize=1024)
def parse_cron(text: str) -> CronExpr:
    """Parse a 5- or 6-field cron expression or a cron macro (not @reboot)."""
    parts = text.split()
    if len(parts) == 1 and parts[0].startswith("@"):
        macro = parts[0].lower()
        if macro not in MACROS:
            raise ScheduleError(f"unknown macro '{printable(parts[0])}': {MACRO_HINT}")
        expr = parse_cron(MACROS[macro])
        return CronExpr(
            macro, expr.second, expr.minute, expr.hour, expr.dom, expr.month, expr.dow,
            macro, expr.croniter_expr, expr.croniter_day_or,
        )  # fmt: skip
    if len(parts) not in (5, 6):
        raise ScheduleError(f"{FIELD_COUNT_HINT}, got {len(parts)}")
    specs = ([SECOND] if len(parts) == 6 else []) + [MINUTE, HOUR, DOM, MONTH, DOW]
    fields = [parse_field(spec, part) for spec, part in zip(specs, parts, strict=True)]
    second = fields[0] if len(parts) == 6 else None
    minute, hour, dom, month, dow = fields[-5:]
    canonical = " ".join(f.text for f in fields)
    _check_possible(canonical, dom, month, dom.star or dow.star)
    engine_expr, day_or = _croniter_form(fields, dom, dow)
    return CronExpr(canonical, second, minute, hour, dom, month, dow, None, engine_expr, day_or)
