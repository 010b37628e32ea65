"""LISTEN/NOTIFY on PostgreSQL: the engine's writes wake attached consoles at once (their
poll set far too long to explain what they see), a dropped listening connection falls
back to polling and comes back, and a console's request wakes the engine.

Timing bounds are loose on purpose (two cores shared with other test runs): what proves
the notify path is a change seen in about a second while the poll waits a minute.
"""

from __future__ import annotations

import statistics
import threading
import time

import psycopg
import pytest

from tests.helpers import runs_of, wait_for
from tui_scheduler.engine import records
from tui_scheduler.engine.attached import AttachedEngine
from tui_scheduler.engine.events import JobsChanged, RunOutput, RunProgress, RunStarted
from tui_scheduler.engine.lock import live_holder
from tui_scheduler.engine.wakeup import serve_controls_on_notify
from tui_scheduler.store import notify
from tui_scheduler.store.control import send_control
from tui_scheduler.store.jobs import create_job, set_job_flags
from tui_scheduler.store.writer import BatchWriter

NEVER = 60.0  # a poll period no test lasts: whatever arrives came by NOTIFY
PROGRESS = ('for i in $(seq 1 100000); do echo "{\\"progress\\": {\\"done\\": $i, '
            '\\"total\\": 100000}}"; echo "line $i"; sleep 0.05; done')


class Seen:
    """Events a bus emitted, with the time each arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[float, object]] = []
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        with self._lock:
            self.events.append((time.monotonic(), event))

    def of(self, kind) -> list[tuple[float, object]]:
        with self._lock:
            return [(at, e) for at, e in self.events if isinstance(e, kind)]

    def progress(self) -> dict[tuple[int, float], float]:
        times: dict[tuple[int, float], float] = {}
        for at, event in self.of(RunProgress):
            times.setdefault((event.run_id, event.done), at)
        return times


@pytest.fixture
def listen_to(pg_url):
    """Raw LISTEN connections, closed at the end."""
    conns = []

    def open_one() -> psycopg.Connection:
        conn = psycopg.connect(pg_url, autocommit=True)
        conn.execute(f"LISTEN {notify.CHANNEL}")
        conns.append(conn)
        return conn

    yield open_one
    for conn in conns:
        conn.close()


@pytest.fixture
def attached(pg_store):
    """Attached stand-ins with their polls set to a minute; all shut down at the end."""
    made = []

    def factory(**kwargs) -> AttachedEngine:
        kwargs.setdefault("poll_s", NEVER)
        kwargs.setdefault("listening_poll_s", NEVER)
        engine = AttachedEngine(pg_store, live_holder(pg_store), **kwargs)
        engine.start()
        made.append(engine)
        if engine.listener is not None:
            assert engine.listener.connected.wait(10), "the stand-in never started listening"
        return engine

    yield factory
    for engine in made:
        engine.shutdown()


def payloads(conn: psycopg.Connection, timeout: float = 2.0) -> list[str]:
    return [note.payload for note in conn.notifies(timeout=timeout)]


def test_writer_notifies_the_tables_it_wrote(pg_store, listen_to):
    job = create_job(pg_store, {"name": "j", "target": "true"})
    conn = listen_to()
    writer = BatchWriter(pg_store)
    writer.start()
    try:
        assert writer.notify
        run_id = writer.call(records.insert_run(job_id=job.id, trigger="manual",
                                                status="running", scheduled_for=None))
        writer.call(records.set_status(run_id, "stopped"))
        assert payloads(conn) == ["run", "run"]
        from tui_scheduler.engine.cluster import ClusterMembership

        membership = ClusterMembership(pg_store, 5.0)
        membership.acquire()
        writer.call(membership.heartbeat_op())  # a heartbeat alone is no news
        writer.flush()  # nor is a transaction that wrote nothing
        assert payloads(conn, 0.5) == []
        quiet = BatchWriter(pg_store, notify=False)
        quiet.start()
        quiet.call(records.set_status(run_id, "failed"))
        quiet.close()
        assert payloads(conn, 0.5) == []
    finally:
        writer.close()


def test_a_control_request_notifies(pg_store, listen_to):
    job = create_job(pg_store, {"name": "j", "target": "true"})
    conn = listen_to()
    with pytest.raises(Exception, match="did not answer"):
        send_control(pg_store, "reload", job_id=job.id, timeout=0.2)  # no engine at all
    assert payloads(conn, 1.0) == [notify.REQUEST]


def test_a_job_edit_from_any_writer_notifies_on_commit(pg_store, listen_to):
    conn = listen_to()
    job = create_job(pg_store, {"name": "edited-by-cli", "target": "true"})
    set_job_flags(pg_store, job.id, paused=True)
    assert payloads(conn, 1.0) == [notify.META, notify.META]


def test_attached_hears_changes_without_polling(pg_store, make_engine, attached):
    job = create_job(pg_store, {"name": "ticking", "target": PROGRESS})
    engine = make_engine(store=pg_store, tick_s=0.1)
    stand_in = attached()
    source, seen = Seen(), Seen()
    engine.bus.subscribe(source)
    stand_in.bus.subscribe(seen)
    run = engine.run_now(job.id)
    assert run.recorded.wait(10)
    wait_for(lambda: seen.of(RunStarted), timeout=5, what="the run to show as started")
    wait_for(lambda: len(seen.progress()) >= 15, timeout=20, what="progress via NOTIFY")
    wait_for(lambda: seen.of(RunOutput), timeout=5, what="output via NOTIFY")
    assert [r.run_id for r in stand_in.running_runs(job.id)] == [run.run_id]
    sent, heard = source.progress(), seen.progress()
    delays = [heard[key] - at for key, at in sent.items() if key in heard]
    assert len(delays) >= 10
    # Each change within a fraction of a second; the fallback poll would take a minute.
    assert statistics.median(delays) < 0.2, delays
    assert max(delays) < 2.0, delays
    engine.stop_run(run.run_id)
    wait_for(lambda: not stand_in.running_runs(), timeout=10, what="the run to end")


def test_attached_falls_back_to_polling_when_listening_drops(pg_url, pg_store, make_engine,
                                                             attached):
    job = create_job(pg_store, {"name": "ticking", "target": PROGRESS})
    engine = make_engine(store=pg_store, tick_s=0.1)
    stand_in = attached(poll_s=0.2)  # the fallback while not listening; a minute otherwise
    listener = stand_in.listener
    seen = Seen()
    stand_in.bus.subscribe(seen)
    first_pid = listener.backend_pid
    good = listener._conninfo
    # Keep it from reconnecting for a while: every reconnect fails until we allow it.
    listener._conninfo = good.rsplit("/", 1)[0] + "/no_such_database"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (first_pid,)).fetchone()[0]
    wait_for(lambda: not listener.connected.is_set(), timeout=5, what="the drop to be noticed")
    run = engine.run_now(job.id)
    assert run.recorded.wait(10)
    # Deaf now: what arrives came by the 0.2 s poll.
    wait_for(lambda: len(seen.progress()) >= 3, timeout=10, what="progress by polling")
    assert not listener.connected.is_set()
    listener._conninfo = good
    wait_for(lambda: listener.connected.is_set(), timeout=15, what="the listener to reconnect")
    assert listener.backend_pid != first_pid and listener.connects == 2
    # Listening again, the stand-in only polls once a minute: changes still come at once.
    stand_in.poll_s = NEVER
    mark = time.monotonic()
    wait_for(lambda: sum(1 for at in seen.progress().values() if at > mark) >= 10,
             timeout=10, what="progress by NOTIFY after the reconnect")
    engine.stop_run(run.run_id)
    wait_for(lambda: not stand_in.running_runs(), timeout=10, what="the run to end")


def test_engine_serves_a_notified_request_at_once(pg_store, make_engine):
    job = create_job(pg_store, {"name": "quick", "target": "true", "overlap": "allow"})
    engine = make_engine(store=pg_store, poll_s=NEVER)
    waker = serve_controls_on_notify(engine)
    try:
        assert waker.listener.connected.wait(10)
        for _ in range(3):
            started = time.monotonic()
            answer = send_control(pg_store, "run", job_id=job.id, timeout=10)
            assert answer.startswith("run "), answer
            assert time.monotonic() - started < 5  # its own poll would wait a minute
        wait_for(lambda: len(runs_of(pg_store, job.id)) == 3, what="three runs")
        assert waker.served >= 3
    finally:
        waker.stop()


def test_an_edit_reaches_the_engine_and_other_consoles_at_once(pg_store, make_engine,
                                                               attached):
    job = create_job(pg_store, {"name": "edited", "target": "true", "schedule": "@hourly"})
    engine = make_engine(store=pg_store, poll_s=NEVER)
    waker = serve_controls_on_notify(engine)
    try:
        assert waker.listener.connected.wait(10)
        console_a, console_b = attached(), attached()
        seen = Seen()
        console_b.bus.subscribe(seen)
        time.sleep(0.3)  # the catch-up reads after connecting are done
        seen.events.clear()
        set_job_flags(pg_store, job.id, paused=True)
        console_a.reload({job.id})  # what the console does after an edit
        wait_for(lambda: seen.of(JobsChanged), timeout=5, what="console B to hear of it")
        wait_for(lambda: engine.job(job.id).paused, timeout=5, what="the engine to reload")
        assert engine.next_run_time(job.id) is None
    finally:
        waker.stop()


def test_sqlite_stand_in_does_not_listen(store):
    from tui_scheduler.engine.lock import LockHolder
    from tui_scheduler.store.jobs import utcnow

    now = utcnow()
    stand_in = AttachedEngine(store, LockHolder("h", 1, "t", now, now), listen=True)
    assert not stand_in.listen and not BatchWriter(store).notify
    assert serve_controls_on_notify(type("E", (), {"store": store})()) is None
