"""Fencing on a shared PostgreSQL database: an engine declared dead can no longer write.

An engine frozen with SIGSTOP past its heartbeat deadline is taken over by a survivor,
which settles its run (``interrupted``) and re-runs it. When the frozen engine resumes,
its own end of that run must not overwrite the survivor's decision, and it must leave
(exit non-zero, so systemd's ``Restart=on-failure`` brings it back as a new member)
instead of idling forever. An engine whose start-up recovery takes longer than the
heartbeat deadline is not declared dead: its heartbeats do not wait for the recovery.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.helpers import runs_of, wait_for
from tests.postgres.test_postgres import HEARTBEAT, live_engines
from tui_scheduler.engine import records
from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import EngineNode, Run

SLOW_JOB = "import time\n\n\ndef work(ctx):\n    time.sleep(3)\n"
"""A python job: it runs inside the engine, so SIGSTOP freezes it with the engine and
nothing but the engine itself can end it (the case where the stale result came back)."""


def start_daemon(url, tmp_path, name: str) -> tuple[subprocess.Popen, object]:
    log = (tmp_path / f"{name}.log").open("w")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", url, "daemon",
                             "--heartbeat", f"{HEARTBEAT}s", "--name", name],
                            stdout=subprocess.DEVNULL, stderr=log, env=env)
    return proc, log


def stop_all(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)


def members(store) -> set[int]:
    with store.session() as session:
        return {node.pid for node in session.exec(select(EngineNode)).all()}


@pytest.mark.slow
def test_stalled_engine_cannot_overwrite_the_takeover_and_exits(pg_url, pg_store, tmp_path):
    (tmp_path / "fencing_job.py").write_text(SLOW_JOB)
    daemons = [start_daemon(pg_url, tmp_path, name) for name in ("a", "b", "c")]
    procs = [proc for proc, _ in daemons]
    try:
        wait_for(lambda: live_engines(pg_store) == 3, timeout=30, what="three engines")
        at = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
        job = create_job(pg_store, {
            "name": "slow", "kind": "python", "target": "fencing_job:work",
            "schedule": f"at {at:%Y-%m-%d %H:%M:%S}", "timezone": "UTC",
            "restartable": True, "stop_grace_s": 1.0})
        run = wait_for(lambda: next((r for r in runs_of(pg_store, job.id)
                                     if r.status == "running"), None),
                       timeout=20, interval=0.02, what="the fire to start")
        stalled = next(p for p in procs if run.owner.endswith(f":{p.pid}"))
        os.kill(stalled.pid, signal.SIGSTOP)
        time.sleep(4)
        os.kill(stalled.pid, signal.SIGCONT)
        resumed = time.monotonic()
        # A survivor re-runs the fire; the stalled engine finishes its own copy meanwhile.
        wait_for(lambda: any(r.trigger == "restart" and r.status == "succeeded"
                             for r in runs_of(pg_store, job.id)), timeout=20,
                 what="a survivor's re-run to succeed")
        try:
            stalled.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        exited_after = time.monotonic() - resumed
        runs = runs_of(pg_store, job.id)
        outcomes = [(r.trigger, r.status, r.owner == run.owner) for r in runs]
        assert [r.status for r in runs].count("succeeded") == 1, outcomes
        assert outcomes == [("schedule", "interrupted", True), ("restart", "succeeded", False)]
        assert stalled.returncode is not None, "the stalled engine neither exited nor rejoined"
        assert stalled.returncode != 0 and exited_after < 20
        log = (tmp_path / f"{'abc'[procs.index(stalled)]}.log").read_text()
        assert "declared this engine dead" in log, log[-2000:]
        # The survivors carry on; the stalled engine's membership is gone.
        assert stalled.pid not in members(pg_store)
        assert live_engines(pg_store) == 2
    finally:
        stop_all(procs)
        for _, log in daemons:
            log.close()


def leftover(seconds: int = 60) -> subprocess.Popen:
    """A job process a dead engine left behind that ignores SIGTERM: recovery waits 3 s
    for it before SIGKILL, so a few of them make a start-up slow."""
    return subprocess.Popen(["sh", "-c", f"trap '' TERM; sleep {seconds}"],
                            start_new_session=True)


@pytest.mark.slow
def test_slow_start_up_recovery_is_not_declared_dead(pg_url, pg_store, tmp_path):
    first, first_log = start_daemon(pg_url, tmp_path, "a")
    procs = [first]
    logs = [first_log]
    stubborn: list[subprocess.Popen] = []
    try:
        wait_for(lambda: live_engines(pg_store) == 1, timeout=30, what="the first engine")
        host = socket.gethostname()
        job = create_job(pg_store, {"name": "left", "target": "sleep 60"})
        stubborn = [leftover() for _ in range(3)]
        now = records.utcnow()
        rows = [records.run_row(job_id=job.id, trigger="manual", status="running",
                                scheduled_for=None, host=host, owner=f"{host}:4194304",
                                started_at=now) for _ in stubborn]
        with pg_store.engine.begin() as conn:
            ids = records.insert_runs(rows)(conn)
            for run_id, proc in zip(ids, stubborn, strict=True):
                records.live_updates([{"id": run_id, "pid": proc.pid}])(conn)
        pinned = create_job(pg_store, {"name": "pinned", "schedule": "* * * * * *",
                                       "target": "true", "engines": "slow"})
        late, late_log = start_daemon(pg_url, tmp_path, "slow")
        procs.append(late)
        logs.append(late_log)
        # Its recovery stops the three leftovers one after another (~9 s in all).
        wait_for(lambda: all(r.status == "interrupted" for r in runs_of(pg_store, job.id)),
                 timeout=40, what="the late engine's recovery")
        assert late.poll() is None
        assert late.pid in members(pg_store), "the slow starter was declared dead"
        wait_for(lambda: any(r.status == "succeeded" for r in runs_of(pg_store, pinned.id)),
                 timeout=10, what="the slow starter to schedule its pinned job")
        assert live_engines(pg_store) == 2
        log = (tmp_path / "slow.log").read_text()
        assert "dead" not in log and "lost" not in log, log[-2000:]
    finally:
        stop_all(procs)
        for proc in stubborn:
            proc.kill()
            proc.wait()
        for log in logs:
            log.close()


GATED_JOB = ("import time\nfrom pathlib import Path\n\n\ndef work(ctx):\n"
             "    while not Path(ctx.params['gate']).exists():\n        time.sleep(0.02)\n")


def test_a_run_settled_by_another_engine_keeps_that_outcome(pg_store, make_engine, tmp_path,
                                                            monkeypatch):
    """The row check behind the membership check: another engine settled a run (a new
    engine's start-up recovery found its owner's heartbeat stale) while the owner still
    holds its membership; the owner's own end, arriving later, does not overwrite it."""
    (tmp_path / "fencing_gate.py").write_text(GATED_JOB)
    monkeypatch.syspath_prepend(str(tmp_path))
    gate = tmp_path / "gate"
    job = create_job(pg_store, {"name": "gated", "kind": "python", "target": "fencing_gate:work",
                                "schedule": "manual"})
    engine = make_engine(store=pg_store)
    run = engine.run_now(job.id, params={"gate": str(gate)})
    row = wait_for(lambda: next((r for r in runs_of(pg_store, job.id)
                                 if r.status == "running"), None), what="the run to start")
    with pg_store.engine.begin() as conn:  # what that engine's recovery writes
        conn.execute(update(Run).where(Run.id == row.id).values(
            status="interrupted", error="the engine stopped (elsewhere)"))
    gate.touch()
    assert run.finished.wait(10)
    [after] = runs_of(pg_store, job.id)
    assert (after.status, after.error) == ("interrupted", "the engine stopped (elsewhere)")
    assert run.status == "interrupted"


def test_a_claim_waits_for_the_dead_engines_open_transaction(pg_store):
    """A write that passed the membership check lands before the member is declared
    dead (the survivor then sees it); after that, none passes."""
    from tui_scheduler.engine.cluster import ClusterMembership
    from tui_scheduler.store.writer import Fenced

    frozen = ClusterMembership(pg_store, HEARTBEAT)
    survivor = ClusterMembership(pg_store, HEARTBEAT)
    frozen.acquire()
    survivor.acquire()
    with pg_store.engine.begin() as conn:
        conn.execute(update(EngineNode).where(EngineNode.token == frozen.token)
                     .values(heartbeat_at=records.utcnow() - timedelta(seconds=10)))
    with pg_store.engine.connect() as held:
        with held.begin():
            frozen.fence_op()(held)  # its writer, mid-transaction
            started = time.monotonic()
            assert survivor.claim_dead() == []
            assert time.monotonic() - started < 2  # the survivor's ticker is not stalled
        assert [dead.token for dead in survivor.claim_dead()] == [frozen.token]
        with pytest.raises(Fenced), held.begin():
            frozen.fence_op()(held)
