"""Attached console latency on PostgreSQL, LISTEN/NOTIFY against polling, in one run.

1. From a change in the engine (a run's progress reaching the engine's own event bus, as
   a daemon's ticker reports it) to the same event on an attached console's stand-in:
   one stand-in LISTENing (woken by the writer's NOTIFY) and one polling every 0.25 s
   alone, side by side on the same changes. Each trial starts both afresh at a random
   moment, so the poll's phase against the engine's ticks is sampled fairly.
2. A console's request round trip (``send_control("run")`` until the engine's answer):
   the engine serving on its 0.5 s poll, then woken by the request's NOTIFY.

Needs a server: set TUI_SCHEDULER_TEST_PG to an admin URL (e.g.
postgresql://tui:tui@localhost/postgres); without it the script says it skipped.
"""

from __future__ import annotations

import os
import random
import threading
import time

from common import median, parse_args, percentile, report, temp_pg_store

PROGRESS = ('for i in $(seq 1 100000); do echo "{\\"progress\\": {\\"done\\": $i, '
            '\\"total\\": 100000}}"; sleep 0.0$((RANDOM % 9 + 1)); done')


class Arrivals:
    """When each (run, progress) event reached a bus, first sighting only."""

    def __init__(self) -> None:
        self.times: dict[tuple[int, float], float] = {}
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        from tui_scheduler.engine.events import RunProgress

        if isinstance(event, RunProgress):
            now = time.perf_counter()
            with self._lock:
                self.times.setdefault((event.run_id, event.done), now)


def delays(source: Arrivals, seen: Arrivals, since: float) -> list[float]:
    """Milliseconds from the engine's event to the stand-in's, for events after ``since``."""
    return [(seen.times[key] - at) * 1000 for key, at in list(source.times.items())
            if at >= since and key in seen.times]


def progress_latency(store, engine, holder, trials: int) -> tuple[list[float], list[float]]:
    from tui_scheduler.engine.attached import AttachedEngine

    source = Arrivals()
    engine.bus.subscribe(source)
    polled_ms: list[float] = []
    notified_ms: list[float] = []
    for _ in range(trials):
        time.sleep(random.uniform(0, 0.25))
        polled, notified = Arrivals(), Arrivals()
        polling = AttachedEngine(store, holder, listen=False)
        listening = AttachedEngine(store, holder, listen=True)
        polling.bus.subscribe(polled)
        listening.bus.subscribe(notified)
        polling.start()
        listening.start()
        listening.listener.connected.wait(5)
        time.sleep(0.2)  # the first (catch-up) read is done
        since = time.perf_counter()
        time.sleep(1.5)
        until = time.perf_counter() - 0.6  # leave both time to see the last changes
        time.sleep(0.1)
        polling.shutdown()
        listening.shutdown()
        window = Arrivals()
        window.times = {k: t for k, t in source.times.items() if since <= t <= until}
        polled_ms += delays(window, polled, since)
        notified_ms += delays(window, notified, since)
    return polled_ms, notified_ms


def round_trips(store, job_id: int, count: int) -> list[float]:
    from tui_scheduler.store.control import send_control

    times = []
    for _ in range(count):
        time.sleep(random.uniform(0.05, 0.3))
        started = time.perf_counter()
        answer = send_control(store, "run", job_id=job_id, timeout=10)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.split()[0] in ("run", "skipped", "queued"), answer
    return times


def main() -> None:
    args = parse_args(__doc__)
    admin = os.environ.get("TUI_SCHEDULER_TEST_PG")
    if not admin:
        print("attach latency: skipped (set TUI_SCHEDULER_TEST_PG to a PostgreSQL admin URL)")
        return
    from tui_scheduler.engine import Engine
    from tui_scheduler.engine.lock import live_holder
    from tui_scheduler.engine.wakeup import serve_controls_on_notify
    from tui_scheduler.store.jobs import create_job

    trials = 3 if args.quick else 20
    requests = 5 if args.quick else 30
    with temp_pg_store(admin) as store:
        ticking = create_job(store, {"name": "ticking", "target": PROGRESS})
        noop = create_job(store, {"name": "noop", "target": "true", "overlap": "allow"})
        engine = Engine(store)  # a daemon's settings: 0.25 s ticks, 0.5 s poll
        engine.start()
        try:
            engine.run_now(ticking.id).recorded.wait(10)
            holder = live_holder(store)
            polled, notified = progress_latency(store, engine, holder, trials)
            if engine.waker is not None:
                engine.waker.stop()  # the baseline: requests served on the 0.5 s poll only
            by_poll = round_trips(store, noop.id, requests)
            waker = serve_controls_on_notify(engine)
            waker.listener.connected.wait(5)
            by_notify = round_trips(store, noop.id, requests)
            waker.stop()
        finally:
            engine.shutdown(timeout=10)
    print(f"  progress events: {len(notified)} heard via NOTIFY, median "
          f"{median(notified):.1f} ms, p95 {percentile(notified, 95):.1f} ms; {len(polled)} "
          f"seen by polling, median {median(polled):.1f} ms, p95 {percentile(polled, 95):.1f} ms")
    print(f"  control round trip: woken median {median(by_notify):.1f} ms, p95 "
          f"{percentile(by_notify, 95):.1f} ms; engine poll median {median(by_poll):.1f} ms, "
          f"p95 {percentile(by_poll, 95):.1f} ms ({requests} requests each)")
    report("attached console latency, LISTEN/NOTIFY (PostgreSQL)", median(notified), "ms",
           baseline=median(polled), baseline_name="polling every 0.25 s",
           target="median under half the polling median",
           passed=bool(notified) and median(notified) < median(polled) / 2,
           p95=round(percentile(notified, 95), 1), baseline_p95=round(percentile(polled, 95), 1),
           samples=len(notified))
    report("console request round trip, NOTIFY-woken engine (PostgreSQL)", median(by_notify),
           "ms", baseline=median(by_poll), baseline_name="engine poll every 0.5 s",
           target="median under half the polled median",
           passed=median(by_notify) < median(by_poll) / 2,
           p95=round(percentile(by_notify, 95), 1), baseline_p95=round(percentile(by_poll, 95), 1),
           samples=requests)


if __name__ == "__main__":
    main()
