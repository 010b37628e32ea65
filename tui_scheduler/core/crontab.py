"""Reading a user crontab into job definitions, saying where the meaning is not kept.

Pure: text in, jobs and messages out. Messages name line numbers and reasons and never
quote a line: a file given by mistake (``/etc/shadow``) must not be echoed to a terminal
or a log. What each crontab line becomes:

- ``NAME=value`` sets an environment variable for the job lines after it, as cron does;
  ``SHELL`` is honoured (those jobs run as ``$SHELL -c command``: the engine's runner
  reads the job's own ``SHELL``), ``CRON_TZ`` becomes the time zone of the jobs after
  it; variables that only steer cron's mail (``MAILTO``...) are kept but do nothing, and
  say so in a warning.
- a schedule and a command becomes a job; ``@reboot`` means "when an engine starts".
- anything else, a schedule that is not valid, or a ``%`` (cron's standard-input lines)
  is a problem: the line is skipped and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from .schedule import ScheduleError, parse_schedule, resolve_zone

_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")

MAIL_ONLY = ("MAILTO", "MAILFROM", "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING")
"""Variables that only change the mail cron sends with a job's output."""
NO_MAIL = ("no mail is sent (tui-scheduler has no notifications yet); output and "
           "failures are kept in the run history (`tui-scheduler runs NAME`, `log RUN_ID`)")
REBOOT = ("@reboot runs when a tui-scheduler engine starts (each daemon start, or a "
          "console with its own engine), not when the machine boots")


@dataclass
class Crontab:
    """What a crontab turned into."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    """Job fields for validate_job_fields, in file order."""
    problems: list[str] = field(default_factory=list)
    """``line N: reason`` for each line that was skipped."""
    warnings: list[str] = field(default_factory=list)
    """``line N: reason`` for each line read with a different meaning than cron's."""
    shells: dict[int, str] = field(default_factory=dict)
    """Line number -> the SHELL it sets, for the caller to check on this machine."""
    entries: int = 0
    """Lines that are neither blank nor comments."""


def _env_value(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _schedule_problem(exc: ScheduleError) -> str:
    # The reason would quote the fields, and the fields may be someone's secret.
    where = f"the {exc.field} field" if exc.field else "the schedule"
    return (f"{where} is not valid cron; check the line with "
            "`tui-scheduler cron 'EXPR'`")


def _job_name(prefix: str, number: int, command: str) -> str:
    word = re.sub(r"[^A-Za-z0-9]+", "-", PurePath(command.split()[0]).name).strip("-")[:30]
    return f"{prefix}-{number}-{word or 'job'}"


def parse_crontab(text: str, prefix: str) -> Crontab:
    """Jobs from a user crontab, with a problem per skipped line and a warning per line
    whose meaning changes."""
    tab = Crontab()
    env: dict[str, str] = {}
    zone = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tab.entries += 1
        env_match = _ENV_LINE.match(line)
        if env_match and not line.startswith("@"):
            name, value = env_match.group(1), _env_value(env_match.group(2))
            env[name] = value
            if name == "SHELL":
                tab.shells[number] = value
            elif name == "CRON_TZ":
                try:
                    zone = resolve_zone(value).key if value else ""
                except ScheduleError:
                    tab.problems.append(f"line {number}: CRON_TZ is not a known time zone; "
                                        "the jobs after it use the machine's zone")
                    zone = ""
            elif name == "RANDOM_DELAY":
                tab.warnings.append(f"line {number}: RANDOM_DELAY is not supported; "
                                    "jobs fire at their exact times")
            elif name in MAIL_ONLY and value:
                tab.warnings.append(f"line {number}: {name} is kept as a variable but {NO_MAIL}")
            continue
        macro = line.startswith("@")
        parts = line.split(None, 1 if macro else 5)
        if macro:
            expr, command = parts[0], parts[1] if len(parts) > 1 else ""
        elif len(parts) < 6:
            tab.problems.append(f"line {number}: expected 5 time fields and a command")
            continue
        else:
            expr, command = " ".join(parts[:5]), parts[5]
        if not command.strip():
            tab.problems.append(f"line {number}: no command after the schedule")
            continue
        if _UNESCAPED_PERCENT.search(command):
            tab.problems.append(f"line {number}: '%' (standard input lines) is not supported; "
                                "escape it as \\% or move the input into a script")
            continue
        try:
            schedule = parse_schedule(expr)
        except ScheduleError as exc:
            tab.problems.append(f"line {number}: {_schedule_problem(exc)}")
            continue
        if schedule.kind == "reboot":
            tab.warnings.append(f"line {number}: {REBOOT}")
        job: dict[str, Any] = {
            "name": _job_name(prefix, number, command), "schedule": schedule.text,
            "kind": "command", "target": command.replace("\\%", "%"), "env": dict(env),
            "description": f"imported from crontab line {number}"}
        if zone:
            job["timezone"] = zone
        tab.jobs.append(job)
    return tab
