"""Commands that read or write definitions: cron, import-crontab, export, import."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from tui_scheduler.cli.common import CliError, emit_json, open_db
from tui_scheduler.core.jobspec import DEFAULTS, JobSpecError, validate_job_fields
from tui_scheduler.core.schedule import (
    ScheduleError,
    describe,
    next_fires,
    parse_schedule,
    resolve_zone,
)
from tui_scheduler.core.secrets import MASK, mask_fields
from tui_scheduler.store import jobs as job_store


def cmd_cron(args) -> int:
    try:
        schedule = parse_schedule(args.expr)
        zone = resolve_zone(args.tz)
    except ScheduleError as exc:
        raise CliError(str(exc), 2) from None
    if not 1 <= args.n <= 1000:
        raise CliError("-n must be between 1 and 1000", 2)
    fires = next_fires(schedule, datetime.now(UTC), zone, args.n)
    stamps = [fire.astimezone(zone).isoformat() for fire in fires]
    if args.json:
        emit_json({"expression": schedule.text, "timezone": zone.key,
                   "description": describe(schedule), "next": stamps})
        return 0
    print(describe(schedule))
    for stamp in stamps:
        print(stamp)
    if not stamps:
        print("(no upcoming fire times)")
    return 0


def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}", 2) from None
    except UnicodeDecodeError:
        raise CliError(f"{source} is not UTF-8 text", 2) from None


_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def parse_crontab(text: str, prefix: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Jobs from a user crontab, and one message per line that could not be read."""
    jobs: list[dict[str, Any]] = []
    problems: list[str] = []
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        env_match = _ENV_LINE.match(line)
        if env_match and not line.startswith("@"):
            value = env_match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[env_match.group(1)] = value
            continue
        parts = line.split(None, 1 if line.startswith("@") else 5)
        if line.startswith("@"):
            expr, command = parts[0], parts[1] if len(parts) > 1 else ""
        else:
            if len(parts) < 6:
                problems.append(f"line {number}: expected 5 time fields and a command: {raw!r}")
                continue
            expr, command = " ".join(parts[:5]), parts[5]
        if not command.strip():
            problems.append(f"line {number}: no command after the schedule")
            continue
        if re.search(r"(?<!\\)%", command):
            problems.append(f"line {number}: '%' (standard input lines) is not supported; "
                            "escape it as \\% or move the input into a script")
            continue
        try:
            schedule = parse_schedule(expr)
        except ScheduleError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        word = re.sub(r"[^A-Za-z0-9]+", "-", Path(command.split()[0]).name).strip("-")[:30]
        jobs.append({"name": f"{prefix}-{number}-{word or 'job'}", "schedule": schedule.text,
                     "kind": "command", "target": command.replace("\\%", "%"),
                     "env": dict(env), "description": f"imported from crontab line {number}"})
    return jobs, problems


def cmd_import_crontab(args) -> int:
    store = open_db(args)
    jobs, problems = parse_crontab(_read_text(args.file), args.prefix)
    if args.tz:
        for job in jobs:
            job["timezone"] = args.tz
    _create_all(store, jobs, replace=False, problems=problems)
    for job in jobs:
        print(f"added {job['name']}: {describe(parse_schedule(job['schedule']))}")
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    return 1 if problems else 0


def _create_all(store, jobs: list[dict[str, Any]], *, replace: bool,
                problems: list[str] | None = None) -> None:
    """Validate every job first; write nothing if any is invalid or clashes."""
    errors: list[str] = []
    existing = {job.name: job for job in job_store.list_jobs(store)}
    seen: set[str] = set()
    for job in jobs:
        name = str(job.get("name", ""))
        stored = job_store.job_fields(existing[name]) if name in existing else None
        try:
            # A masked secret must have a stored value to keep (see keep_stored_secrets).
            job_store.keep_stored_secrets(validate_job_fields(job), stored)
        except JobSpecError as exc:
            errors.append(f"job {name!r}: {exc}")
        if name in seen:
            errors.append(f"job {name!r} is defined twice")
        seen.add(name)
        if name in existing and not replace:
            errors.append(f"job {name!r} already exists (use --replace to update it)")
    if errors:
        raise CliError("nothing was imported: " + "; ".join(errors), 2)
    for job in jobs:
        if job["name"] in existing:
            job_store.update_job(store, job["name"], job)
        else:
            job_store.create_job(store, job)


def cmd_export(args) -> int:
    store = open_db(args)
    jobs = []
    for job in job_store.list_jobs(store):
        fields = job_store.job_fields(job)
        if not args.include_secrets:
            fields = mask_fields(fields)
        jobs.append({k: v for k, v in fields.items()
                     if v is not None and (k == "name" or v != DEFAULTS.get(k, object())
                                           or k in ("schedule", "kind", "target"))})
    text = tomli_w.dumps({"job": jobs})
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    write_private(args.file, text)
    how = "with secret values" if args.include_secrets else \
        f"secret values written as {MASK} (--include-secrets writes them)"
    print(f"exported {len(jobs)} jobs to {args.file}, owner-only; {how}", file=sys.stderr)
    return 0


def write_private(name: str, text: str) -> None:
    """Write ``text`` to a regular file of ours, mode 0600 even if it existed with wider
    permissions; a symlink, a file of another user or a FIFO is refused, never followed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CliError(f"{name} is a symbolic link; export writes only to a plain file "
                           "(give the link's target or another name)", 2) from None
        if exc.errno == errno.ENXIO:  # a FIFO or socket nobody reads
            raise CliError(f"{name} is not a regular file; export to a file path", 2) from None
        raise CliError(f"cannot write {name}: {exc.strerror}", 2) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CliError(f"{name} is not a regular file; export to a file path", 2)
        if info.st_uid != os.geteuid():
            raise CliError(f"{name} belongs to another user; export to a file of yours", 2)
        # Before any byte is written: the old mode may have been 0644.
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        handle.write(text)


def cmd_import(args) -> int:
    store = open_db(args)
    try:
        data = tomllib.loads(_read_text(args.file))
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{args.file} is not valid TOML: {exc}", 2) from None
    jobs = data.get("job", [])
    if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
        raise CliError(f"{args.file}: expected [[job]] tables", 2)
    _create_all(store, jobs, replace=args.replace)
    print(f"imported {len(jobs)} jobs")
    return 0
