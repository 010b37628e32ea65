"""Commands that define and inspect jobs: add, edit, list, show, rm, pause/resume,
enable/disable."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tui_scheduler.cli.common import (
    CliError,
    emit_json,
    for_terminal,
    is_terminal,
    iso,
    local,
    open_db,
    parse_pairs,
    print_tsv,
)
from tui_scheduler.core.durations import parse_duration
from tui_scheduler.core.field_edits import PartEdits
from tui_scheduler.core.schedule import (
    ScheduleError,
    describe,
    next_fires,
    parse_schedule,
    resolve_zone,
)
from tui_scheduler.core.secrets import mask_fields
from tui_scheduler.store import jobs as job_store
from tui_scheduler.store.models import Job, row_id
from tui_scheduler.store.runs import latest_results

DURATION_FIELDS = {"timeout": "timeout_s", "grace": "stop_grace_s",
                   "retry_delay": "retry_delay_s", "retry_max_delay": "retry_max_delay_s"}


def _duration(text: str, option: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CliError(f"--{option.replace('_', '-')}: {exc}", 2) from None


def fields_from_args(args, *, creating: bool) -> dict[str, Any]:
    """Job fields named on the command line (only those given, when editing)."""
    fields: dict[str, Any] = {}
    if args.cron is not None:
        fields["schedule"] = args.cron
    elif args.every is not None:
        fields["schedule"] = f"every {args.every}"
    elif args.at is not None:
        fields["schedule"] = "now" if args.at.strip().lower() == "now" else f"at {args.at}"
    elif args.manual:
        fields["schedule"] = "manual"
    if args.command is not None:
        fields.update(kind="command", target=args.command)
    elif args.python is not None:
        fields.update(kind="python", target=args.python)
    simple = {"tz": "timezone", "description": "description", "retries": "retries",
              "retry_backoff": "retry_backoff", "overlap": "overlap", "misfire": "misfire",
              "catchup_limit": "catchup_limit", "stop_on_error": "stop_on_error",
              "restartable": "restartable", "workdir": "workdir", "engines": "engines"}
    for option, field in simple.items():
        value = getattr(args, option)
        if value is not None:
            fields[field] = value
    for option, field in DURATION_FIELDS.items():
        value = getattr(args, option)
        if value is not None:
            fields[field] = _duration(value, option)
    if creating:
        keyed = {"params": parse_pairs(args.param, "--param"),
                 "env": parse_pairs(args.env, "--env"), "secrets": args.secret,
                 "tags": None if args.tag is None else
                 [t for tag in args.tag for t in tag.split(",")]}
        fields.update({k: v for k, v in keyed.items() if v is not None})
    if args.disabled is not None:
        fields["enabled"] = not args.disabled
    return fields


ADD_REMOVE = (("--env", "--unset-env"), ("--param", "--unset-param"), ("--tag", "--untag"),
              ("--secret", "--unsecret"))


def _items(values: list[str] | None, option: str, *, commas: bool) -> list[str] | None:
    """Names given to a repeatable add/remove option; one that names nothing is refused
    (before, `edit --secret ''` cleared the marks: now it would silently do nothing)."""
    if values is None:
        return None
    items = []
    for value in values:
        names = [n.strip() for n in (value.split(",") if commas else [value]) if n.strip()]
        if not names:
            adds, removes = next(pair for pair in ADD_REMOVE if option in pair)
            raise CliError(f"{option} {value!r} names nothing; give a name ({adds} adds, "
                           f"{removes} removes)", 2)
        items += names
    return items


def part_edits(args) -> PartEdits:
    """What `edit` sets, adds and removes in env, params, tags and secret marks, keeping
    the rest (see core.field_edits)."""
    put = {"params": parse_pairs(args.param, "--param"), "env": parse_pairs(args.env, "--env"),
           "secrets": _items(args.secret, "--secret", commas=False),
           "tags": _items(args.tag, "--tag", commas=True)}
    drop = {"env": _items(args.unset_env, "--unset-env", commas=False),
            "params": _items(args.unset_param, "--unset-param", commas=False),
            "tags": _items(args.untag, "--untag", commas=True),
            "secrets": _items(args.unsecret, "--unsecret", commas=False)}
    return PartEdits(put={k: v for k, v in put.items() if v},
                     drop={k: v for k, v in drop.items() if v})


def _settle_past_at(args, fields: dict[str, Any], zone_name: str) -> None:
    """A one-off time that has passed would never fire: refuse it, or with --allow-past
    make it run once right away, exactly as --at now does."""
    if args.allow_past and args.at is None:
        raise CliError("--allow-past only goes with --at TIME", 2)
    if not str(fields.get("schedule", "")).startswith("at "):
        return
    try:
        schedule = parse_schedule(fields["schedule"])
        zone = resolve_zone(zone_name or None)
    except ScheduleError:
        return  # validation names the problem
    if next_fires(schedule, datetime.now(UTC), zone, 1):
        return
    if not args.allow_past:
        raise CliError(f"--at {args.at!r} has already passed, so the job would never run; "
                       "give a future time, or add --allow-past to run it once right away", 2)
    fields["schedule"] = "now"


def job_summary(job: Job, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    fields = mask_fields(job_store.job_fields(job))
    fields.pop("state", None)
    try:
        schedule = parse_schedule(job.schedule)
        zone = resolve_zone(job.timezone or None)
        fields["schedule_description"] = describe(schedule)
        upcoming = [] if job.paused or not job.enabled else \
            next_fires(schedule, now, zone, 3, anchor=job.created_at)
        fields["next_fires"] = [iso(t) for t in upcoming]
    except ScheduleError as exc:
        fields["schedule_description"] = f"invalid: {exc}"
        fields["next_fires"] = []
    fields["id"] = job.id
    fields["created_at"] = iso(job.created_at)
    fields["updated_at"] = iso(job.updated_at)
    return fields


def cmd_add(args) -> int:
    store = open_db(args)
    fields = fields_from_args(args, creating=True)
    _settle_past_at(args, fields, fields.get("timezone", ""))
    job = job_store.create_job(store, {"name": args.name, **fields})
    if args.json:
        emit_json(job_summary(job))
    else:
        print(f"added job {job.name!r} (#{job.id}): {describe(parse_schedule(job.schedule))}")
    return 0


def cmd_edit(args) -> int:
    store = open_db(args)
    fields = fields_from_args(args, creating=False)
    edits = part_edits(args)
    if args.rename:
        fields["name"] = args.rename
    if not fields and not edits:
        raise CliError("nothing to change: give at least one option (see edit --help)", 2)
    if args.at is not None or args.allow_past:
        zone = fields.get("timezone", job_store.get_job(store, args.name).timezone)
        _settle_past_at(args, fields, zone)
    job = job_store.update_job(store, args.name, fields, edits)
    if args.json:
        emit_json(job_summary(job))
    else:
        print(f"updated job {job.name!r}")
    return 0


def _state_word(job: Job) -> str:
    if not job.enabled:
        return "disabled"
    return "paused" if job.paused else "active"


_LIST_COLUMNS = ("NAME", "STATE", "SCHEDULE", "NEXT RUN", "LAST")


def cmd_list(args) -> int:
    if args.deleted:
        from tui_scheduler.cli.history_cmds import cmd_list_deleted

        return cmd_list_deleted(args)
    store = open_db(args)
    jobs = job_store.list_jobs(store)
    results = latest_results(store)
    summaries = [job_summary(job) for job in jobs]
    if args.json:
        for summary in summaries:
            last = results.get(summary["id"])
            summary["last_status"] = last.status if last else None
        emit_json(summaries)
        return 0
    if not jobs:
        print("no jobs yet: add one with `tui-scheduler add NAME --cron '0 9 * * *' "
              "--command 'echo hello'`")
        return 0
    rows = []
    for job, summary in zip(jobs, summaries, strict=True):
        last = results.get(row_id(job))
        next_fire = summary["next_fires"][0] if summary["next_fires"] else None
        rows.append((job.name, _state_word(job), summary["schedule_description"],
                     local(datetime.fromisoformat(next_fire)) if next_fire else "-",
                     f"{last.status} {local(last.finished_at)}" if last else "-"))
    if not is_terminal(sys.stdout):
        # A pipe or a file gets what `ps` and `kubectl` give: one header line, then one
        # line per job with full values between tabs, never wrapped or cut to a width.
        print_tsv(_LIST_COLUMNS, rows)
        return 0
    table = Table(box=None, header_style="bold")
    for column in _LIST_COLUMNS:
        table.add_column(column)
    # Cells are Text, never markup; stored text has its controls made visible on a tty.
    shown = for_terminal(sys.stdout, args, one_line=True)
    for cells in rows:
        table.add_row(*(Text(shown(cell)) for cell in cells))
    Console(soft_wrap=True).print(table)
    return 0


def cmd_show(args) -> int:
    store = open_db(args)
    summary = job_summary(job_store.get_job(store, args.name))
    if args.json:
        emit_json(summary)
        return 0
    shown = for_terminal(sys.stdout, args, one_line=True)
    for key, value in summary.items():
        if isinstance(value, dict | list):
            value = json.dumps(value)
        print(f"{key:>22}: {shown(value)}")
    return 0


def cmd_flag(args) -> int:
    store = open_db(args)
    action = args.subcommand
    if action == "rm":
        job = job_store.delete_job(store, args.name)
        print(f"deleted job {job.name!r}; its runs stay readable (`tui-scheduler runs "
              f"{job.name} --deleted`) until `tui-scheduler purge {job.name}`")
        return 0
    flags = {"pause": {"paused": True}, "resume": {"paused": False},
             "enable": {"enabled": True}, "disable": {"enabled": False}}[action]
    job = job_store.set_job_flags(store, args.name, **flags)
    print(f"job {job.name!r} is now {_state_word(job)}")
    return 0
