"""Deleted jobs' history on the command line: ``list --deleted``, ``runs NAME`` falling
back to a deleted job (``--deleted`` when the name is taken again), and ``purge``."""

from __future__ import annotations

import sys

from tui_scheduler.cli.common import CliError, emit_json, iso, local, open_db
from tui_scheduler.core.safe_text import safe_text
from tui_scheduler.store import deleted as deleted_store
from tui_scheduler.store import jobs as job_store
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Job, row_id


def _name(job: Job) -> str:
    return safe_text(repr(job.name), one_line=True)


def history_job(store: Store, ref: str, *, deleted: bool) -> Job:
    """The job whose runs ``runs REF`` shows: the live job of that name or id, else (or
    with ``deleted``) the most recently deleted one; a note on stderr says which."""
    if not deleted:
        try:
            job = job_store.get_job(store, ref)
        except job_store.JobNotFound:
            pass
        else:
            if deleted_store.find_deleted(store, job.name):
                print(f"note: deleted jobs named {_name(job)} have history too: "
                      f"`tui-scheduler runs {safe_text(job.name, one_line=True)} --deleted`",
                      file=sys.stderr)
            return job
    found = deleted_store.find_deleted(store, ref)
    if not found:
        if deleted:
            raise CliError(str(deleted_store.DeletedJobNotFound(ref)), 1)
        raise job_store.JobNotFound(ref)
    job = found[0]
    if len(found) > 1:
        print(f"note: {len(found)} deleted jobs are named {_name(job)}; showing #{job.id}, "
              f"deleted {local(job.deleted_at)} (`tui-scheduler list --deleted` shows the "
              "ids; `runs ID --deleted` picks one)", file=sys.stderr)
    return job


def deleted_label(job: Job) -> str:
    """How a deleted job is named above its runs."""
    return f"{_name(job)} (deleted job #{job.id}, deleted {local(job.deleted_at)})"


def cmd_list_deleted(args) -> int:
    store = open_db(args)
    rows = deleted_store.list_deleted(store)
    if args.json:
        emit_json([{"id": row.job.id, "name": row.job.name,
                    "deleted_at": iso(row.job.deleted_at), "runs": row.runs,
                    "last_status": row.last_status, "last_at": iso(row.last_at)}
                   for row in rows])
        return 0
    if not rows:
        print("no deleted jobs")
        return 0
    print(f"{'ID':>6}  {'DELETED':<19}  {'RUNS':>6}  {'LAST':<30}  NAME")
    for row in rows:
        last = f"{row.last_status} {local(row.last_at)}" if row.last_status else "-"
        print(f"{row.job.id:>6}  {local(row.job.deleted_at):<19}  {row.runs:>6}  {last:<30}  "
              f"{safe_text(row.job.name, one_line=True)}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise CliError("purge removes history for good: add --yes to confirm "
                       "(standard input is not a terminal to ask on)", 2)
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_purge(args) -> int:
    store = open_db(args)
    found = deleted_store.find_deleted(store, args.name)
    if not found:
        try:
            live = job_store.get_job(store, args.name)
        except job_store.JobNotFound:
            raise CliError(str(deleted_store.DeletedJobNotFound(args.name)), 1) from None
        raise CliError(f"job {_name(live)} is not deleted; `tui-scheduler rm` it first "
                       "(purge only removes a deleted job's history)", 2)
    runs = sum(row.runs for row in deleted_store.list_deleted(store)
               if row.job.id in {job.id for job in found})
    what = ", ".join(f"#{job.id}" for job in found)
    many = len(found) > 1
    question = (f"Purge deleted job{'s' if many else ''} {_name(found[0])} ({what}): "
                f"{runs} run{'' if runs == 1 else 's'} and their output, for good?")
    if not args.yes and not _confirm(question):
        print("nothing purged", file=sys.stderr)
        return 1
    try:
        gone = deleted_store.purge_jobs(store, [row_id(job) for job in found])
    except deleted_store.PurgeRefused as exc:
        raise CliError(f"nothing purged: {exc}", 1) from None
    print(f"purged deleted job{'s' if many else ''} {_name(found[0])} ({what}) and "
          f"{gone} run{'' if gone == 1 else 's'}")
    return 0
