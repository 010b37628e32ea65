"""Validation of job definitions, shared by the CLI, the editor and TOML import.

``validate_job_fields`` takes raw field values and returns clean ones or raises
``JobSpecError`` listing every problem, so nothing half-valid ever reaches the database.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

from tui_scheduler.core.policies import JobKind, Misfire, Overlap

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99}$")
PYTHON_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
MAX_TIMEOUT_S = 30 * 86400
MAX_RETRIES = 100
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
"""A parameter reaches a command as ``$PARAM_<NAME>`` (``.`` and ``-`` turned into ``_``):
a name with a space, a terminal control or 200 characters is a mistake, refused."""
SECRET_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
KIB = 1024
# Sizes in UTF-8 bytes. Generous for real use; they keep one job from costing seconds and
# hundreds of MB every time a screen or `show` renders it.
MAX_BYTES = {"description": 4 * KIB, "target": 64 * KIB, "workdir": 4 * KIB}
MAX_VALUE_BYTES = 64 * KIB  # one env or param value
MAX_KEY_BYTES = 256  # one env or param name
MAX_ENTRIES = 256  # env or param entries per job
MAX_TAG_CHARS = 64
MAX_TAGS = 50

DEFAULTS: dict[str, Any] = {
    "description": "", "kind": "command", "target": "", "schedule": "manual", "timezone": "",
    "enabled": True, "paused": False, "timeout_s": None, "stop_grace_s": 10.0, "retries": 0,
    "retry_delay_s": 30.0, "retry_backoff": 2.0, "retry_max_delay_s": 3600.0, "overlap": "skip",
    "misfire": "skip", "catchup_limit": 10, "stop_on_error": False, "restartable": False,
    "params": {}, "env": {}, "secrets": [], "workdir": "", "tags": [], "engines": "",
}
FIELDS = ("name", *DEFAULTS)


def param_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a parameter's name (it becomes ``PARAM_<NAME>`` in a job's
    environment), or None; the one rule for job defaults, ``run --param`` and the forms."""
    if PARAM_NAME.fullmatch(str(name)):
        return None
    return (f"{_brief(name)} is not a parameter name: use 1-64 letters, digits, _ . or -, "
            "starting with a letter or _")


class JobSpecError(ValueError):
    """One or more job fields are invalid; ``problems`` maps field -> reason."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("; ".join(f"{field}: {why}" for field, why in problems.items()))


def _number(value: Any, field: str, problems: dict[str, str], *, lo: float, hi: float,
            integer: bool = False, allow_none: bool = False) -> Any:
    if value is None or value == "":
        if allow_none:
            return None
        problems[field] = "is required"
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        problems[field] = f"{_brief(value)} is not a {'whole ' if integer else ''}number"
        return None
    if integer and isinstance(value, float) and not value.is_integer():
        problems[field] = f"{_brief(value)} is not a whole number"
        return None
    if not lo <= number <= hi:
        problems[field] = f"{_plain(number)} is out of range {_plain(lo)} to {_plain(hi)}"
        return None
    return number


def _plain(number: float) -> str:
    """12 or 2592000 or 0.001, never 2.592e+06."""
    if float(number).is_integer():
        return f"{int(number)}" if abs(number) < 1e15 else f"{number:.3g}"
    return f"{number:.6f}".rstrip("0").rstrip(".")


def _choice(value: Any, field: str, enum: type[StrEnum], problems: dict[str, str]) -> str | None:
    allowed = [member.value for member in enum]
    if value not in allowed:
        problems[field] = f"{_brief(value)} is not one of {', '.join(allowed)}"
        return None
    return str(value)


def _mapping(value: Any, field: str, problems: dict[str, str]) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            problems[field] = f"is not valid JSON ({exc.msg} at column {exc.colno})"
            return {}
    if not isinstance(value, dict):
        problems[field] = "must be a mapping of names to values"
        return {}
    return value


def _brief(value: Any, limit: int = 60) -> str:
    """A user's value quoted for a message, cut short: a 30 MB value is not echoed."""
    shown = repr(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(str(value))} chars)"


def _size(limit: int) -> str:
    return f"{limit // KIB} KiB" if limit % KIB == 0 else f"{limit} bytes"


def _text_problem(text: str, limit: int) -> str | None:
    """Why a text cannot be stored: a NUL byte (no process can receive it) or its size."""
    if "\x00" in text:
        return "contains a NUL byte, which commands and environments cannot carry"
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        return f"is too long ({size} bytes; the limit is {_size(limit)})"
    return None


def _plain_text(text: str, field: str, problems: dict[str, str]) -> None:
    why = _text_problem(text, MAX_BYTES[field])
    if why:
        problems.setdefault(field, why)


def _entries(mapping: dict[str, Any], field: str, problems: dict[str, str], *,
             kinds: tuple[type, ...]) -> dict[str, Any]:
    """Env or params: bounded names and values of plain types, no NUL anywhere."""
    if len(mapping) > MAX_ENTRIES:
        problems[field] = f"has {len(mapping)} entries; the limit is {MAX_ENTRIES}"
        return mapping
    wanted = "a string or a number" + (" or true/false" if bool in kinds else "")
    for key, value in mapping.items():
        why = _text_problem(str(key), MAX_KEY_BYTES)
        if why:
            problems[field] = f"name {_brief(key)} {why}"
        elif not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            problems[field] = (f"{key} is {type(value).__name__} {_brief(value)}; "
                               f"it must be {wanted} (quote it in TOML)")
        elif isinstance(value, str) and (why := _text_problem(value, MAX_VALUE_BYTES)):
            problems[field] = f"the value of {key} {why}"
        else:
            continue
        break
    return mapping


def _check_tags(tags: list[str], problems: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        problems["tags"] = f"{len(tags)} tags; the limit is {MAX_TAGS}"
    elif long := [tag for tag in tags if len(tag) > MAX_TAG_CHARS]:
        problems["tags"] = (f"tag {_brief(long[0])} is {len(long[0])} characters; the limit "
                            f"is {MAX_TAG_CHARS}")
    elif any("\x00" in tag for tag in tags):
        problems["tags"] = "a tag contains a NUL byte"


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return sorted({str(tag).strip() for tag in value or [] if str(tag).strip()})


def validate_job_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Check every field of a job; return normalised values or raise JobSpecError."""
    from tui_scheduler.core.schedule import ScheduleError, parse_schedule, resolve_zone

    unknown = set(raw) - set(FIELDS)
    problems: dict[str, str] = {field: "is not a job field" for field in sorted(unknown)}
    values = {**DEFAULTS, **{k: v for k, v in raw.items() if k in FIELDS}}
    name = str(values.get("name") or "")
    if name != name.strip():
        problems["name"] = (f"{_brief(name)} has spaces or a line break at its start or end; "
                            "remove them (names are never trimmed)")
    elif not NAME_PATTERN.fullmatch(name):
        problems["name"] = ("must be 1-100 characters: letters, digits and . _ - : @ +, "
                            "starting with a letter or digit")
    values["name"] = name
    kind = _choice(values["kind"], "kind", JobKind, problems)
    target = str(values["target"] or "").strip()
    if not target:
        problems["target"] = "is empty: give a command line or a module:function"
    elif kind == JobKind.PYTHON and not PYTHON_REF.fullmatch(target):
        problems["target"] = f"{_brief(target)} is not a package.module:function reference"
    else:
        _plain_text(target, "target", problems)
    values["target"] = target
    values["timezone"] = str(values["timezone"] or "").strip()
    try:
        resolve_zone(values["timezone"] or None)
    except ScheduleError as exc:
        problems["timezone"] = str(exc)
    try:
        values["schedule"] = parse_schedule(str(values["schedule"])).text
    except ScheduleError as exc:
        problems["schedule"] = str(exc)
    values["timeout_s"] = _number(values["timeout_s"], "timeout_s", problems, lo=0.001,
                                  hi=MAX_TIMEOUT_S, allow_none=True)
    values["stop_grace_s"] = _number(values["stop_grace_s"], "stop_grace_s", problems,
                                     lo=0, hi=3600)
    values["retries"] = _number(values["retries"], "retries", problems, lo=0,
                                hi=MAX_RETRIES, integer=True)
    values["retry_delay_s"] = _number(values["retry_delay_s"], "retry_delay_s", problems,
                                      lo=0, hi=MAX_TIMEOUT_S)
    values["retry_backoff"] = _number(values["retry_backoff"], "retry_backoff", problems,
                                      lo=1, hi=10)
    values["retry_max_delay_s"] = _number(values["retry_max_delay_s"], "retry_max_delay_s",
                                          problems, lo=0, hi=MAX_TIMEOUT_S)
    values["catchup_limit"] = _number(values["catchup_limit"], "catchup_limit", problems,
                                      lo=1, hi=100, integer=True)
    _choice(values["overlap"], "overlap", Overlap, problems)
    _choice(values["misfire"], "misfire", Misfire, problems)
    for flag in ("enabled", "paused", "stop_on_error", "restartable"):
        if not isinstance(values[flag], bool):
            problems[flag] = "must be true or false"
    values["params"] = _entries(_mapping(values["params"], "params", problems), "params",
                                problems, kinds=(str, int, float, bool))
    bad_param = [k for k in values["params"] if not PARAM_NAME.fullmatch(str(k))]
    if bad_param and "params" not in problems:
        problems["params"] = param_name_problem(bad_param[0]) or ""
    env = _entries(_mapping(values["env"], "env", problems), "env", problems,
                   kinds=(str, int, float))
    bad_env = [k for k in env if not ENV_NAME.fullmatch(str(k))]
    if bad_env and "env" not in problems:
        problems["env"] = f"{_brief(bad_env[0])} is not a valid environment variable name"
    values["env"] = {str(k): str(v) for k, v in env.items()}
    if not isinstance(values["secrets"], str | list | tuple):
        problems["secrets"] = "must be a list of env or param names"
        values["secrets"] = []
    values["secrets"] = _tags(values["secrets"])
    bad_secret = [name for name in values["secrets"] if not SECRET_REF.fullmatch(name)]
    if bad_secret:
        problems["secrets"] = (f"{bad_secret[0]!r} is not an env or param name to mark "
                               "secret (letters, digits, _ . -)")
    values["workdir"] = str(values["workdir"] or "").strip()
    _plain_text(values["workdir"], "workdir", problems)
    values["tags"] = _tags(values["tags"])
    _check_tags(values["tags"], problems)
    engines = str(values["engines"] or "").strip()
    if engines != "*":
        names = _tags(engines)
        bad = [name for name in names if not NAME_PATTERN.match(name)]
        if bad:
            problems["engines"] = (f"{_brief(bad[0])} is not an engine name; use '*' for every "
                                   "engine or a comma list of names")
        engines = ",".join(names)
    values["engines"] = engines
    values["description"] = str(values["description"] or "")
    _plain_text(values["description"], "description", problems)
    if problems:
        raise JobSpecError(problems)
    return values
