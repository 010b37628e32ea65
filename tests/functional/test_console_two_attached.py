"""Two consoles attached at once to one daemon process (SQLite, and PostgreSQL when
TUI_SCHEDULER_TEST_PG is set): a run started from one shows as running, with live
progress, in the other; a pause from the other shows in the first; quitting both leaves
the daemon and its job running.

Both consoles are Textual apps in this test's event loop (two ``run_test`` blocks, one
inside the other, work in Textual 8.2.8), each with its own attached stand-in, as two
terminals would have.
"""

from __future__ import annotations

import re
import signal

from tests.engine.test_crash_recovery import start_daemon
from tests.functional.console_support import add_job, cell, console, job_row, until
from tests.functional.test_console_attached import attach
from tests.helpers import runs_of, wait_for
from tui_scheduler.engine.lock import live_holder

# A minute long, one percent every 0.6 s: still running when both consoles have quit.
SLOW_PROGRESS = 'for i in $(seq 1 600); do echo "$((i / 6))%"; sleep 0.1; done'


def percent(app, job_id: int) -> int | None:
    """The progress figure a console shows for a job (None when it shows none)."""
    found = re.search(r"(\d+)%", cell(app, job_id, "last"))
    return int(found.group(1)) if found else None


def select(app, job_id: int) -> None:
    app.home.table.move_cursor(row=app.home.table.get_row_index(str(job_id)))


async def test_two_consoles_attached_to_one_daemon_agree(backend):
    store, db = backend
    prog = add_job(store, "prog", SLOW_PROGRESS)
    ticker = add_job(store, "ticker", "true", "* * * * * *")
    daemon = start_daemon(db)
    stand_ins = []
    try:
        wait_for(lambda: (h := live_holder(store)) is not None and h.pid == daemon.pid,
                 timeout=20, what="the daemon to serve the database")
        stand_ins += [attach(store), attach(store)]
        engine_a, engine_b = stand_ins
        async with console(store, engine_a) as (a, pilot_a):
            async with console(store, engine_b) as (b, pilot_b):
                for app, pilot in ((a, pilot_a), (b, pilot_b)):
                    await until(pilot, lambda app=app: f"pid {daemon.pid}"
                                in app.home.header.render().plain,
                                what="both headers to name the daemon")

                # A starts the run; B shows it running, and its progress moving.
                select(a, prog.id)
                await pilot_a.press("r")
                await until(pilot_b, lambda: "running" in cell(b, prog.id, "state"),
                            timeout=15, what="console B to show A's run running")
                first = await until(pilot_b, lambda: percent(b, prog.id), timeout=15,
                                    what="console B to show the run's progress")
                await until(pilot_b, lambda: (percent(b, prog.id) or 0) > first, timeout=15,
                            what="console B's progress to move")
                assert runs_of(store, prog.id)[-1].owner.endswith(f":{daemon.pid}")
                assert [r.run_id for r in engine_b.running_runs(prog.id)] == \
                    [r.run_id for r in engine_a.running_runs(prog.id)]

                # B pauses the ticker; A shows it paused and the daemon stops firing it.
                select(b, ticker.id)
                await pilot_b.press("p")
                await until(pilot_b, lambda: job_row(store, ticker.id).paused,
                            what="the pause to be saved")
                await until(pilot_a, lambda: "paused" in cell(a, ticker.id, "state"),
                            timeout=15, what="console A to show B's pause")
                await pilot_a.pause(1.5)
                count = len(runs_of(store, ticker.id))
                await pilot_a.pause(2.5)
                assert len(runs_of(store, ticker.id)) == count

                await pilot_b.press("q")
            engine_b.shutdown()
            # A carries on alone: the run is still live there.
            shown = percent(a, prog.id) or 0
            await until(pilot_a, lambda: (percent(a, prog.id) or 0) > shown, timeout=15,
                        what="console A's progress to keep moving after B quit")
            await pilot_a.press("q")
        engine_a.shutdown()
        assert daemon.poll() is None and live_holder(store).pid == daemon.pid
        assert runs_of(store, prog.id)[-1].status == "running"  # quitting left it going
        assert job_row(store, ticker.id).paused
    finally:
        for stand_in in stand_ins:
            stand_in.shutdown()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
