"""Entry point: ``tui-scheduler`` opens the console; subcommands work headless.

Every failure ends as one line on stderr and a non-zero exit code, never a traceback.
Error lines quote names and errors from the database: their controls are made visible.
"""

from __future__ import annotations

import sys

from tui_scheduler.cli.common import CliError
from tui_scheduler.cli.parser import build_parser
from tui_scheduler.core.safe_text import safe_text


def _handlers():
    from tui_scheduler.cli import db_cmds, history_cmds, io_cmds, job_cmds, run_cmds

    return {
        "cron": io_cmds.cmd_cron, "add": job_cmds.cmd_add, "edit": job_cmds.cmd_edit,
        "list": job_cmds.cmd_list, "show": job_cmds.cmd_show, "rm": job_cmds.cmd_flag,
        "pause": job_cmds.cmd_flag, "resume": job_cmds.cmd_flag, "enable": job_cmds.cmd_flag,
        "disable": job_cmds.cmd_flag, "run": run_cmds.cmd_run, "stop": run_cmds.cmd_stop,
        "runs": run_cmds.cmd_runs, "log": run_cmds.cmd_log, "daemon": run_cmds.cmd_daemon,
        "import-crontab": io_cmds.cmd_import_crontab, "export": io_cmds.cmd_export,
        "import": io_cmds.cmd_import, "service-unit": run_cmds.cmd_service_unit,
        "purge": history_cmds.cmd_purge,
        "db": db_cmds.cmd_db,
    }


def _open_console(args) -> int:
    from tui_scheduler.ui.launch import launch_console

    return launch_console(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.subcommand is None:
            return _open_console(args)
        return _handlers()[args.subcommand](args)
    except CliError as exc:
        _error(exc)
        return exc.code
    except KeyboardInterrupt:
        print("tui-scheduler: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:
        code = _known_failure(exc)
        if code is None:
            raise
        return code


def _known_failure(exc: Exception) -> int | None:
    """One line on stderr and an exit code for the failures users cause; imported only
    now, so the console's first frame does not wait for SQLAlchemy."""
    from sqlalchemy.exc import OperationalError

    from tui_scheduler.core.jobspec import JobSpecError
    from tui_scheduler.engine.lock import EngineLockedError
    from tui_scheduler.store.db import StoreError
    from tui_scheduler.store.jobs import JobNotFound
    from tui_scheduler.store.runs import RunNotFound

    if isinstance(exc, (JobSpecError, ValueError)):
        _error(exc)
        return 2
    if isinstance(exc, (StoreError, EngineLockedError, JobNotFound, RunNotFound)):
        _error(exc)
        return getattr(exc, "code", 1)
    if isinstance(exc, OperationalError):
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        if "readonly" in reason:
            reason = "the database file is read-only; check its permissions"
        elif "locked" in reason:
            reason = "the database stayed locked by another program; try again"
        _error(f"cannot write to the database: {reason}")
        return 1
    return None


def _error(message: object) -> None:
    print(f"tui-scheduler: {safe_text(message)}", file=sys.stderr)
