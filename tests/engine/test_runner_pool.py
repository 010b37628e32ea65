"""Python runs on a bounded pool of runner threads, against the real engine and a real
SQLite file: more due runs than runners all run exactly once and record when they really
started; a queued run can be stopped before it starts; timeouts still hold; a function
stuck past its stop does not starve the queue; jobs sharing a schedule share one
APScheduler job without changing when any of them fires."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.helpers import finished_runs, output_text, runs_of, wait_for
from tui_scheduler.store.jobs import create_job, set_job_flags, update_job

MODULE = '''
import json, os, threading, time

_lock = threading.Lock()


def _note(ctx, what):
    # Read at each call: the module is imported once for all the tests.
    with _lock, open(os.environ["POOL_TEST_OUT"], "a") as handle:
        handle.write(json.dumps([ctx.job_name, what, time.time()]) + "\\n")


def short(ctx):
    _note(ctx, "called")
    time.sleep(0.03)


def chatty(ctx):
    _note(ctx, "called")
    for i in range(3):
        ctx.log(f"{ctx.job_name} line {i}")


def waits_for_stop(ctx):
    _note(ctx, "called")
    ctx.stopping.wait(10)


def stubborn(ctx):
    _note(ctx, "called")
    time.sleep(3)
    _note(ctx, "returned")
'''


def _module(tmp_path, monkeypatch):
    (tmp_path / "pool_jobs.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "calls.jsonl"
    monkeypatch.setenv("POOL_TEST_OUT", str(out))
    return out


def _calls(out) -> list[tuple[str, str, float]]:
    if not out.exists():
        return []
    return [tuple(json.loads(line)) for line in out.read_text().splitlines()]


def _due_in(seconds: float) -> tuple[datetime, str]:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    if (due - datetime.now(UTC)).total_seconds() < seconds - 0.5:
        due += timedelta(seconds=1)
    return due, due.strftime("at %Y-%m-%dT%H:%M:%S+00:00")


def add(store, name, target, schedule="manual", **fields):
    return create_job(store, {"name": name, "target": target, "schedule": schedule,
                              "kind": "python", **fields})


def test_more_due_runs_than_runners_each_run_once_with_their_real_start(
        store, make_engine, tmp_path, monkeypatch):
    out = _module(tmp_path, monkeypatch)
    due, at = _due_in(2)
    jobs = [add(store, f"p{i}", "pool_jobs:short", at) for i in range(24)]
    engine = make_engine(python_runners=2, grow_after_s=30)
    wait_for(lambda: sum(len(finished_runs(store, j.id)) for j in jobs) == len(jobs),
             timeout=20, what="every fire to run")
    calls = _calls(out)
    assert Counter(name for name, what, _ in calls) == {j.name: 1 for j in jobs}
    called_at = {name: stamp for name, _, stamp in calls}
    for job in jobs:
        [run] = runs_of(store, job.id)
        assert run.status == "succeeded" and run.scheduled_for == due
        # The recorded start is when the function really began, not when the fire was
        # recorded: 24 runs of 30 ms on 2 runners start up to ~0.4 s apart.
        assert abs(run.started_at.timestamp() - called_at[job.name]) < 0.05
        assert run.started_at >= due
    starts = sorted(r.started_at for j in jobs for r in runs_of(store, j.id))
    assert (starts[-1] - starts[0]).total_seconds() > 0.2
    assert engine.launcher.python_pool.threads <= 2


def test_burst_output_is_complete_when_each_run_is_recorded_finished(
        store, make_engine, tmp_path, monkeypatch):
    _module(tmp_path, monkeypatch)
    _, at = _due_in(2)
    jobs = [add(store, f"c{i}", "pool_jobs:chatty", at) for i in range(40)]
    make_engine(python_runners=2)
    wait_for(lambda: sum(len(finished_runs(store, j.id)) for j in jobs) == len(jobs),
             timeout=20, what="every fire to run")
    for job in jobs:
        [run] = runs_of(store, job.id)
        assert run.status == "succeeded"
        assert [line for _, line in output_text(store, run.id)] == \
            [f"{job.name} line {i}" for i in range(3)]
        assert run.output_bytes == sum(len(f"{job.name} line {i}") + 1 for i in range(3))


def test_a_queued_run_can_be_stopped_before_it_starts(store, make_engine, tmp_path,
                                                      monkeypatch):
    out = _module(tmp_path, monkeypatch)
    blocker = add(store, "blocker", "pool_jobs:waits_for_stop")
    queued = add(store, "queued", "pool_jobs:short")
    engine = make_engine(python_runners=1, grow_after_s=30)
    first = engine.run_now(blocker.id)
    wait_for(lambda: any(name == "blocker" for name, _, _ in _calls(out)),
             what="the blocker to run")
    second = engine.run_now(queued.id)
    assert second.recorded.wait(5)
    assert not second.launched and second.run_id in engine.executor.active
    assert engine.stop_run(second.run_id)
    assert second.finished.wait(5)
    [record] = finished_runs(store, queued.id)
    assert record.status == "stopped" and "before it started" in record.error
    engine.stop_run(first.run_id)
    assert first.finished.wait(5)
    time.sleep(0.3)
    assert [name for name, _, _ in _calls(out)] == ["blocker"]
    assert finished_runs(store, blocker.id)[-1].status == "stopped"


def test_timeout_holds_and_a_stuck_function_does_not_starve_the_queue(
        store, make_engine, tmp_path, monkeypatch):
    out = _module(tmp_path, monkeypatch)
    stuck = add(store, "stuck", "pool_jobs:stubborn", timeout_s=0.3, stop_grace_s=0.3)
    other = add(store, "other", "pool_jobs:short")
    engine = make_engine(python_runners=1, grow_after_s=0.3)
    start = time.monotonic()
    late = engine.run_now(stuck.id)
    assert late.finished.wait(5)
    assert time.monotonic() - start < 2.5  # abandoned, not waited for
    record = finished_runs(store, stuck.id)[-1]
    assert record.status == "timed_out" and "did not honour" in record.error
    # Its function still holds the only runner: the queued run gets a thread of its own.
    waiting = engine.run_now(other.id)
    assert waiting.finished.wait(5)
    assert finished_runs(store, other.id)[-1].status == "succeeded"
    assert not any(what == "returned" for _, what, _ in _calls(out))
    # Until the abandoned function returns, its job counts as running (overlap: skip).
    again = engine.run_now(stuck.id)
    assert again.finished.wait(5) and again.status == "skipped"
    wait_for(lambda: any(what == "returned" for _, what, _ in _calls(out)), timeout=6,
             what="the stubborn function to return")
    wait_for(lambda: not engine.slots.busy[stuck.id], what="the job to be released")


def test_jobs_sharing_a_schedule_share_one_apscheduler_job(store, make_engine, tmp_path,
                                                           monkeypatch):
    _module(tmp_path, monkeypatch)
    jobs = [add(store, f"s{i}", "pool_jobs:short", "* * * * * *") for i in range(5)]
    lone = add(store, "lone", "pool_jobs:short", "*/2 * * * * *")
    engine = make_engine()
    groups = [j for j in engine._scheduler.get_jobs() if j.id.startswith("fire:")]
    assert len(groups) == 2
    assert len({engine.next_run_time(j.id) for j in jobs}) == 1
    assert engine.next_run_time(lone.id).second % 2 == 0
    wait_for(lambda: all(len(finished_runs(store, j.id)) >= 2 for j in jobs), timeout=10,
             what="two fires of each")
    # One job leaves the group (paused), one moves to another schedule.
    set_job_flags(store, jobs[0].id, paused=True)
    update_job(store, jobs[1].id, {"schedule": "*/2 * * * * *"})
    engine.reload()
    assert engine.next_run_time(jobs[0].id) is None
    assert engine.next_run_time(jobs[1].id).second % 2 == 0
    paused_at = len(runs_of(store, jobs[0].id))
    mark = datetime.now(UTC)
    wait_for(lambda: all(any(r.scheduled_for > mark + timedelta(seconds=1)
                             for r in runs_of(store, j.id)) for j in jobs[2:]),
             timeout=10, what="more fires of the rest")
    time.sleep(0.3)
    assert len(runs_of(store, jobs[0].id)) <= paused_at + 1  # at most one already due
    for job in [*jobs, lone]:
        fires = [r.scheduled_for for r in runs_of(store, job.id)]
        assert len(fires) == len(set(fires))  # no fire recorded twice
    moved = [r.scheduled_for for r in runs_of(store, jobs[1].id) if r.scheduled_for > mark]
    assert moved and all(when.second % 2 == 0 for when in moved)
    # The moved job joins the group of its new schedule, or (when its first fire from
    # its last one is not the group's next) has one of its own; the paused one has none.
    groups = [j for j in engine._scheduler.get_jobs() if j.id.startswith("fire:")]
    assert len(groups) in (2, 3)
