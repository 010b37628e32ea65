"""Pilot tests: the console never shows a secret value. The job detail, the editor and the
run-with-parameters dialog show secret env/params (by name or marked) as the mask and keep
the stored value behind it; the run log masks a secret the job printed in a real run."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import asynccontextmanager

from tests.functional.console_support import add_job, console, until
from tests.helpers import finished_runs, output_text
from tui_scheduler.core.secrets import MASK
from tui_scheduler.store.jobs import get_job, job_fields
from tui_scheduler.ui.screens.job_detail import JobDetailScreen
from tui_scheduler.ui.screens.job_form import JobFormScreen
from tui_scheduler.ui.screens.params import ParamsScreen
from tui_scheduler.ui.screens.run_log import RunLogScreen

from .screen_app import ScreenApp

TOKEN, PASS, OPAQUE, SMTP = "tok-AAAA1111", "pw-BBBB2222", "opaque-DDDD", "smtp-CCCC3333"


def secret_job(store, name="deploy", target="echo deploying"):
    return add_job(store, name, target, env={"API_TOKEN": TOKEN, "DB_PASS": PASS,
                                             "MODE": "full"},
                   params={"opaque": OPAQUE, "smtpPwd": SMTP, "region": "eu"},
                   secrets=["opaque"])


@asynccontextmanager
async def opened(store, screen, loaded, size):
    """A ScreenApp showing ``screen`` once ``loaded(screen)`` holds."""
    app = ScreenApp(store, lambda: screen)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.screen is screen and loaded(screen))
        yield app, pilot, screen


def assert_hidden(text: str) -> None:
    for value in (TOKEN, PASS, OPAQUE, SMTP):
        assert value not in text


async def test_job_detail_masks_env_and_params(store):
    job = secret_job(store)
    async with opened(store, JobDetailScreen(job.id), lambda s: s.job is not None,
                      (140, 36)) as (_app, _pilot, screen):
        settings = str(screen.query_one("#detail-settings").render())
        assert_hidden(settings)
        assert f"API_TOKEN={MASK}" in settings and f"DB_PASS={MASK}" in settings
        assert "MODE=full" in settings and "region=eu" in settings
        assert f"opaque={MASK}" in settings and "secret   opaque" in settings


async def test_editor_shows_masks_and_saving_keeps_the_stored_secrets(store):
    job = secret_job(store)
    async with opened(store, JobFormScreen(job.id), lambda s: s._baseline is not None,
                      (100, 44)) as (app, pilot, screen):
        state = screen._state()
        assert_hidden(json.dumps(state))
        assert f"API_TOKEN={MASK}" in state["env"] and state["secrets"] == "opaque"
        screen.query_one("#f-env").text = state["env"].replace("MODE=full", "MODE=quick")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.dismissed == [job.id], what="the form to save")
    saved = job_fields(get_job(store, job.id))
    assert saved["env"] == {"API_TOKEN": TOKEN, "DB_PASS": PASS, "MODE": "quick"}
    assert saved["params"] == {"opaque": OPAQUE, "smtpPwd": SMTP, "region": "eu"}


async def test_params_dialog_shows_masks_and_runs_with_the_stored_values(store, make_engine):
    job = secret_job(store, "greet", 'echo "p=$PARAM_OPAQUE r=$PARAM_REGION"')
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        await pilot.press("R")
        form = await until(pilot, lambda: isinstance(app.screen, ParamsScreen) and app.screen)
        shown = form.query_one("#params-text").text
        assert f"opaque={MASK}" in shown and f"smtpPwd={MASK}" in shown
        assert_hidden(shown)
        form.query_one("#params-text").text = shown.replace("region=eu", "region=us")
        await pilot.press("ctrl+s")
        runs = await until(pilot, lambda: finished_runs(store, job.id), what="a finished run")
    # The stored default ran (the job's raw output is stored as printed).
    assert output_text(store, runs[0].id) == [("out", f"p={OPAQUE} r=us")]


def run_with_cli(db_path: str, name: str) -> None:
    done = subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", db_path, "run",
                           name, "--wait"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 5, done.stderr


async def test_run_log_masks_a_secret_the_job_printed(store, db_path):
    job = secret_job(store, "leaky", 'echo "token=$API_TOKEN mode=$MODE"; '
                                     'echo "p=$PARAM_OPAQUE" >&2; exit 5')
    run_with_cli(db_path, "leaky")  # a real run, before the console opens
    run_id = finished_runs(store, job.id)[0].id
    async with opened(store, RunLogScreen(run_id), lambda s: s._loaded,
                      (100, 30)) as (_app, pilot, screen):
        await pilot.pause()
        assert screen.view.lines == [("out", f"token={MASK} mode=full"),
                                     ("err", f"p={MASK}")]
        drawn = "\n".join(screen.view.render_line(y).text for y in range(4))
        assert TOKEN not in drawn and OPAQUE not in drawn and f"token={MASK}" in drawn
        header = str(screen.query_one("#log-header").render())
        assert "exit code 5" in header and f"p={MASK}" in header and OPAQUE not in header
