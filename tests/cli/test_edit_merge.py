"""`edit` changes only what it names: real subprocesses against a real database file.

`--env K=V` / `--param K=V` set or override those keys and keep the others, `--tag` and
`--secret` add; `--unset-env`, `--unset-param`, `--untag` and `--unsecret` remove, and
refuse (one line, exit 2, nothing stored changed) a key or item the job does not have.
"""

from __future__ import annotations

import json
import tomllib

import pytest

from tests.cli.test_cli import cli, ok
from tests.helpers import assert_refused, sql_dump

MASK = "********"
TOKEN = "tok-ORIGINAL-1111"


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "data" / "jobs.db")
    ok(path, "add", "sec", "--manual", "--command", "true",
       "--env", f"API_TOKEN={TOKEN}", "--env", "MODE=full", "--env", "REGION=eu",
       "--param", "size=10", "--param", "colour=red",
       "--tag", "nightly,db", "--secret", "REGION")
    return path


def _job(db) -> dict:
    """The job as export --include-secrets writes it: every stored value in clear."""
    return tomllib.loads(ok(db, "export", "--include-secrets").stdout)["job"][0]



def test_env_param_tag_and_secret_edits_keep_what_they_do_not_name(db):
    ok(db, "edit", "sec", "--env", "API_TOKEN=tok-NEW-2222", "--env", "EXTRA=1",
       "--param", "size=20", "--tag", "weekly", "--secret", "EXTRA")
    job = _job(db)
    assert job["env"] == {"API_TOKEN": "tok-NEW-2222", "MODE": "full", "REGION": "eu",
                          "EXTRA": "1"}
    assert job["params"] == {"size": "20", "colour": "red"}
    assert job["tags"] == ["db", "nightly", "weekly"]
    assert job["secrets"] == ["EXTRA", "REGION"]
    # The mask handed back still keeps the stored value, and the other keys stay.
    ok(db, "edit", "sec", "--env", f"API_TOKEN={MASK}", "--env", "MODE=quick")
    assert _job(db)["env"] == {"API_TOKEN": "tok-NEW-2222", "MODE": "quick", "REGION": "eu",
                               "EXTRA": "1"}


def test_unset_untag_and_unsecret_remove_only_what_they_name(db):
    ok(db, "edit", "sec", "--unset-env", "MODE", "--unset-env", "REGION",
       "--unset-param", "colour", "--untag", "db", "--unsecret", "region")
    job = _job(db)
    assert job["env"] == {"API_TOKEN": TOKEN}
    assert job["params"] == {"size": "10"}
    assert job["tags"] == ["nightly"]
    assert job.get("secrets", []) == []
    # One edit may remove one key and set another.
    ok(db, "edit", "sec", "--unset-env", "API_TOKEN", "--env", "NEW=x")
    assert _job(db)["env"] == {"NEW": "x"}


@pytest.mark.parametrize("args, words", [
    (["--unset-env", "NOPE"], ["env", "'NOPE'", "API_TOKEN, MODE, REGION"]),
    (["--unset-env", "MODE", "--unset-env", "mode"], ["env", "'mode'"]),
    (["--unset-param", "nope"], ["params", "'nope'", "colour, size"]),
    (["--untag", "weekly"], ["tags", "'weekly'", "db, nightly"]),
    (["--unsecret", "MODE"], ["secrets", "'MODE'", "REGION"]),
    (["--env", "MODE=x", "--unset-env", "MODE"], ["env", "MODE", "both"]),
    (["--secret", ""], ["--secret", "--unsecret"]),
    (["--tag", ""], ["--tag", "--untag"]),
])
def test_removing_what_the_job_lacks_is_refused_and_changes_nothing(db, args, words):
    before = sql_dump(db)
    assert_refused(cli(db, "edit", "sec", "--description", "changed", *args), *words)
    assert sql_dump(db) == before


def test_edit_help_names_the_removal_flags(db):
    text = ok(db, "edit", "--help").stdout
    for flag in ("--unset-env", "--unset-param", "--untag", "--unsecret"):
        assert flag in text
    assert "replaces the list" not in text
    # add keeps its options: nothing to remove from a job that does not exist yet.
    assert "--unset-env" not in ok(db, "add", "--help").stdout


def test_a_mark_in_another_case_masks_the_value_in_show(db):
    ok(db, "edit", "sec", "--env", "custom2=value-CLEAR-3333", "--secret", "CUSTOM2")
    shown = ok(db, "show", "sec")
    assert "value-CLEAR-3333" not in shown.stdout and "custom2" in shown.stdout
    data = json.loads(ok(db, "show", "sec", "--json").stdout)
    assert data["env"]["custom2"] == MASK
