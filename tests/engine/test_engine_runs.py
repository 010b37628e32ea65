"""The engine against real processes and a real SQLite file: firing, progress, output,
stop and timeout of process trees, retries, overlap, python jobs."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import psutil
import pytest

from tests.helpers import finished_runs, output_text, runs_of, wait_for
from tui_scheduler.store.jobs import create_job, get_job


def add(store, name, target, schedule="manual", **fields):
    return create_job(store, {"name": name, "target": target, "schedule": schedule, **fields})


def test_cron_job_fires_on_its_second(store, make_engine):
    job = add(store, "tick", "true", "*/2 * * * * *")
    make_engine()
    wait_for(lambda: len(finished_runs(store, job.id)) >= 2, timeout=8, what="two fires")
    for run in finished_runs(store, job.id)[:2]:
        assert run.status == "succeeded"
        assert run.trigger == "schedule"
        assert run.scheduled_for.microsecond == 0
        assert run.scheduled_for.second % 2 == 0
        lateness = (run.started_at - run.scheduled_for).total_seconds()
        assert 0 <= lateness < 1.0


def test_progress_and_output_are_recorded(store, make_engine):
    script = ("echo starting; echo 25%; echo warn >&2; "
              "echo '{\"progress\": {\"done\": 3, \"total\": 4}, \"message\": \"three\"}'; "
              "printf 'a\\rb\\r\\nc'")
    job = add(store, "prog", script)
    engine = make_engine()
    run = engine.run_now(job.id)
    assert run.finished.wait(10)
    record = finished_runs(store, job.id)[-1]
    assert record.status == "succeeded" and record.exit_code == 0
    assert (record.progress_done, record.progress_total, record.progress_message) == \
        (3, 4, "three")
    lines = output_text(store, record.id)
    assert ("err", "warn") in lines
    assert [line for stream, line in lines if stream == "out"] == [
        "starting", "25%", '{"progress": {"done": 3, "total": 4}, "message": "three"}',
        "a", "b", "c"]


def test_bare_percent_keeps_the_last_message(store, make_engine):
    # A mixed stream: the NN% lines carry no message, so the last one said stays.
    script = ("echo '{\"progress\": 0.1, \"message\": \"copying\"}'; sleep 0.3; "
              "echo 50%; sleep 0.3; echo 75%")
    job = add(store, "mixed", script)
    engine = make_engine()
    run = engine.run_now(job.id)
    assert run.finished.wait(10)
    record = finished_runs(store, job.id)[-1]
    assert (record.progress_done, record.progress_total, record.progress_message) == \
        (75, 100, "copying")


def _tree_script(tmp_path):
    pids = tmp_path / "pids"
    return pids, (f"sh -c 'sleep 300 & echo $! >> {pids}; sleep 300' & echo $! >> {pids}; "
                  f"sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; wait")


def _wait_pids(pids_file, count):
    wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) >= count,
             what="process tree to start")
    return [int(p) for p in pids_file.read_text().split()]


def _all_gone(pids):
    def gone(pid):
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
    return all(gone(pid) for pid in pids)


def test_stop_kills_the_whole_process_tree(store, make_engine, tmp_path):
    pids_file, script = _tree_script(tmp_path)
    job = add(store, "tree", script, stop_grace_s=2)
    engine = make_engine()
    run = engine.run_now(job.id)
    pids = _wait_pids(pids_file, 4)
    assert engine.stop_run(run.run_id)
    assert run.finished.wait(10)
    wait_for(lambda: _all_gone(pids), timeout=5, what="every process to exit")
    record = finished_runs(store, job.id)[-1]
    assert record.status == "stopped"


def test_timeout_kills_a_term_ignoring_tree(store, make_engine, tmp_path):
    pids_file = tmp_path / "pids"
    script = (f"trap '' TERM; (trap '' TERM; sleep 300) & echo $! >> {pids_file}; "
              f"echo $$ >> {pids_file}; while true; do sleep 0.1; done")
    job = add(store, "stubborn", script, timeout_s=1, stop_grace_s=0.5)
    engine = make_engine()
    run = engine.run_now(job.id)
    pids = _wait_pids(pids_file, 2)
    assert run.finished.wait(10)
    wait_for(lambda: _all_gone(pids), timeout=5, what="the TERM-ignoring tree to die")
    record = finished_runs(store, job.id)[-1]
    assert record.status == "timed_out"
    assert "timed out after 1s" in record.error


def test_setsid_escapee_is_stopped(store, make_engine, tmp_path):
    pids_file = tmp_path / "pids"
    script = (f"setsid sh -c 'echo $$ >> {pids_file}; exec sleep 300' & "
              f"echo $$ >> {pids_file}; sleep 300")
    job = add(store, "escape", script, stop_grace_s=1)
    engine = make_engine()
    run = engine.run_now(job.id)
    pids = _wait_pids(pids_file, 2)
    time.sleep(1.2)  # the engine scans descendants once a second
    engine.stop_run(run.run_id)
    assert run.finished.wait(10)
    wait_for(lambda: _all_gone(pids), timeout=5, what="the setsid child to be stopped")


def test_retry_chain_backs_off_and_counts_attempts(store, make_engine):
    job = add(store, "flaky", "echo nope >&2; exit 7", retries=2, retry_delay_s=0.3,
              retry_backoff=2.0)
    engine = make_engine()
    engine.run_now(job.id)
    wait_for(lambda: len(finished_runs(store, job.id)) == 3, timeout=10, what="3 attempts")
    time.sleep(0.5)
    runs = runs_of(store, job.id)
    assert [(r.trigger, r.attempt, r.status, r.exit_code) for r in runs] == [
        ("manual", 1, "failed", 7), ("retry", 2, "failed", 7), ("retry", 3, "failed", 7)]
    gap1 = (runs[1].started_at - runs[0].finished_at).total_seconds()
    gap2 = (runs[2].started_at - runs[1].finished_at).total_seconds()
    assert gap1 >= 0.28 and gap2 >= 0.58
    assert runs[0].error == "exit code 7: nope"


def test_stop_on_error_disables_the_job(store, make_engine):
    job = add(store, "fragile", "exit 1", stop_on_error=True)
    engine = make_engine()
    engine.run_now(job.id).finished.wait(10)
    wait_for(lambda: not get_job(store, job.id).enabled, what="job to be disabled")


def test_overlap_skip_records_the_skipped_fire(store, make_engine):
    job = add(store, "slow", "sleep 2", "* * * * * *")
    make_engine()
    wait_for(lambda: any(r.status == "skipped" for r in runs_of(store, job.id)), timeout=6,
             what="a skipped fire")
    skipped = next(r for r in runs_of(store, job.id) if r.status == "skipped")
    assert "still running" in skipped.error and skipped.scheduled_for is not None


def test_overlap_queue_runs_one_after_another(store, make_engine):
    job = add(store, "queued", "sleep 0.5", overlap="queue")
    engine = make_engine()
    first, second = engine.run_now(job.id), engine.run_now(job.id)
    assert first.finished.wait(10) and second.finished.wait(10)
    runs = runs_of(store, job.id)
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert runs[1].started_at >= runs[0].finished_at


def test_params_reach_commands_as_inert_environment(store, make_engine, tmp_path):
    marker = tmp_path / "pwned"
    job = add(store, "params", 'printf "%s\\n" "$PARAM_TARGET"; echo "$TUI_SCHEDULER_PARAMS_JSON"')
    engine = make_engine()
    evil = f"$(touch {marker}); `touch {marker}`"
    engine.run_now(job.id, {"target": evil}).finished.wait(10)
    record = finished_runs(store, job.id)[-1]
    lines = [line for _, line in output_text(store, record.id)]
    assert lines[0] == evil
    assert json.loads(lines[1]) == {"target": evil}
    assert not marker.exists()


def test_output_is_capped_with_a_marker(store, make_engine):
    job = add(store, "flood", "yes 0123456789012345678901234567890123456789 | head -n 200000")
    engine = make_engine(output_cap=256 * 1024)
    engine.run_now(job.id).finished.wait(30)
    record = finished_runs(store, job.id)[-1]
    assert record.status == "succeeded" and record.output_truncated
    lines = output_text(store, record.id)
    stored = sum(len(line) + 1 for _, line in lines)
    assert stored < 256 * 1024 + 70 * 1024
    markers = [line for stream, line in lines if stream == "sys"]
    assert len(markers) == 1 and "truncated" in markers[0]
    assert record.output_bytes == 200000 * 41


def test_python_job_context(store, make_engine, tmp_path, monkeypatch):
    module = tmp_path / "pyjobs_demo.py"
    module.write_text(
        "def work(ctx):\n"
        "    ctx.progress(1, 4, 'one')\n"
        "    ctx.log(f'params={ctx.params} trigger={ctx.trigger} last={ctx.last_success}')\n"
        "    ctx.state['count'] = ctx.state.get('count', 0) + 1\n"
        "    ctx.progress(4, 4, 'done')\n"
        "def boom(ctx):\n"
        "    raise RuntimeError('kaput')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    job = add(store, "py", "pyjobs_demo:work", kind="python", params={"a": 1})
    bad = add(store, "pybad", "pyjobs_demo:boom", kind="python")
    engine = make_engine()
    engine.run_now(job.id).finished.wait(10)
    engine.run_now(job.id, {"b": 2}).finished.wait(10)
    first, second = finished_runs(store, job.id)
    assert first.status == second.status == "succeeded"
    assert (second.progress_done, second.progress_total, second.progress_message) == \
        (4, 4, "done")
    log_line = output_text(store, second.id)[0][1]
    assert "params={'a': 1, 'b': 2} trigger=manual" in log_line
    assert "last=None" not in log_line  # the first run succeeded, so last_success is set
    assert json.loads(get_job(store, job.id).state) == {"count": 2}
    engine.run_now(bad.id).finished.wait(10)
    failed = finished_runs(store, bad.id)[-1]
    assert failed.status == "failed" and "RuntimeError: kaput" in failed.error


def test_background_child_holding_the_pipe_does_not_hang_the_run(store, make_engine):
    job = add(store, "daemonizes", "sleep 300 & echo parent done")
    engine = make_engine()
    start = time.monotonic()
    assert engine.run_now(job.id).finished.wait(15)
    assert time.monotonic() - start < 10
    assert finished_runs(store, job.id)[-1].status == "succeeded"


def test_engine_import_does_not_pull_textual():
    import subprocess
    import sys
    code = ("import sys, tui_scheduler.engine, tui_scheduler.cli; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ})
    assert out.stdout.strip() == "False"


def test_fire_times_match_the_preview(store, make_engine):
    from tui_scheduler.core.schedule import next_fires, parse_schedule, resolve_zone
    job = add(store, "aligned", "true", "*/3 * * * * *")
    engine = make_engine()
    preview = next_fires(parse_schedule(job.schedule), datetime.now(UTC), resolve_zone(None), 1)
    assert engine.next_run_time(job.id) == preview[0]


@pytest.mark.parametrize("kill", [False, True])
def test_stop_request_escalation(store, make_engine, kill):
    job = add(store, "ignoreterm", "trap '' TERM; sleep 300", stop_grace_s=30)
    engine = make_engine()
    run = engine.run_now(job.id)
    wait_for(lambda: run.pid, what="spawn")
    time.sleep(0.2)
    engine.stop_run(run.run_id)
    if kill:
        time.sleep(0.3)
        engine.stop_run(run.run_id, kill=True)
        assert run.finished.wait(5)
    else:
        assert not run.finished.wait(1.0)  # still inside its 30 s grace period
        engine.stop_run(run.run_id, kill=True)
        assert run.finished.wait(5)
    assert finished_runs(store, job.id)[-1].status == "stopped"


def test_python_jobs_honour_stop_and_are_abandoned_past_grace(store, make_engine, tmp_path,
                                                               monkeypatch):
    module = tmp_path / "pyjobs_stop.py"
    module.write_text(
        "import time\n"
        "def polite(ctx):\n"
        "    while not ctx.stopping.wait(0.05):\n"
        "        pass\n"
        "    ctx.log('cleaned up')\n"
        "def stubborn(ctx):\n"
        "    time.sleep(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    polite = add(store, "polite", "pyjobs_stop:polite", kind="python")
    stubborn = add(store, "stubborn", "pyjobs_stop:stubborn", kind="python", timeout_s=0.3,
                   stop_grace_s=0.3)
    engine = make_engine()
    run = engine.run_now(polite.id)
    wait_for(lambda: run.run_id in engine.executor.active, what="the polite run")
    engine.stop_run(run.run_id)
    assert run.finished.wait(5)
    record = finished_runs(store, polite.id)[-1]
    assert record.status == "stopped"
    assert [line for _, line in output_text(store, record.id)] == ["cleaned up"]
    start = time.monotonic()
    late = engine.run_now(stubborn.id)
    assert late.finished.wait(5)
    assert time.monotonic() - start < 2.5  # recorded without waiting for the function
    record = finished_runs(store, stubborn.id)[-1]
    assert record.status == "timed_out" and "did not honour" in record.error
