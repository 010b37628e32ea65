"""Secrets through the CLI, as a user runs it: real subprocesses against a real file.

Secret env/params are masked in show, show --json, list --json and export; export writes
owner-only and never through a symlink; an import hands masked values back without
losing the stored secret; a job's output is masked where it prints a known secret.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib

import pytest

from tests.cli.test_cli import cli, ok

MASK = "********"
SECRETS = ("tok-AAAA1111", "pw-BBBB2222", "hunter2-CCCC", "opaque-DDDD", "key-EEEE3333")


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data" / "jobs.db")


def _add_job(db):
    ok(db, "add", "deploy", "--manual", "--command", "echo deploying",
       "--env", f"API_TOKEN={SECRETS[0]}", "--env", f"DB_PASS={SECRETS[1]}",
       "--env", "MODE=full", "--env", "KEYBOARD_LAYOUT=us",
       "--param", f"smtpPwd={SECRETS[2]}", "--param", f"opaque={SECRETS[3]}",
       "--param", "region=eu", "--env", f"SIGNING={SECRETS[4]}",
       "--secret", "opaque", "--secret", "SIGNING")


def _no_secret_in(text: str) -> None:
    for value in SECRETS:
        assert value not in text


def test_show_list_and_json_mask_env_and_params_by_name_and_mark(db):
    _add_job(db)
    shown = ok(db, "show", "deploy")
    _no_secret_in(shown.stdout)
    assert "MODE" in shown.stdout and "full" in shown.stdout and "eu" in shown.stdout
    data = json.loads(ok(db, "show", "deploy", "--json").stdout)
    assert data["env"] == {"API_TOKEN": MASK, "DB_PASS": MASK, "MODE": "full",
                           "KEYBOARD_LAYOUT": "us", "SIGNING": MASK}
    assert data["params"] == {"smtpPwd": MASK, "opaque": MASK, "region": "eu"}
    assert data["secrets"] == ["SIGNING", "opaque"]
    listed = ok(db, "list", "--json").stdout
    _no_secret_in(listed)
    _no_secret_in(ok(db, "edit", "deploy", "--description", "x", "--json").stdout)
    # --unsecret removes a mark (in any case), and the value shows again.
    ok(db, "edit", "deploy", "--unsecret", "OPAQUE")
    assert json.loads(ok(db, "show", "deploy", "--json").stdout)["params"]["opaque"] == \
        SECRETS[3]
    bad = cli(db, "edit", "deploy", "--secret", "no spaces")
    assert bad.returncode == 2 and "secrets" in bad.stderr and "Traceback" not in bad.stderr


def test_export_masks_writes_owner_only_and_import_keeps_stored_values(db, tmp_path):
    _add_job(db)
    target = tmp_path / "jobs.toml"
    target.write_text("old")
    os.chmod(target, 0o644)
    result = ok(db, "export", str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert "--include-secrets" in result.stderr
    text = target.read_text()
    _no_secret_in(text)
    job = tomllib.loads(text)["job"][0]
    assert job["env"]["API_TOKEN"] == MASK and job["params"]["opaque"] == MASK
    assert job["env"]["MODE"] == "full" and job["secrets"] == ["SIGNING", "opaque"]
    _no_secret_in(ok(db, "export").stdout)

    # Re-importing the masked file keeps every stored secret.
    edited = text.replace('MODE = "full"', 'MODE = "quick"')
    ok(db, "import", "--replace", "-", stdin=edited)
    full = tomllib.loads(ok(db, "export", "--include-secrets").stdout)["job"][0]
    assert full["env"] == {"API_TOKEN": SECRETS[0], "DB_PASS": SECRETS[1], "MODE": "quick",
                           "KEYBOARD_LAYOUT": "us", "SIGNING": SECRETS[4]}
    assert full["params"] == {"smtpPwd": SECRETS[2], "opaque": SECRETS[3], "region": "eu"}

    # A masked file into a database that has no value behind the mask: refused, nothing
    # stored.
    other = str(tmp_path / "other.db")
    refused = cli(other, "import", str(target))
    assert refused.returncode == 2 and "nothing was imported" in refused.stderr
    assert "masked placeholder" in refused.stderr and "Traceback" not in refused.stderr
    assert json.loads(ok(other, "list", "--json").stdout) == []
    # With --include-secrets the file carries the values and round-trips whole.
    ok(db, "export", "--include-secrets", str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    ok(other, "import", str(target))
    assert tomllib.loads(ok(other, "export", "--include-secrets").stdout)["job"][0] == full


def test_export_never_follows_a_symlink_nor_blocks_on_a_fifo(db, tmp_path):
    _add_job(db)
    victim = tmp_path / "someone_elses.txt"
    victim.write_text("precious")
    os.chmod(victim, 0o644)
    link = tmp_path / "link.toml"
    link.symlink_to(victim)
    result = cli(db, "export", str(link))
    assert result.returncode == 2 and "symbolic link" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert victim.read_text() == "precious"
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o644
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = cli(db, "export", str(fifo))
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_edit_with_the_mask_keeps_the_stored_secret(db):
    _add_job(db)
    ok(db, "edit", "deploy", "--env", f"API_TOKEN={MASK}", "--env", "MODE=x")
    env = tomllib.loads(ok(db, "export", "--include-secrets").stdout)["job"][0]["env"]
    assert env == {"API_TOKEN": SECRETS[0], "DB_PASS": SECRETS[1], "MODE": "x",
                   "KEYBOARD_LAYOUT": "us", "SIGNING": SECRETS[4]}
    refused = cli(db, "add", "new", "--manual", "--command", "true",
                  "--env", f"DB_PASSWORD={MASK}")
    assert refused.returncode == 2 and "masked placeholder" in refused.stderr


def test_log_and_run_wait_mask_secrets_the_job_prints(db):
    ok(db, "add", "leaky", "--manual", "--env", f"API_TOKEN={SECRETS[0]}",
       "--env", "SHORT_KEY=abc", "--param", f"opaque={SECRETS[3]}", "--secret", "opaque",
       "--command", 'echo "token=$API_TOKEN short=$SHORT_KEY"; '
                    'echo "p=$PARAM_OPAQUE run=$PARAM_DB_PASSWORD" >&2; exit 3')
    waited = cli(db, "run", "leaky", "--wait", "--param", "db_password=run-only-9999")
    assert waited.returncode == 3, waited.stderr
    assert waited.stdout == f"token={MASK} short=abc\n"
    assert f"p={MASK} run={MASK}" in waited.stderr
    assert "run-only-9999" not in waited.stderr and SECRETS[3] not in waited.stderr
    runs = ok(db, "runs", "leaky", "--json").stdout
    assert MASK in json.loads(runs)[0]["error"]  # the last stderr line
    assert "run-only-9999" not in runs and SECRETS[3] not in runs
    run_id = json.loads(runs)[0]["id"]
    logged = ok(db, "log", str(run_id))
    assert logged.stdout == f"token={MASK} short=abc\n"
    assert f"p={MASK} run={MASK}" in logged.stderr and "run-only-9999" not in logged.stderr


def test_progress_message_and_error_line_are_masked_at_rest(db):
    # They are summaries shown in the table, toasts, `runs` and JSON alike: the engine
    # masks a known secret before keeping them (the output itself is kept as printed).
    import sqlite3

    ok(db, "add", "chatty", "--manual", "--env", f"API_TOKEN={SECRETS[0]}",
       "--command", 'echo "{\\"progress\\": 0.5, \\"message\\": \\"using $API_TOKEN\\"}"; '
                    'echo "auth $API_TOKEN refused" >&2; exit 4')
    assert cli(db, "run", "chatty", "--wait").returncode == 4
    with sqlite3.connect(db) as conn:
        message, error = conn.execute(
            "SELECT progress_message, error FROM run ORDER BY id DESC LIMIT 1").fetchone()
    assert message == f"using {MASK}"
    assert error == f"exit code 4: auth {MASK} refused"
