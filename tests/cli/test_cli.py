"""The headless CLI as a user runs it: real subprocesses against a real database file."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time

import pytest


def cli(db, *args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", db, *args],
                          capture_output=True, text=True, input=stdin, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def ok(db, *args, **kwargs):
    result = cli(db, *args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result


ADD = ("add", "x", "--manual", "--command", "true")
"""A command that creates the database (the read-only ones never do)."""


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data" / "jobs.db")


def test_cron_prints_description_and_fires(db):
    result = ok(db, "cron", "30 9 * * 1-5", "--tz", "Europe/London", "-n", "3", "--json")
    data = json.loads(result.stdout)
    assert data["description"] == "At 09:30, Monday through Friday"
    assert len(data["next"]) == 3
    assert all(stamp[11:19] == "09:30:00" for stamp in data["next"])
    assert all(stamp.endswith(("+00:00", "+01:00")) for stamp in data["next"])


@pytest.mark.parametrize("expr, words", [
    ("61 * * * *", "minute"), ("* * * *", "5 fields"), ("0 0 31 2 *", "never"),
    ("* * * jan-foo *", "month"), ("*/0 * * * *", "minute"),
])
def test_cron_errors_are_one_line_exit_2(db, expr, words):
    result = cli(db, "cron", expr)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.stderr


def test_unknown_zone_is_a_clear_error(db):
    result = cli(db, "cron", "0 9 * * *", "--tz", "Mars/Olympus")
    assert result.returncode == 2 and "Mars/Olympus" in result.stderr


def test_database_and_folder_are_owner_only(db):
    ok(db, *ADD)
    assert stat.S_IMODE(os.stat(os.path.dirname(db)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_db_location_from_environment_and_xdg(tmp_path):
    env_db = tmp_path / "env.db"
    result = subprocess.run([sys.executable, "-m", "tui_scheduler", *ADD], text=True, check=False,
                            capture_output=True, env={**os.environ,
                                                      "TUI_SCHEDULER_DB": str(env_db)})
    assert result.returncode == 0 and env_db.exists()
    env = {k: v for k, v in os.environ.items() if k != "TUI_SCHEDULER_DB"}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    result = subprocess.run([sys.executable, "-m", "tui_scheduler", *ADD], text=True, check=False,
                            capture_output=True, env=env)
    assert result.returncode == 0
    assert (tmp_path / "xdg" / "tui-scheduler" / "scheduler.db").exists()


def test_add_list_show_edit_pause_rm(db):
    ok(db, "add", "backup", "--cron", "0 2 * * *", "--command", "echo backing up",
       "--tz", "Europe/London", "--timeout", "1h", "--retries", "2", "--tag", "nightly,db",
       "--env", "API_TOKEN=s3cret", "--env", "MODE=full")
    dup = cli(db, "add", "backup", "--manual", "--command", "true")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    listed = json.loads(ok(db, "list", "--json").stdout)
    assert [job["name"] for job in listed] == ["backup"]
    shown = json.loads(ok(db, "show", "backup", "--json").stdout)
    assert shown["timeout_s"] == 3600 and shown["tags"] == ["db", "nightly"]
    assert shown["env"] == {"API_TOKEN": "********", "MODE": "full"}
    assert shown["schedule_description"] == "At 02:00, every day"
    assert "s3cret" not in ok(db, "show", "backup").stdout
    ok(db, "edit", "backup", "--every", "5m", "--overlap", "queue")
    shown = json.loads(ok(db, "show", "backup", "--json").stdout)
    assert shown["schedule"] == "every 5m" and shown["overlap"] == "queue"
    bad = cli(db, "edit", "backup", "--cron", "0 25 * * *")
    assert bad.returncode == 2 and "hour" in bad.stderr
    assert json.loads(ok(db, "show", "backup", "--json").stdout)["schedule"] == "every 5m"
    ok(db, "pause", "backup")
    assert json.loads(ok(db, "show", "backup", "--json").stdout)["paused"] is True
    ok(db, "resume", "backup")
    ok(db, "disable", "backup")
    assert json.loads(ok(db, "show", "backup", "--json").stdout)["enabled"] is False
    ok(db, "enable", "backup")
    ok(db, "rm", "backup")
    assert json.loads(ok(db, "list", "--json").stdout) == []
    missing = cli(db, "show", "backup")
    assert missing.returncode == 1 and "no job named 'backup'" in missing.stderr


@pytest.mark.parametrize("args, words", [
    (["add", "x", "--manual", "--command", ""], "target"),
    (["add", "x", "--manual", "--command", "true", "--tz", "Nowhere/Land"], "time zone"),
    (["add", "x", "--manual", "--command", "true", "--timeout", "-5s"], "timeout"),
    (["add", "x", "--manual", "--command", "true", "--retries", "1000"], "retries"),
    (["add", "bad name!", "--manual", "--command", "true"], "name"),
    (["add", "x", "--manual", "--python", "not a ref"], "target"),
    (["add", "x", "--every", "0s", "--command", "true"], "interval"),
])
def test_bad_job_definitions_are_refused(db, args, words):
    ok(db, "add", "kept", "--manual", "--command", "true")
    result = cli(db, *args)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert [job["name"] for job in json.loads(ok(db, "list", "--json").stdout)] == ["kept"]


def test_run_wait_exit_code_runs_json_and_log(db):
    ok(db, "add", "greet", "--manual", "--command", 'echo "hello $PARAM_WHO"; exit 4')
    result = cli(db, "run", "greet", "--wait", "--param", "who=world")
    assert result.returncode == 4
    assert "hello world" in result.stdout
    runs = json.loads(ok(db, "runs", "greet", "--json").stdout)
    assert len(runs) == 1
    assert set(runs[0]) >= {"id", "job", "trigger", "status", "scheduled_for", "started_at",
                            "finished_at", "exit_code", "attempt"}
    assert (runs[0]["status"], runs[0]["exit_code"], runs[0]["trigger"]) == ("failed", 4,
                                                                             "manual")
    assert ok(db, "log", str(runs[0]["id"])).stdout == "hello world\n"
    table = ok(db, "runs", "greet").stdout.splitlines()
    assert table[0].split()[-4:] == ["TOOK", "EXIT", "TRY", "NOTE"]
    # How long it took, the exit code, the attempt, then why it ended.
    assert re.search(r"\d+(ms|\.\ds|s)\s+4\s+1\s+exit code 4$", table[1]), table
    bad = cli(db, "log", "abc")
    assert bad.returncode == 2


def test_import_crontab_reads_every_line_or_reports_it(db, tmp_path):
    crontab = tmp_path / "crontab"
    crontab.write_text(
        "# nightly jobs\n"
        "SHELL=/bin/sh\nMAILTO=ops@example.com\n"
        "0 3 * * * /usr/local/bin/backup --full\n"
        "@hourly echo ping\n"
        "@reboot echo booted\n"
        "this is junk\n"
        "0 25 * * * echo bad hour\n"
        "*/5 * * * * date +\\%s\n"
        "0 1 * * * mail -s hi root%body\n")
    result = cli(db, "import-crontab", str(crontab))
    assert result.returncode == 1  # some lines were not read; they are all listed
    assert "line 7" in result.stderr and "line 8" in result.stderr and "line 10" in result.stderr
    jobs = {job["name"]: job for job in json.loads(ok(db, "list", "--json").stdout)}
    assert set(jobs) == {"crontab-4-backup", "crontab-5-echo", "crontab-6-echo",
                         "crontab-9-date"}
    assert jobs["crontab-4-backup"]["env"]["MAILTO"] == "ops@example.com"
    assert jobs["crontab-6-echo"]["schedule"] == "@reboot"
    assert jobs["crontab-9-date"]["target"] == "date +%s"


def test_export_import_round_trip_and_refusals(db, tmp_path):
    ok(db, "add", "a", "--cron", "*/5 * * * *", "--command", "echo a", "--retries", "3")
    ok(db, "add", "b", "--every", "90s", "--python", "pkg.mod:func", "--param", "x=1")
    exported = ok(db, "export").stdout
    other = str(tmp_path / "other.db")
    ok(other, "import", "-", stdin=exported)
    first = {j["name"]: {k: v for k, v in j.items() if k not in ("id", "created_at",
                                                                 "updated_at", "next_fires")}
             for j in json.loads(ok(db, "list", "--json").stdout)}
    second = {j["name"]: {k: v for k, v in j.items() if k not in ("id", "created_at",
                                                                  "updated_at", "next_fires")}
              for j in json.loads(ok(other, "list", "--json").stdout)}
    # The interval is written with the start it counted from (same fire times).
    assert re.fullmatch(r"every (90s|1m30s) from \S+", second["b"].pop("schedule"))
    assert first["b"].pop("schedule") in ("every 90s", "every 1m30s")
    assert second["b"].pop("schedule_description").startswith("Every 90 seconds (from ")
    assert first["b"].pop("schedule_description") == "Every 90 seconds"
    assert first == second
    again = cli(other, "import", "-", stdin=exported)
    assert again.returncode == 2 and "already exists" in again.stderr
    broken = cli(other, "import", "-", stdin="[[job]\nname = ")
    assert broken.returncode == 2 and "not valid TOML" in broken.stderr
    invalid = cli(other, "import", "-", stdin='[[job]]\nname="c"\nschedule="0 0 31 2 *"\n'
                                              'target="true"\n')
    assert invalid.returncode == 2 and "nothing was imported" in invalid.stderr
    assert len(json.loads(ok(other, "list", "--json").stdout)) == 2


def test_refuses_files_that_are_not_ours(tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("precious notes\n")
    result = cli(str(text_file), "list")
    assert result.returncode == 2 and "not an SQLite database" in result.stderr
    assert text_file.read_text() == "precious notes\n"
    truncated = tmp_path / "trunc.db"
    ok(str(truncated), "add", "x", "--manual", "--command", "true")
    data = truncated.read_bytes()
    truncated.write_bytes(data[:200])
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"trunc.db{suffix}").unlink(missing_ok=True)
    result = cli(str(truncated), "list")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert truncated.read_bytes() == data[:200]
    missing = cli("/proc/nope/x.db", *ADD)
    assert missing.returncode == 1 and "cannot create" in missing.stderr


def test_refuses_a_newer_schema(db):
    import sqlite3
    ok(db, *ADD)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    result = cli(db, "list")
    assert result.returncode == 1 and "newer tui-scheduler" in result.stderr


def test_help_mentions_seconds_field(db):
    assert "leading SECONDS field" in ok(db, "cron", "--help").stdout


def test_read_only_database_reads_fine_and_refuses_writes_clearly(db, monkeypatch, capsys):
    from tui_scheduler.cli import main
    from tui_scheduler.store import db as store_db

    ok(db, "add", "x", "--manual", "--command", "true")
    original = store_db._on_sqlite_connect

    def read_only(dbapi_connection, record):
        original(dbapi_connection, record)
        # What a read-only file does to writes, even for root (who ignores chmod).
        dbapi_connection.execute("PRAGMA query_only = 1")

    monkeypatch.setattr(store_db, "_on_sqlite_connect", read_only)
    assert main(["--db", db, "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["name"] == "x"
    assert main(["--db", db, "add", "y", "--manual", "--command", "true"]) == 1
    err = capsys.readouterr().err
    assert "cannot write to the database" in err and err.count("\n") == 1


def test_list_into_a_pipe_is_tab_separated_full_values(db):
    """`list | cut` and friends: no wrapping, no cutting, one header line (as `ps` does)."""
    long_name = "nightly-warehouse-reconciliation-for-every-regional-ledger-" + "x" * 40
    ok(db, "add", long_name, "--cron", "30 9 * * 1-5", "--command", "true", "--tz", "UTC")
    ok(db, "add", "plain", "--manual", "--command", "true")
    # The CLI refuses such a name; a database written by other tools may still hold one.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE job SET name = 'tab' || char(9) || 'name' WHERE name = 'plain'")
    ok(db, "run", long_name, "--wait")
    # COLUMNS narrower than any row: a table would wrap or cut at this width.
    result = ok(db, "list", env={"COLUMNS": "40"})
    lines = result.stdout.splitlines()
    assert lines[0] == "NAME\tSTATE\tSCHEDULE\tNEXT RUN\tLAST"
    assert len(lines) == 3, result.stdout
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert all(len(cells) == 5 for cells in rows.values())
    row = rows[long_name]
    assert row[1] == "active"
    assert row[2] == "At 09:30, Monday through Friday"
    assert len(row[3]) == len("2026-12-01 09:30:00") and row[3].endswith("09:30:00")
    status, _, finished = row[4].partition(" ")
    assert status == "succeeded" and len(finished) == len("2026-12-01 09:30:00")
    # A tab inside a value is written as `\t`, so it cannot open a sixth cell.
    assert rows["tab\\tname"][1:] == ["active", "Manually only (never fires by itself)", "-", "-"]


def test_export_and_import_keep_an_intervals_fire_times(db, tmp_path):
    # `every 7m` counts from the job's creation; the imported job is created later, so
    # the export writes the start it counted from.
    ok(db, "add", "ev", "--every", "7m", "--command", "true")
    before = json.loads(ok(db, "show", "ev", "--json").stdout)["next_fires"]
    exported = ok(db, "export").stdout
    assert re.search(r'schedule = "every 7m from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', exported)
    (tmp_path / "jobs.toml").write_text(exported)
    other = str(tmp_path / "other.db")
    time.sleep(1.1)
    ok(other, "import", str(tmp_path / "jobs.toml"))
    assert json.loads(ok(other, "show", "ev", "--json").stdout)["next_fires"] == before
