"""Bad input that used to escape: each is one line on stderr, exit 2, nothing stored changes.

Every case drives the real CLI in a subprocess against a real database file holding one
job, and compares a full SQL dump of that database before and after.
"""

from __future__ import annotations

import os
import stat
import time

import pytest

from tests.helpers import assert_refused, cli, finished_runs, sql_dump, wait_for
from tui_scheduler.store.jobs import get_job

HUGE = "99999999999999999999999"


def _toml_job(extra: str, name: str = "imported") -> str:
    return f'[[job]]\nname = "{name}"\nschedule = "manual"\ntarget = "true"\n{extra}\n'


CASES = {
    # Numbers past 64 bits used to end in an OverflowError traceback.
    "log-huge-run-id": (["log", HUGE], None, ["run id", "too large"]),
    "log-follow-huge-run-id": (["log", "-f", HUGE], None, ["too large"]),
    "stop-huge-run-id": (["stop", HUGE], None, ["neither a run id", "nor a job"]),
    "runs-huge-n": (["runs", "keep", "-n", HUGE], None, ["-n must be between"]),
    # TOML values of types a job cannot carry.
    "toml-datetime-param": (["import", "-"], _toml_job("params = { when = 2024-01-01T10:00:00 }"),
                            ["nothing was imported", "when is datetime", "string or a number"]),
    "toml-datetime-env": (["import", "-"], _toml_job("env = { WHEN = 2024-01-01T10:00:00 }"),
                          ["WHEN is datetime"]),
    "toml-list-param": (["import", "-"], _toml_job("params = { ids = [1, 2] }"), ["ids is list"]),
    "toml-table-env": (["import", "-"], _toml_job("env = { A = { b = 1 } }"), ["A is dict"]),
    "toml-bool-env": (["import", "-"], _toml_job("env = { DEBUG = true }"), ["DEBUG is bool"]),
    # NUL bytes: every run of such a job would fail.
    "nul-env-value": (["import", "-"], _toml_job('env = { A = "x\\u0000y" }'), ["NUL"]),
    "nul-env-name": (["import", "-"], _toml_job('env = { "A\\u0000" = "x" }'), ["NUL"]),
    "nul-param-value": (["import", "-"], _toml_job('params = { a = "x\\u0000" }'), ["NUL"]),
    "nul-param-name": (["import", "-"], _toml_job('params = { "a\\u0000b" = "x" }'), ["NUL"]),
    "nul-workdir": (["import", "-"], _toml_job('workdir = "/tmp/\\u0000"'), ["workdir", "NUL"]),
    "nul-command": (["import", "-"], '[[job]]\nname = "n"\ntarget = "echo \\u0000"\n',
                    ["target", "NUL"]),
    # Sizes: each message names the limit.
    "description-5k-cli": (["add", "big", "--manual", "--command", "true",
                            "--description", "d" * 5000], None, ["description", "4 KiB"]),
    "description-30mb-toml": (["import", "-"], _toml_job(f'description = "{"d" * 30_000_000}"'),
                              ["description", "30000000 bytes", "4 KiB"]),
    "command-65k": (["import", "-"], f'[[job]]\nname = "c"\ntarget = "{"x" * 70_000}"\n',
                    ["target", "64 KiB"]),
    "env-value-65k": (["import", "-"], _toml_job(f'env = {{ A = "{"v" * 70_000}" }}'),
                      ["env", "64 KiB"]),
    "param-value-65k": (["import", "-"], _toml_job(f'params = {{ a = "{"v" * 70_000}" }}'),
                        ["params", "64 KiB"]),
    "workdir-5k": (["add", "w", "--manual", "--command", "true", "--workdir",
                    "/" + "w" * 5000], None, ["workdir", "4 KiB"]),
    "tag-65-chars": (["add", "t", "--manual", "--command", "true", "--tag", "t" * 65], None,
                     ["tag", "limit is 64"]),
    "51-tags": (["add", "t", "--manual", "--command", "true",
                 "--tag", ",".join(f"t{i}" for i in range(51))], None, ["limit is 50"]),
    # Parameter names become $PARAM_<NAME>: a terminal control or a space is refused,
    # as it is in an env name, from the CLI and a TOML file alike.
    "param-name-escape-add": (["add", "p", "--manual", "--command", "true",
                               "--param", "\x1b]0;ERR\x07=1"], None,
                              ["params", "not a parameter name", "letters, digits"]),
    "param-name-escape-edit": (["edit", "keep", "--param", "\x1b]0;ERR\x07=1"], None,
                               ["params", "not a parameter name"]),
    "param-name-65-chars": (["edit", "keep", "--param", "p" * 65 + "=1"], None,
                            ["params", "1-64"]),
    "toml-param-name-escape": (["import", "-"], _toml_job('params = { "a\\u001b[2J" = "1" }'),
                               ["nothing was imported", "not a parameter name"]),
    "toml-param-name-space": (["import", "-"], _toml_job('params = { "two words" = "1" }'),
                              ["not a parameter name"]),
    "run-param-name-escape": (["run", "keep", "--param", "a b\x1b[2J=1"], None,
                              ["--param", "not a parameter name"]),
    # Names are never trimmed behind the user's back.
    "name-trailing-newline": (["add", "nl\n", "--manual", "--command", "true"], None,
                              ["line break", "never trimmed"]),
    "name-leading-space": (["add", " sp", "--manual", "--command", "true"], None,
                           ["spaces"]),
    "toml-name-trailing-newline": (["import", "-"], _toml_job("", name="x\\n"),
                                   ["line break"]),
    # A one-off in the past would never fire.
    "at-in-the-past": (["add", "late", "--at", "2020-01-01 10:00", "--command", "true"], None,
                       ["already passed", "--allow-past"]),
    "edit-at-in-the-past": (["edit", "keep", "--at", "2020-01-01 10:00"], None,
                            ["already passed"]),
    "allow-past-without-at": (["add", "x", "--manual", "--command", "true",
                               "--allow-past"], None, ["only goes with --at"]),
    # Argument errors: one line and where to read more, not the usage block.
    "unknown-option": (["add", "x", "--manual", "--command", "true", "--bogus"], None,
                       ["unrecognized arguments: --bogus", "try 'tui-scheduler add --help'"]),
    "missing-schedule": (["add", "x", "--command", "true"], None,
                         ["--cron --every --at --manual", "try 'tui-scheduler add --help'"]),
    "bad-choice": (["edit", "keep", "--overlap", "sometimes"], None,
                   ["invalid choice", "try 'tui-scheduler edit --help'"]),
    "bad-int": (["runs", "keep", "-n", "many"], None, ["try 'tui-scheduler runs --help'"]),
    "unknown-command": (["frobnicate"], None, ["invalid choice", "try 'tui-scheduler --help'"]),
}



@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "data" / "jobs.db")
    result = cli(path, "add", "keep", "--at", "2099-01-01 09:00", "--command", "true")
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(db, case):
    args, stdin, words = CASES[case]
    before = sql_dump(db)
    started = time.monotonic()
    assert_refused(cli(db, *args, stdin=stdin), *words)
    assert time.monotonic() - started < 30
    assert sql_dump(db) == before


def test_a_dangling_symlink_as_database_is_refused_and_not_followed(tmp_path):
    link = tmp_path / "db-link"
    target = tmp_path / "nowhere" / "real.db"
    link.symlink_to(target)
    assert_refused(cli(str(link), "list"), "symbolic link", "does not exist")
    assert os.readlink(link) == str(target) and not target.parent.exists()


def test_proc_self_mem_as_database_is_refused():
    assert_refused(cli("/proc/self/mem", "list"), "/proc/self/mem")


def test_a_fifo_as_database_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    assert_refused(cli(str(fifo), "list", timeout=20), "named pipe")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_folder_as_database_is_refused(tmp_path):
    assert_refused(cli(str(tmp_path), "add", "x", "--manual", "--command", "true"), "folder")
    assert os.listdir(tmp_path) == []


def test_allow_past_runs_the_job_once_right_away(store, db_path, make_engine):
    make_engine()
    result = cli(db_path, "add", "late", "--at", "2020-01-01 10:00", "--command", "echo hi",
                 "--allow-past")
    assert result.returncode == 0, result.stderr
    job = get_job(store, "late")
    runs = wait_for(lambda: finished_runs(store, job.id), timeout=30,
                    what="the past one-off to run")
    time.sleep(1.5)
    runs = finished_runs(store, job.id)
    assert [(r.status, r.trigger) for r in runs] == [("succeeded", "schedule")]


@pytest.mark.parametrize("args", [["show", HUGE], ["runs", HUGE], ["runs", HUGE, "--deleted"],
                                  ["rm", HUGE], ["pause", HUGE]])
def test_a_job_reference_past_64_bits_is_just_an_unknown_name(db, args):
    before = sql_dump(db)
    assert_refused(cli(db, *args), "no", "job named", code=1)
    assert sql_dump(db) == before
