"""`run --json` prints exactly one JSON object on stdout, whether the run starts on a
daemon or in the foreground, with or without --wait; the job's own output goes to stderr.
Real subprocesses: the CLI, and a daemon holding a real SQLite file."""

from __future__ import annotations

import json
import signal

import pytest

from tests.engine.test_crash_recovery import start_daemon, wait_engine
from tests.helpers import cli
from tui_scheduler.store.jobs import create_job

HOUT = "echo out-line; echo err-line >&2; exit 3"


@pytest.fixture
def daemon(store, db_path):
    proc = start_daemon(db_path)
    try:
        wait_engine(store, proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def runs_json(db_path: str, name: str) -> list[dict]:
    result = cli(db_path, "runs", name, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_foreground_run_json_is_one_object_and_the_output_goes_to_stderr(store, db_path):
    create_job(store, {"name": "hout", "schedule": "manual", "target": HOUT})
    for extra in ((), ("--wait",)):
        result = cli(db_path, "run", "hout", "--json", *extra)
        assert result.returncode == 3, result.stderr
        record = json.loads(result.stdout)  # the whole of stdout, nothing else
        assert record["ran_on"] == "foreground" and record["engine_pid"] is None
        assert record["status"] == "failed" and record["exit_code"] == 3
        assert "out-line" in result.stderr and "err-line" in result.stderr
        listed = next(run for run in runs_json(db_path, "hout") if run["id"] == record["id"])
        assert {k: record[k] for k in listed} == listed


def test_run_json_on_the_engine_is_one_object(store, db_path, daemon):
    create_job(store, {"name": "flood", "schedule": "manual",
                       "target": "for i in $(seq 200); do echo flood $i; done; sleep 30"})
    started = cli(db_path, "run", "flood", "--json")
    assert started.returncode == 0, started.stderr
    record = json.loads(started.stdout)
    assert record["job"] == "flood" and isinstance(record["id"], int)
    assert record["ran_on"] == "engine" and record["engine_pid"] == daemon.pid
    assert record["status"] in ("running", "queued", "scheduled")
    assert cli(db_path, "stop", "flood").returncode == 0


def test_run_wait_json_on_the_engine_is_one_object_with_the_runs_exit_code(store, db_path,
                                                                           daemon):
    create_job(store, {"name": "hout", "schedule": "manual", "target": HOUT})
    result = cli(db_path, "run", "hout", "--wait", "--json")
    assert result.returncode == 3, result.stderr
    record = json.loads(result.stdout)
    assert "out-line" not in result.stdout
    assert "out-line" in result.stderr and "err-line" in result.stderr
    assert record["ran_on"] == "engine" and record["engine_pid"] == daemon.pid
    assert record["finished_at"] and record["exit_code"] == 3
    (listed,) = runs_json(db_path, "hout")
    assert {k: record[k] for k in listed} == listed
