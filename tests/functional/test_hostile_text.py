"""Nothing a job prints or stores can drive the terminal, on any screen of the console.

A real job (a Python script run by the real engine) puts every kind of terminal control
(tests/hostile.py) into its progress message, its stdout and stderr lines and its last
error; its definition carries them in the description, params, env, command, working
directory and (written straight into the database, as an older version or another
program could have) its name and tags. Each screen is then rendered the way the app writes it to
a terminal (the compositor's full update: every segment, and the bytes made of them),
and must hold no raw control character from the data, only its visible stand-in.
"""

from __future__ import annotations

import re
import sqlite3
import sys

from textual.command import CommandPalette

from tests.functional.console_support import add_job, console, record_notifications, until
from tests.helpers import finished_runs
from tests.hostile import hostile, raw_controls, shown
from tui_scheduler.store.jobs import get_job_by_id
from tui_scheduler.store.runs import list_runs
from tui_scheduler.ui import messages as msg
from tui_scheduler.ui.app import SchedulerApp
from tui_scheduler.ui.screens.confirm import ConfirmScreen
from tui_scheduler.ui.screens.job_detail import JobDetailScreen
from tui_scheduler.ui.screens.job_form import JobFormScreen
from tui_scheduler.ui.screens.params import ParamsScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen

NAME = "evil" + hostile("rlo") + hostile("pm")
NAME_SHOWN = "evil" + shown("rlo") + shown("pm")
# The cursor moves and colours Textual writes itself around the segments.
TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")

SCRIPT = """\
import json, pathlib, sys, time
print(json.dumps({{"progress": 0.3, "message": {progress!r}}}), flush=True)
for line in {lines!r}:
    print("out " + line, flush=True)
print("err " + {err!r}, file=sys.stderr, flush=True)
go = pathlib.Path({go!r})
while not go.exists():
    time.sleep(0.05)
print("last " + {last!r}, file=sys.stderr, flush=True)
sys.exit(3)
"""


def terminal(app) -> tuple[str, str]:
    """(the screen's text, what the app writes to the terminal to draw it)."""
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens)
    text = "\n".join("".join(segment.text for segment in strip) for strip in update.strips)
    return text, update.render_segments(app.console)


def assert_clean(app, *standins: str) -> str:
    """No raw control from the data on screen, and each stand-in visible; the text."""
    text, written = terminal(app)
    where = type(app.screen).__name__
    bad_lines = [repr(line.strip()) for line in text.splitlines() if raw_controls(line)]
    assert not bad_lines, f"{where} draws raw controls:\n" + "\n".join(bad_lines)
    assert raw_controls(TEXTUAL_OWN.sub("", written)) == [], f"{where} writes raw controls"
    for standin in standins:
        assert standin in text, f"{where} does not show {standin!r}:\n{text}"
    return text


def hostile_job(store, db_path, tmp_path):
    """The job: hostile fields everywhere, and a name no validation would let in."""
    go = tmp_path / "go"
    script = tmp_path / "evil.py"
    script.write_text(SCRIPT.format(
        progress=hostile("osc52"), lines=[hostile(k) for k in ("osc0", "csi2j", "dcs", "sos")],
        err=hostile("c1csi"), go=str(go), last=hostile("c1osc") + hostile("isolate")))
    workdir = tmp_path / ("wd" + hostile("apc"))
    workdir.mkdir()
    job = add_job(store, "evil", f"{sys.executable} {script} # {hostile('dcs')}",
                  description="about " + hostile("osc52"),
                  params={"P": hostile("osc0")},
                  env={"MODE": hostile("csi2j"), "PYTHONIOENCODING": "utf-8"},
                  workdir=str(workdir), overlap="allow")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE job SET name = ?, tags = ? WHERE id = ?",
                     (NAME, "t" + hostile("sos"), job.id))
    return job, go


async def test_no_screen_writes_a_control_a_job_printed_or_stored(store, db_path, tmp_path,
                                                                  make_engine):
    job, go = hostile_job(store, db_path, tmp_path)
    engine = make_engine()
    app = SchedulerApp(store, engine)
    async with app.run_test(size=(170, 40), notifications=True) as pilot:
        await until(pilot, lambda: app.home.loaded, what="the job table")
        toasts = record_notifications(app)
        app.request_run(job.id)
        runs = await until(pilot, lambda: list_runs(store, job.id), what="the run")
        run_id = runs[0].id
        # The job table: name, and the progress message while it runs.
        await until(pilot, lambda: "UFJPR1JFU1M=" in terminal(app)[0], what="the progress")
        assert_clean(app, NAME_SHOWN, "^[]52;c;UFJPR1JFU1M=^[\\")

        # The palette's per-job commands.
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"evil")
        await until(pilot, lambda: "Open job evil" in terminal(app)[0],
                     what="the palette's job entries")
        assert_clean(app, f"Open job {NAME_SHOWN}", f"Run job {NAME_SHOWN} now")
        await pilot.press("escape")
        await until(pilot, lambda: not CommandPalette.is_open(app))

        # Confirm dialogs that name the job, and the run-with-parameters dialog.
        for ask in (app.request_stop, app.request_delete):
            ask(job.id)
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                        and "(y)" in terminal(app)[0], what="the question")
            assert_clean(app, NAME_SHOWN)
            await pilot.press("n")
            await until(pilot, lambda: app.screen is app.home)
        app.request_run_with_params(job.id)
        await until(pilot, lambda: isinstance(app.screen, ParamsScreen))
        await pilot.pause(0.2)
        assert_clean(app, NAME_SHOWN, "P=" + shown("osc0"))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)

        # The job detail: title, description, settings, the live run.
        app.open_detail(job.id)
        screen = await until(pilot, lambda: isinstance(app.screen, JobDetailScreen)
                             and app.screen.job is not None and app.screen)
        await until(pilot, lambda: "UFJPR1JFU1M=" in str(screen.query_one("#detail-live").render()),
                    what="the live run")
        assert_clean(app, NAME_SHOWN, "about " + shown("osc52"), "MODE=" + shown("csi2j"),
                     "# " + shown("dcs"), "wd" + shown("apc"),
                     "tags     t" + shown("sos"))

        # The run log: output lines, progress message, a search.
        app.open_run_log(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunLogScreen))
        await until(pilot, lambda: "sos" in terminal(app)[0], what="output")
        assert_clean(app, NAME_SHOWN, *("out " + shown(k) for k in ("osc0", "csi2j", "dcs")),
                     "┃ err " + shown("c1csi"), shown("osc52"))
        await pilot.press("slash", *"pwned", "enter")
        await pilot.pause(0.2)
        assert_clean(app, "out " + shown("osc0"))

        # The run fails: the toast names the job and its last stderr line, on any screen.
        go.write_text("")
        await until(pilot, lambda: finished_runs(store, job.id), what="the run to end")
        last = shown("c1osc") + shown("isolate")
        await until(pilot, lambda: any("failed|" in toast for toast in toasts), what="toast")
        await pilot.pause(0.3)
        await until(pilot, lambda: "error " in terminal(app)[0], what="the log's header")
        assert_clean(app, f"{NAME_SHOWN} failed", "last " + last, "error ")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await until(pilot, lambda: "✘ failed" in terminal(app)[0], what="the failed run row")
        assert_clean(app, "last " + last)

        # The header: engine trouble quoting what the database or a job said.
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home)
        app.post_message(msg.EngineTrouble(message="disk " + hostile("osc0")))
        await until(pilot, lambda: "Engine trouble" in terminal(app)[0], what="trouble")
        assert_clean(app, "disk " + shown("osc0"))


async def test_the_editor_shows_stand_ins_and_saves_the_stored_bytes(store, make_engine,
                                                                     tmp_path):
    """The editor shows stand-ins, yet a save keeps every untouched field's exact bytes
    (a stand-in must not replace the stored value) and takes what was retyped."""
    workdir = tmp_path / ("wd" + hostile("apc"))
    workdir.mkdir()
    job = add_job(store, "edit-evil", "echo hi # " + hostile("dcs"),
                  description="about " + hostile("osc52"), params={"P": hostile("osc0")},
                  env={"MODE": hostile("csi2j")}, workdir=str(workdir))
    before = get_job_by_id(store, job.id)
    # A stored schedule no version would accept: the preview echoes its words.
    bad = add_job(store, "bad-cron", "true")
    with sqlite3.connect(store.location) as conn:
        conn.execute("UPDATE job SET schedule = ? WHERE id = ?",
                     ("0 " + hostile("csi2j") + " * * *", bad.id))
    engine = make_engine()
    async with console(store, engine, size=(140, 60)) as (app, pilot):
        app.open_editor(job.id)
        form = await until(pilot, lambda: isinstance(app.screen, JobFormScreen) and app.screen)
        await until(pilot, lambda: "Edit job edit-evil" in terminal(app)[0], what="the job")
        await pilot.pause(0.2)
        assert_clean(app, "about " + shown("osc52"), "# " + shown("dcs"),
                     "MODE=" + shown("csi2j"), "wd" + shown("apc"))
        assert not form.dirty
        form.query_one("#f-retries").value = "2"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is app.home, what="the save")
        assert_clean(app, "invalid: ")
        app.open_editor(bad.id)
        await until(pilot, lambda: "Edit job bad-cron" in terminal(app)[0], what="the job")
        await pilot.pause(0.2)
        assert_clean(app, "0 " + shown("csi2j") + " * * *", "invalid schedule")
    after = get_job_by_id(store, job.id)
    assert after.retries == 2
    for field in ("description", "target", "params", "env", "workdir"):
        assert getattr(after, field) == getattr(before, field), field
