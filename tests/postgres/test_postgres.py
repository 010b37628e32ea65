"""Every feature on PostgreSQL, and several engines sharing one database: each fire runs
exactly once across them, and a killed engine's runs are taken over by a survivor."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import select

from tests.helpers import finished_runs, output_text, runs_of, wait_for
from tui_scheduler.store.jobs import create_job
from tui_scheduler.store.models import Run

HEARTBEAT = 1.0


def cli(url, *args):
    return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", url, *args],
                          capture_output=True, text=True, timeout=60, check=False)


def daemon(url) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", url, "daemon",
                             "--heartbeat", f"{HEARTBEAT}s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def all_runs(store) -> list[Run]:
    with store.session() as session:
        return list(session.exec(select(Run)).all())


def live_engines(store) -> int:
    from tui_scheduler.engine.cluster import ClusterMembership
    return len(ClusterMembership(store, HEARTBEAT).live_owners())


def test_cli_and_engine_on_postgres(pg_url, pg_store, tmp_path):
    assert cli(pg_url, "add", "greet", "--manual", "--command",
               'echo "{\\"progress\\": 0.5, \\"message\\": \\"half\\"}"; echo "hi $PARAM_WHO"; '
               "exit 3").returncode == 0
    assert cli(pg_url, "add", "greet", "--manual", "--command", "x").returncode == 2
    result = cli(pg_url, "run", "greet", "--wait", "--param", "who=pg")
    assert result.returncode == 3 and "hi pg" in result.stdout
    runs = json.loads(cli(pg_url, "runs", "greet", "--json").stdout)
    assert (runs[0]["status"], runs[0]["exit_code"]) == ("failed", 3)
    record = finished_runs(pg_store, 1)[-1]
    assert (record.progress_done, record.progress_message) == (0.5, "half")
    assert record.started_at.tzinfo is not None
    toml = cli(pg_url, "export").stdout
    assert 'name = "greet"' in toml


def test_engine_features_on_postgres(pg_store, make_engine):
    flaky = create_job(pg_store, {"name": "flaky", "target": "exit 1", "retries": 1,
                                  "retry_delay_s": 0.2})
    flood = create_job(pg_store, {"name": "flood", "target": "seq 1 50000"})
    engine = make_engine(store=pg_store, output_cap=64 * 1024)
    engine.run_now(flaky.id)
    engine.run_now(flood.id).finished.wait(30)
    wait_for(lambda: len(finished_runs(pg_store, flaky.id)) == 2, what="the retry")
    assert [r.trigger for r in runs_of(pg_store, flaky.id)] == ["manual", "retry"]
    record = finished_runs(pg_store, flood.id)[-1]
    assert record.output_truncated
    lines = output_text(pg_store, record.id)
    assert lines[0][1] == "1" and lines[-1][1] == "50000"
    assert any(stream == "sys" for stream, _ in lines)


def test_three_engines_run_each_fire_exactly_once(pg_url, pg_store):
    jobs = [create_job(pg_store, {"name": f"tick{i}", "schedule": "* * * * * *",
                                  "target": "true"}) for i in range(20)]
    engines = [daemon(pg_url) for _ in range(3)]
    try:
        wait_for(lambda: live_engines(pg_store) == 3, timeout=30, what="three engines")
        start = datetime.now(UTC)
        wait_for(lambda: len([r for r in all_runs(pg_store) if r.scheduled_for
                              and r.scheduled_for > start]) >= 330, timeout=60,
                 what="330 fires")
        end = datetime.now(UTC)
    finally:
        for proc in engines:
            proc.send_signal(signal.SIGTERM)
        for proc in engines:
            proc.wait(timeout=30)
    runs = [r for r in all_runs(pg_store) if r.scheduled_for and start < r.scheduled_for
            and r.scheduled_for.replace(microsecond=0) < end.replace(microsecond=0)]
    per_fire = Counter((r.job_id, r.scheduled_for) for r in runs)
    assert max(per_fire.values()) == 1
    seconds = {r.scheduled_for for r in runs}
    assert len(runs) == len(jobs) * len(seconds) >= 300
    assert {r.status for r in runs} <= {"succeeded", "skipped"}
    owners = Counter(r.owner for r in runs if r.status == "succeeded")
    assert len(owners) >= 2, owners  # the fires really were spread over the engines


RESUMABLE = 'if [ "$TUI_SCHEDULER_TRIGGER" = restart ]; then echo resumed; else sleep 300; fi'


def test_killed_engine_is_taken_over_within_two_heartbeats(pg_url, pg_store):
    job = create_job(pg_store, {"name": "resumable", "schedule": "manual",
                                "restartable": True, "target": RESUMABLE})
    engines = [daemon(pg_url) for _ in range(3)]
    try:
        wait_for(lambda: live_engines(pg_store) == 3, timeout=30, what="three engines")
        assert cli(pg_url, "run", "resumable").returncode == 0
        run = wait_for(lambda: next((r for r in runs_of(pg_store, job.id)
                                     if r.status == "running" and r.pid), None),
                       what="the run to start")
        victim = next(p for p in engines if run.owner.endswith(f":{p.pid}"))
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        wait_for(lambda: runs_of(pg_store, job.id)[0].status == "interrupted", timeout=10,
                 what="the run to be marked interrupted", interval=0.02)
        failover = time.monotonic() - killed_at
        wait_for(lambda: [(r.trigger, r.status) for r in runs_of(pg_store, job.id)] ==
                 [("manual", "interrupted"), ("restart", "succeeded")], timeout=10,
                 what="a survivor to re-run the job")
        restarted = runs_of(pg_store, job.id)[1]
        assert restarted.owner != run.owner
        assert failover <= 2 * HEARTBEAT + 0.5, f"failover took {failover:.2f}s"
        print(f"\nfailover {failover:.2f}s with a {HEARTBEAT:g}s heartbeat")
    finally:
        for proc in engines:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in engines:
            proc.wait(timeout=30)


def named_daemon(url, name) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui_scheduler", "--db", url, "daemon",
                             "--heartbeat", f"{HEARTBEAT}s", "--name", name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_pinned_and_every_engine_jobs(pg_url, pg_store):
    assert cli(pg_url, "add", "pinned", "--cron", "* * * * * *", "--command", "true",
               "--engines", "b").returncode == 0
    assert cli(pg_url, "add", "everywhere", "--cron", "* * * * * *", "--command", "true",
               "--engines", "*").returncode == 0
    bad = cli(pg_url, "add", "bad", "--manual", "--command", "true", "--engines", "no way!")
    assert bad.returncode == 2 and "engine name" in bad.stderr
    engines = {name: named_daemon(pg_url, name) for name in ("a", "b", "c")}
    try:
        wait_for(lambda: live_engines(pg_store) == 3, timeout=30, what="three engines")
        start = datetime.now(UTC)
        time.sleep(4)
        end = datetime.now(UTC)
    finally:
        for proc in engines.values():
            proc.send_signal(signal.SIGTERM)
        for proc in engines.values():
            proc.wait(timeout=30)
    window = [r for r in all_runs(pg_store) if r.scheduled_for and r.status == "succeeded"
              and start < r.scheduled_for < end]
    pinned = [r for r in window if r.job_id == 1]
    assert pinned and {r.owner.rsplit(":", 1)[1] for r in pinned} == {str(engines["b"].pid)}
    everywhere = Counter(r.scheduled_for for r in window if r.job_id == 2)
    assert everywhere and set(everywhere.values()) == {3}  # one run per engine per fire
