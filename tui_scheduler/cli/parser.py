"""The argument parser: every subcommand and every job option."""

from __future__ import annotations

import argparse
from typing import NoReturn

from tui_scheduler.core.safe_text import safe_text

SCHEDULE_HELP = """\
schedules:
  --cron "0 9 * * 1-5"     5 fields: minute hour day-of-month month day-of-week,
                           as cron reads them (Sunday is 0 or 7; when both day fields are
                           restricted a day matches either, unless one starts with *).
  --cron "*/10 * * * * *"  6 fields: a leading SECONDS field, then the 5 above (Quartz order).
  --cron @daily            also @hourly @midnight @weekly @monthly @yearly @annually @reboot.
  --every 90s | 5m | 2h    an interval; add "from 2026-12-01T09:00" to anchor it.
  --at "2026-12-01 09:00"  once, at a time in the job's zone; --at now runs once right away.
                           A time that has passed is refused (add --allow-past to run once now).
  --manual                 never fires by itself; run it with `tui-scheduler run NAME`.
"""


class OneLineParser(argparse.ArgumentParser):
    """An argument error is one line on stderr with a pointer to the right --help, not the
    whole usage block; exit code 2 as argparse has it."""

    def __init__(self, *args, last_used: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._last_used = {} if last_used is None else last_used

    def parse_known_args(self, args=None, namespace=None):
        # Subcommand parsers run inside the main one; an unknown option is reported by
        # the main parser, but the help that explains it is the subcommand's.
        self._last_used["prog"] = self.prog
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        prog = self._last_used.get("prog", self.prog)
        self.exit(2, f"{prog}: {safe_text(message, one_line=True)}; "
                     f"try '{prog} --help'\n")


def add_job_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    when = parser.add_mutually_exclusive_group(required=creating)
    when.add_argument("--cron", metavar="EXPR", help="cron expression (see below)")
    when.add_argument("--every", metavar="DUR", help="interval such as 90s, 5m, 2h")
    when.add_argument("--at", metavar="TIME", help="one-off date-time, or 'now'")
    when.add_argument("--manual", action="store_true", help="only runs when asked")
    parser.add_argument("--allow-past", action="store_true",
                        help="accept an --at time that has passed: the job runs once right "
                             "away, as with --at now (otherwise such a time is refused)")
    what = parser.add_mutually_exclusive_group(required=creating)
    what.add_argument("--command", metavar="CMD",
                      help="shell command line (/bin/sh -c, or $SHELL -c with --env SHELL=...)")
    what.add_argument("--python", metavar="REF", help="package.module:function to call")
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone (default: local)")
    parser.add_argument("--description", metavar="TEXT")
    parser.add_argument("--timeout", metavar="DUR", help="stop the run after this long")
    parser.add_argument("--grace", metavar="DUR", help="SIGTERM-to-SIGKILL wait (default 10s)")
    parser.add_argument("--retries", type=str, metavar="N", help="retry a failed run N times")
    parser.add_argument("--retry-delay", metavar="DUR", help="first retry delay (default 30s)")
    parser.add_argument("--retry-backoff", metavar="X", help="delay factor per retry (default 2)")
    parser.add_argument("--retry-max-delay", metavar="DUR", help="cap on retry delay (1h)")
    parser.add_argument("--overlap", choices=["skip", "queue", "allow"],
                        help="when a fire comes while a run is going (default skip)")
    parser.add_argument("--misfire", choices=["skip", "once", "all"],
                        help="fires missed while no engine ran (default skip)")
    parser.add_argument("--catchup-limit", metavar="N", help="cap for --misfire all (10)")
    parser.add_argument("--stop-on-error", action=argparse.BooleanOptionalAction, default=None,
                        help="disable the job after a failed run")
    parser.add_argument("--restartable", action=argparse.BooleanOptionalAction, default=None,
                        help="run again after an engine crash interrupted it")
    # On edit these change only what they name and keep the job's other keys and tags.
    sets = "" if creating else "set or override "
    parser.add_argument("--param", action="append", metavar="K=V", default=None,
                        help=f"{sets}a default parameter (repeatable); reaches commands as "
                             "$PARAM_K; K is 1-64 letters, digits, _ . -")
    parser.add_argument("--env", action="append", metavar="K=V", default=None,
                        help=f"{sets}an environment variable (repeatable)")
    parser.add_argument("--secret", action="append", metavar="NAME", default=None,
                        help="mark an env variable or param secret whatever its name, "
                             "matched in any case (repeatable"
                             + (")" if creating else "; adds to the job's marks)"))
    parser.add_argument("--workdir", metavar="DIR")
    parser.add_argument("--tag", action="append", metavar="TAG", default=None,
                        help="tag (repeatable; or comma-separated)" if creating else
                             "add a tag (repeatable; or comma-separated)")
    if not creating:
        # Edits change only what they name; these remove, and refuse a name the job
        # does not have.
        for option, item in (("--unset-env", "environment variable"),
                             ("--unset-param", "default parameter"),
                             ("--untag", "tag"), ("--unsecret", "secret mark")):
            parser.add_argument(option, action="append", metavar="NAME", default=None,
                                help=f"remove this {item} (repeatable)")
    parser.add_argument("--engines", metavar="NAMES",
                        help="on a shared PostgreSQL database: '*' runs it on every engine, "
                             "a comma list pins it to those engines (default: any one)")
    parser.add_argument("--disabled", action="store_true", default=None,
                        help="create the job disabled")


def add_raw_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", action="store_true",
                        help="write a job's text exactly as stored, control characters "
                             "included (the default when stdout is not a terminal; on a "
                             "terminal they are shown as ^[ ...)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tui-scheduler", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A terminal console for scheduled jobs. With no command, opens the console.",
        epilog=SCHEDULE_HELP)
    parser.add_argument("--db", metavar="PATH",
                        help="database file (default $TUI_SCHEDULER_DB or "
                             "~/.local/share/tui-scheduler/scheduler.db)")
    parser.add_argument("--demo", action="store_true",
                        help="open the console on a temporary database with sample jobs")
    sub = parser.add_subparsers(dest="subcommand", metavar="COMMAND")

    def command(name: str, help_text: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text,
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              last_used=parser._last_used, **kwargs)

    cron = command("cron", "describe a cron expression and print its next fire times",
                   epilog=SCHEDULE_HELP)
    cron.add_argument("expr", help="cron expression, macro, 'every 5m', 'at ...'")
    cron.add_argument("--tz", metavar="ZONE")
    cron.add_argument("-n", type=int, default=5, metavar="N", help="how many fire times (5)")
    cron.add_argument("--json", action="store_true")

    add = command("add", "add a job", epilog=SCHEDULE_HELP)
    add.add_argument("name")
    add_job_options(add, creating=True)
    add.add_argument("--json", action="store_true")
    edit = command("edit", "change a job's fields: only those named (--env K=V keeps the "
                   "job's other variables; --unset-env K removes one)", epilog=SCHEDULE_HELP)
    edit.add_argument("name")
    edit.add_argument("--rename", metavar="NEW")
    add_job_options(edit, creating=False)
    edit.add_argument("--enabled", dest="disabled", action="store_false", default=None)
    edit.add_argument("--json", action="store_true")

    listing = command("list", "list jobs")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--deleted", action="store_true",
                         help="list deleted jobs whose history is kept (until purge)")
    add_raw_option(listing)
    show = command("show", "show one job")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    add_raw_option(show)
    for name, text in (("rm", "delete a job (its history stays readable)"),
                       ("pause", "pause a job"), ("resume", "resume a paused job"),
                       ("enable", "enable a job"), ("disable", "disable a job")):
        cmd = command(name, text)
        cmd.add_argument("name")

    run = command("run", "run a job now")
    run.add_argument("name")
    run.add_argument("--wait", action="store_true",
                     help="wait for the end, print the output, exit with the run's exit code")
    run.add_argument("--param", action="append", metavar="K=V", default=[])
    run.add_argument("--json", action="store_true")
    add_raw_option(run)
    stop = command("stop", "stop a job's running runs, or one run by id")
    stop.add_argument("target", metavar="NAME|RUN_ID")
    stop.add_argument("--kill", action="store_true", help="SIGKILL at once")
    runs = command("runs", "list a job's runs, newest first")
    runs.add_argument("name")
    runs.add_argument("-n", type=int, default=20, metavar="N")
    runs.add_argument("--json", action="store_true")
    runs.add_argument("--deleted", action="store_true",
                      help="a deleted job's runs, even if a live job now has its name")
    purge = command("purge", "remove a deleted job's history (runs and output) for good")
    purge.add_argument("name", metavar="NAME|ID", help="a deleted job (see list --deleted)")
    purge.add_argument("--yes", action="store_true", help="do not ask first")
    add_raw_option(runs)
    logcmd = command("log", "print a run's output")
    logcmd.add_argument("run_id", type=str)
    logcmd.add_argument("--follow", "-f", action="store_true", help="keep printing until it ends")
    add_raw_option(logcmd)

    daemon = command("daemon", "run the engine in the foreground (SIGTERM/SIGINT stop it "
                             "gracefully, SIGHUP reloads job definitions)")
    daemon.add_argument("--drain", metavar="DUR", default="0s",
                        help="on SIGTERM, let running jobs finish for this long before "
                             "stopping them (default 0s)")
    daemon.add_argument("--name", metavar="NAME",
                        help="this engine's name, for jobs pinned with --engines "
                             "(default: the host name)")
    daemon.add_argument("--heartbeat", metavar="DUR", default="5s",
                        help="heartbeat period (default 5s); on a shared PostgreSQL database "
                             "an engine silent for 1.5 periods is taken over")
    unit = command("service-unit", "print a systemd unit file that runs the daemon")
    scope = unit.add_mutually_exclusive_group()
    scope.add_argument("--user", dest="system", action="store_false", default=False,
                       help="a user unit (default): ~/.config/systemd/user/")
    scope.add_argument("--system", dest="system", action="store_true",
                       help="a system unit: /etc/systemd/system/")
    unit.add_argument("--drain", metavar="DUR", default="0s")
    crontab = command("import-crontab", "turn each line of a user crontab into a job")
    crontab.add_argument("file", help="crontab file, or - for standard input")
    crontab.add_argument("--prefix", default="crontab", help="job name prefix (crontab)")
    crontab.add_argument("--tz", metavar="ZONE")
    export = command("export", "write job definitions as TOML")
    export.add_argument("file", nargs="?", default="-", help="output file (default stdout)")
    export.add_argument("--include-secrets", action="store_true",
                        help="write secret env/param values instead of the mask")
    importer = command("import", "read job definitions from TOML")
    importer.add_argument("file", help="TOML file, or - for standard input")
    importer.add_argument("--replace", action="store_true",
                          help="update jobs whose names exist (default: refuse)")
    database = command("db", "the database's schema revision, upgrades and backups")
    db_sub = database.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    db_sub.add_parser("status", help="the schema revision, the newest, and whether an "
                                     "upgrade is pending")
    db_sub.add_parser("upgrade", help="upgrade the schema to this version's newest")
    backup = db_sub.add_parser("backup", help="copy an SQLite database to a new owner-only "
                                              "file while engines run")
    backup.add_argument("file", help="the backup file to create")
    backup.add_argument("--force", action="store_true", help="replace an existing file")
    return parser
