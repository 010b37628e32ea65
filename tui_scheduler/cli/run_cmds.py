"""Commands about runs: run, stop, runs, log, and the daemon."""

from __future__ import annotations

import getpass
import logging
import os
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence

from tui_scheduler.cli.common import (
    CliError,
    emit_json,
    for_terminal,
    iso,
    local,
    open_db,
    parse_pairs,
    run_id_or_none,
)
from tui_scheduler.core.durations import format_duration
from tui_scheduler.core.jobspec import param_name_problem
from tui_scheduler.core.policies import ACTIVE_STATUSES, MAX_ROW_ID, Trigger
from tui_scheduler.core.secrets import mask_values
from tui_scheduler.store import control
from tui_scheduler.store import jobs as job_store
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import row_id
from tui_scheduler.store.output import iter_lines, read_chunks
from tui_scheduler.store.runs import RunNotFound, get_run, list_runs

log = logging.getLogger("tui_scheduler")
MAX_RUNS_LISTED = 100_000
EXIT_FENCED = 75
"""The daemon's exit status once other engines declared it dead (EX_TEMPFAIL: start it
again and it joins as a new member)."""


def send_control(store: Store, action: str, **kwargs) -> str:
    try:
        return control.send_control(store, action, **kwargs)
    except control.ControlTimeout as exc:
        raise CliError(str(exc)) from None


def print_new_output(store: Store, run_id: int, seq: int, secrets: list[str],
                     args=None) -> int:
    """Print output after ``seq`` (stderr lines to stderr), the job's known secret values
    masked; return the last seq printed. On a terminal its controls are made visible,
    unless ``--raw`` (``for_terminal``). With ``--json`` stdout holds only the JSON
    object, so the job's stdout lines go to stderr too."""
    stdout = sys.stderr if getattr(args, "json", False) else sys.stdout
    out, err = for_terminal(stdout, args), for_terminal(sys.stderr, args)
    while True:
        chunks = read_chunks(store, run_id, after_seq=seq, limit=500)
        if not chunks:
            return seq
        seq = chunks[-1].seq
        for stream, line in iter_lines(chunks):
            line = mask_values(line, secrets)
            if stream == "err":
                sys.stderr.write(err(line) + "\n")
            else:
                stdout.write(out(line) + "\n")
        stdout.flush()


def follow_output(store: Store, run_id: int, *, follow: bool, args=None) -> int | None:
    """Print a run's output; with follow, keep going until the run ends."""
    seq = 0
    run = get_run(store, run_id)
    secrets = job_store.job_secret_values(job_store.get_job_by_id(store, run.job_id),
                                          run.params)
    while True:
        run = get_run(store, run_id)
        seq = print_new_output(store, run_id, seq, secrets, args)
        if not follow or run.status not in ACTIVE_STATUSES:
            return run.exit_code
        time.sleep(0.25)


def _foreground_run(store: Store, job, params: dict, args=None) -> int:
    """No engine holds the database: execute the run in this process, printing as it goes."""
    from tui_scheduler.engine.events import EventBus
    from tui_scheduler.engine.runs import ActiveRun, RunExecutor
    from tui_scheduler.store.writer import BatchWriter

    writer = BatchWriter(store)
    writer.start()
    executor = RunExecutor(store, writer, EventBus())
    run = ActiveRun(job=job, trigger=Trigger.MANUAL, scheduled_for=None, params=params)
    worker = threading.Thread(target=executor.execute, args=(run,), daemon=True)
    worker.start()
    run.recorded.wait()
    run_id = run.run_id
    assert run_id is not None  # ``recorded`` is set only once the row (and its id) exists
    previous = signal.signal(signal.SIGINT, lambda *_: executor.stop(run_id))
    seq = 0
    secrets = job_store.job_secret_values(job, params)
    try:
        while True:
            alive = worker.is_alive()
            executor.tick()
            writer.flush()
            seq = print_new_output(store, run_id, seq, secrets, args)
            if not alive:
                break
            worker.join(0.25)
    finally:
        signal.signal(signal.SIGINT, previous)
        writer.close()
    return run_id


def cmd_run(args) -> int:
    from tui_scheduler.engine.lock import live_holder

    store = open_db(args)
    job = job_store.get_job(store, args.name)
    params = parse_pairs(args.param, "--param") or {}
    for name in params:
        if (why := param_name_problem(name)) is not None:
            raise CliError(f"--param {why}", 2)
    holder = live_holder(store)
    if holder is None:
        if not args.wait:
            print("no engine is running; running in the foreground", file=sys.stderr)
        run_id = _foreground_run(store, job, params, args=args)
    else:
        answer = send_control(store, "run", job_id=job.id, payload={"params": params})
        word, _, ident = answer.partition(" ")
        if word == "skipped":
            raise CliError(f"job {job.name!r} is already running (overlap policy: "
                           f"{job.overlap}); recorded as skipped run {ident}")
        if word not in ("run", "queued"):
            raise CliError(f"the engine refused: {answer}")
        run_id = int(ident)
        if args.wait:
            follow_output(store, run_id, follow=True, args=args)
        elif args.json:
            _emit_run_json(store, run_id, job, holder.pid)
            return 0
        else:
            print(f"started run {run_id} of {job.name!r} on the engine (pid {holder.pid})")
            return 0
    run = get_run(store, run_id)
    if args.json:
        _emit_run_json(store, run_id, job, holder.pid if holder is not None else None)
    elif not args.wait or holder is None:
        # The error is the run's last stderr line: it may print a secret too.
        error = for_terminal(sys.stderr, args)(
            mask_values(run.error, job_store.job_secret_values(job, run.params)))
        print(f"run {run.id} {run.status}" + (f": {error}" if error else ""), file=sys.stderr)
    return run.exit_code if run.exit_code is not None else (0 if run.status == "succeeded"
                                                            else 1)


def _emit_run_json(store: Store, run_id: int, job, engine_pid: int | None) -> None:
    """``run --json``'s one object: the run as ``runs --json`` gives it (finished, or as
    it stands when the engine took it without --wait), plus where it ran."""
    run = get_run(store, run_id)
    emit_json({**run_record(run, job.name, job_store.job_secret_values(job, run.params)),
               "job_deleted": False,
               "ran_on": "foreground" if engine_pid is None else "engine",
               "engine_pid": engine_pid})


def run_record(run, job_name: str, secrets: Sequence[str] = ()) -> dict:
    return {"id": run.id, "job": job_name, "trigger": run.trigger, "status": run.status,
            "scheduled_for": iso(run.scheduled_for), "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "exit_code": run.exit_code,
            "attempt": run.attempt, "error": mask_values(run.error, secrets)}


def cmd_stop(args) -> int:
    from tui_scheduler.engine.lock import live_holder

    store = open_db(args)
    target = args.target
    run_ids: list[int] = []
    try:
        number = run_id_or_none(target)
    except CliError:
        # All digits yet too large for a run id: it can only be a job's name.
        try:
            job_store.get_job(store, target)
        except job_store.JobNotFound:
            raise CliError(f"{target!r} is neither a run id (they go up to {MAX_ROW_ID}) nor "
                           "a job's name; see `tui-scheduler list`", 2) from None
        number = None
    if number is not None:
        try:
            run_ids = [row_id(get_run(store, number))]
        except RunNotFound:
            pass
    if not run_ids:
        run_ids = _stoppable_runs(store, target)
    if not run_ids:
        raise CliError(f"{target!r} has no running run and no retry waiting")
    if live_holder(store) is None:
        raise CliError("no engine is running, so nothing is running; "
                       "stale runs are marked interrupted when an engine starts")
    for run_id in run_ids:
        answer = send_control(store, "stop", run_id=run_id, payload={"kill": args.kill})
        if args.kill and answer == "stopping":
            answer = "killing (SIGKILL)"  # the engine's word is the same for both
        print(f"run {run_id}: {answer}")
    return 0


def _stoppable_runs(store, name: str) -> list[int]:
    """A job's runs that ``stop`` acts on: the running ones and retries still waiting."""
    job = job_store.get_job(store, name)
    return [row_id(r) for r in list_runs(store, row_id(job), limit=100)
            if r.status == "running" or (r.status == "scheduled" and r.trigger == "retry")]


def cmd_runs(args) -> int:
    from tui_scheduler.cli.history_cmds import deleted_label, history_job

    store = open_db(args)
    job = history_job(store, args.name, deleted=args.deleted)
    if not 1 <= args.n <= MAX_RUNS_LISTED:
        raise CliError(f"-n must be between 1 and {MAX_RUNS_LISTED}", 2)
    runs = list_runs(store, row_id(job), limit=args.n)
    if args.json:
        gone = job.deleted_at is not None
        emit_json([{**run_record(run, job.name, job_store.job_secret_values(job, run.params)),
                    "job_deleted": gone} for run in runs])
        return 0
    if job.deleted_at is not None:
        print(f"runs of {deleted_label(job)}")
    print(f"{'ID':>7}  {'STATUS':<11} {'TRIGGER':<9} {'SCHEDULED':<19}  {'STARTED':<19}  "
          f"{'TOOK':>8}  {'EXIT':>4}  {'TRY':>3}  NOTE")
    shown = for_terminal(sys.stdout, args, one_line=True)
    for run in runs:
        exit_code = "-" if run.exit_code is None else str(run.exit_code)
        status, trigger = shown(run.status), shown(run.trigger)
        # Why a run ended as it did (its error line, secrets masked) is what one looks
        # for in this list: a stop, a timeout, the exit message.
        note = shown(mask_values(run.error, job_store.job_secret_values(job, run.params)))
        print(f"{run.id:>7}  {status:<11} {trigger:<9} {local(run.scheduled_for):<19}  "
              f"{local(run.started_at):<19}  {_took(run):>8}  {exit_code:>4}  "
              f"{run.attempt:>3}  {note}".rstrip())
    return 0


def _took(run) -> str:
    """How long the run took ('running' while it goes, '-' when it never started)."""
    if run.started_at is None:
        return "-"
    if run.finished_at is None:
        return "running" if run.status == "running" else "-"
    return format_duration((run.finished_at - run.started_at).total_seconds(), compact=True)


def cmd_log(args) -> int:
    run_id = run_id_or_none(args.run_id)
    if run_id is None:
        raise CliError(f"run id {args.run_id!r} must be a number (see `tui-scheduler runs JOB`)",
                       2)
    store = open_db(args)
    follow_output(store, run_id, follow=args.follow, args=args)
    return 0


SYSLOG_PRIORITIES = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}


class _JournalFormatter(logging.Formatter):
    """Under systemd, prefix each line with its syslog priority (<3> error ...) so the
    journal records levels; elsewhere, plain ``LEVEL name: message`` lines. Records quote
    job names and errors: on a terminal their controls are made visible."""

    def format(self, record: logging.LogRecord) -> str:
        text = for_terminal(sys.stderr)(super().format(record))
        if os.environ.get("JOURNAL_STREAM"):
            return f"<{SYSLOG_PRIORITIES.get(record.levelname, 6)}>{text}"
        return text


def _drain_seconds(text: str, option: str = "--drain") -> float:
    from tui_scheduler.core.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}", 2) from None


def cmd_daemon(args) -> int:
    from tui_scheduler.engine import Engine
    from tui_scheduler.store.writer import Fenced

    drain = _drain_seconds(args.drain)
    heartbeat = _drain_seconds(args.heartbeat, "--heartbeat")
    if not 0.2 <= heartbeat <= 300:
        raise CliError("--heartbeat must be between 0.2s and 5m", 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    store = open_db(args)
    engine = Engine(store, heartbeat_s=heartbeat, name=args.name)
    done = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        done.set()

    reload_asked = threading.Event()

    def on_hup(_signum, _frame) -> None:
        reload_asked.set()

    # Handlers first: a SIGHUP or SIGTERM that arrives while the engine starts must not
    # kill the process with the default action.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hup)
    try:
        engine.start()
    except Fenced:
        engine.lost_lock = True  # declared dead while starting (the database stalled)
    else:
        log.info("engine started on %s (pid %s)", store.location, engine.lock.pid)
    while not done.wait(0.2):
        if engine.lost_lock:
            break
        if reload_asked.is_set():
            reload_asked.clear()
            log.info("received SIGHUP, reloading job definitions")
            engine.reload()
    if drain and engine.executor.active:
        log.info("letting %d running jobs finish for up to %gs", len(engine.executor.active),
                 drain)
    engine.shutdown(stop_runs=True, drain_s=drain)
    if engine.lost_lock:
        # Non-zero, so a supervisor (systemd's Restart=on-failure) starts a new member.
        log.error("engine stopped: declared dead by the other engines; exiting with "
                  "status %d to be restarted as a new member", EXIT_FENCED)
        return EXIT_FENCED
    log.info("engine stopped")
    return 0


def cmd_service_unit(args) -> int:
    from tui_scheduler.store.paths import resolve_db_path

    drain = _drain_seconds(args.drain)
    location = resolve_db_path(getattr(args, "db", None))
    if "://" not in location:
        location = os.path.abspath(os.path.expanduser(location))
    executable = shutil.which("tui-scheduler") or f"{sys.executable} -m tui_scheduler"
    user_line = "" if not args.system else f"User={getpass.getuser()}\n"
    wanted = "multi-user.target" if args.system else "default.target"
    unit_dir = "/etc/systemd/system" if args.system else "~/.config/systemd/user"
    print(f"""# {unit_dir}/tui-scheduler.service
# Enable with: systemctl {"" if args.system else "--user "}daemon-reload && \\
#   systemctl {"" if args.system else "--user "}enable --now tui-scheduler
[Unit]
Description=tui-scheduler engine ({location})
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
{user_line}ExecStart={executable} --db {shlex.quote(location)} daemon --drain {drain:g}s
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec={int(drain + 90)}
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy={wanted}""")
    return 0
