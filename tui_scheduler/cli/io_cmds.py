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
from tui_scheduler.core.crontab import parse_crontab
from tui_scheduler.core.jobspec import DEFAULTS, JobSpecError, validate_job_fields
from tui_scheduler.core.safe_text import BIDI_CONTROLS, safe_text
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


def _shown(source: str) -> str:
    return "standard input" if source == "-" else safe_text(source, one_line=True)


MAX_CRONTAB = 1024 * 1024
"""A crontab is a few KiB; anything past this is the wrong file (or /dev/zero)."""


def _read_crontab(source: str) -> str:
    """The text of a crontab, refused in one line (exit 2) when it is too large, binary,
    or not UTF-8. Reads at most ``MAX_CRONTAB`` + 1 bytes from anything, so a device or
    endless pipe cannot fill memory; the content is never quoted."""
    shown = _shown(source)
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_CRONTAB + 1)
        else:
            if Path(source).is_dir():
                raise CliError(f"{source} is a directory, not a crontab file", 2)
            with open(source, "rb") as handle:
                data = handle.read(MAX_CRONTAB + 1)
    except OSError as exc:
        raise CliError(f"cannot read {shown}: {exc.strerror}", 2) from None
    if len(data) > MAX_CRONTAB:
        raise CliError(f"{shown} is larger than 1 MiB, too large for a crontab; "
                       "give the crontab file (`crontab -l > FILE`)", 2)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        raise CliError(f"{shown} is not a crontab (binary data or not UTF-8 text); "
                       "nothing was imported", 2)
    return text


def cmd_import_crontab(args) -> int:
    tab = parse_crontab(_read_crontab(args.file), args.prefix)
    shown = _shown(args.file)
    if 2 * len(tab.problems) > tab.entries:
        # Most lines are not cron lines: the wrong file, perhaps a secret one. Refuse
        # without listing them.
        raise CliError(f"{shown} does not look like a crontab: {len(tab.problems)} of "
                       f"{tab.entries} lines are not crontab lines; nothing was imported", 2)
    if not tab.jobs:
        raise CliError(f"{shown} has no job lines; nothing was imported", 2)
    store = open_db(args)
    for job in tab.jobs:
        if args.tz:
            job.setdefault("timezone", args.tz)
    warnings = tab.warnings + [
        f"line {number}: SHELL is not an executable file here; the jobs after it "
        "fail to start until it is" for number, shell in tab.shells.items()
        if shell and not os.access(shell, os.X_OK)]
    _create_all(store, tab.jobs, replace=False)
    for job in tab.jobs:
        print(f"added {job['name']}: {describe(parse_schedule(job['schedule']))}")
    for warning in sorted(warnings, key=_line_number):
        print(f"warning: {warning}", file=sys.stderr)
    for problem in tab.problems:
        print(f"skipped {problem}", file=sys.stderr)
    return 1 if tab.problems else 0


def _line_number(message: str) -> int:
    return int(message.split()[1].rstrip(":"))


def _create_all(store, jobs: list[dict[str, Any]], *, replace: bool) -> None:
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
        fields["schedule"] = _anchored(fields["schedule"], job.created_at)
        if not args.include_secrets:
            fields = mask_fields(fields)
        jobs.append({k: v for k, v in fields.items()
                     if v is not None and (k == "name" or v != DEFAULTS.get(k, object())
                                           or k in ("schedule", "kind", "target"))})
    text = _escape_invisible(tomli_w.dumps({"job": jobs}))
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    write_private(args.file, text)
    how = "with secret values" if args.include_secrets else \
        f"secret values written as {MASK} (--include-secrets writes them)"
    print(f"exported {len(jobs)} jobs to {args.file}, owner-only; {how}", file=sys.stderr)
    return 0


def _anchored(schedule: str, created_at: datetime | None) -> str:
    """An interval without ``from`` counts from the job's creation; exported as is, an
    import (a new creation time) would move every fire. Written with its start instead,
    the imported job keeps the same fire times."""
    try:
        parsed = parse_schedule(schedule)
    except ScheduleError:
        return schedule
    if parsed.kind != "interval" or parsed.start is not None or created_at is None:
        return schedule
    start = created_at.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return f"{schedule} from {start.isoformat(timespec='seconds')}Z"


# TOML escapes C0 controls itself but writes C1 controls and bidi overrides as they are;
# as \uXXXX escapes they mean the same to a TOML reader and nothing to a terminal.
_INVISIBLE = re.compile("[\x80-\x9f" + "".join(chr(c) for c in BIDI_CONTROLS) + "]")


def _escape_invisible(toml_text: str) -> str:
    """``toml_text`` with C1 and bidi controls as ``\\uXXXX``: valid wherever TOML allows
    them (only in strings, all basic strings here), so the export is safe to ``cat``."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04X}", toml_text)


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
