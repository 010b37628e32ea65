"""A job floods its output: 200 MB of lines as fast as it can, 50 MB without a newline,
then invalid UTF-8 and NUL bytes. Memory stays bounded, the stored log is capped with a
visible marker, and the run ends with the job's real exit code."""

from __future__ import annotations

import threading

import psutil
import pytest

from tests.helpers import finished_runs, output_text
from tui_scheduler.store.jobs import create_job

FLOOD = ("yes 'flood line 0123456789 0123456789 0123456789 0123456789' | head -c 200000000; "
         "head -c 50000000 /dev/zero | tr '\\0' 'z'; "
         "printf '\\nbad \\377\\376 utf8 \\000 nul\\n'; echo tail-marker; exit 3")


@pytest.mark.slow
def test_flood_is_capped_and_memory_bounded(store, make_engine):
    job = create_job(store, {"name": "flood", "target": FLOOD})
    engine = make_engine()
    me = psutil.Process()
    baseline = me.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], me.memory_info().rss)

    watcher = threading.Thread(target=watch)
    watcher.start()
    run = engine.run_now(job.id)
    try:
        assert run.finished.wait(300)
    finally:
        done.set()
        watcher.join()
    record = finished_runs(store, job.id)[-1]
    assert record.status == "failed" and record.exit_code == 3
    assert record.output_truncated
    assert record.output_bytes > 250_000_000
    lines = output_text(store, record.id)
    stored = sum(len(line) + 1 for _, line in lines)
    assert stored <= 10 * 1024 * 1024 + 128 * 1024
    markers = [line for stream, line in lines if stream == "sys"]
    assert len(markers) == 1 and "truncated" in markers[0]
    assert lines[0][1].startswith("flood line")
    assert lines[-1][1] == "tail-marker"
    assert lines[-2][1] == "bad \ufffd\ufffd utf8 \ufffd nul"
    growth = (peak[0] - baseline) / 1024 / 1024
    assert growth < 150, f"memory grew by {growth:.0f} MiB"
    print(f"\npeak memory growth {growth:.0f} MiB; stored {stored / 1e6:.1f} MB")
