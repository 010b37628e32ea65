"""How a run's code is called: a python function in-process (``pyjob.py``) or a command
in a process group of its own (``process.py``), with the job's parameters and
environment, its output and progress fed back onto the run."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

from tui_scheduler.core.policies import JobKind
from tui_scheduler.core.progress import Progress
from tui_scheduler.core.secrets import mask_values, secret_values
from tui_scheduler.engine.active import ActiveRun
from tui_scheduler.engine.process import CommandRunner, ProcessOutcome
from tui_scheduler.engine.pyjob import JobContext, call_python
from tui_scheduler.engine.sink import OutputSink
from tui_scheduler.store.db import Store
from tui_scheduler.store.jobs import get_job_by_id
from tui_scheduler.store.models import Job, row_id
from tui_scheduler.store.runs import last_success_time


def _job_params(job: Job) -> dict[str, Any]:
    text = job.params
    return {} if not text or text == "{}" else json.loads(text)


def param_env(params: dict[str, Any]) -> dict[str, str]:
    """Parameters as environment variables, never spliced into the shell command."""
    env = {"TUI_SCHEDULER_PARAMS_JSON": json.dumps(params, sort_keys=True)}
    for key, value in params.items():
        name = "PARAM_" + re.sub(r"[^A-Za-z0-9_]", "_", str(key)).upper()
        env[name] = value if isinstance(value, str) else json.dumps(value)
    return env


def call_job(run: ActiveRun, store: Store,
             sink: Callable[[ActiveRun], OutputSink]) -> ProcessOutcome:
    """Run the job's code on this thread to its end: a python function in-process, or a
    command in a process group of its own. Output goes to ``sink(run)``, progress and
    the pid onto ``run``."""
    job = run.job
    params = _job_params(job)
    if run.params:
        params = {**params, **run.params}

    def on_line(stream: str, line: str) -> None:
        sink(run).append(stream, line)

    def on_lines(stream: str, lines: list[str]) -> None:
        sink(run).extend(stream, lines)

    # The progress message and the error line are summaries shown everywhere (table,
    # toasts, `runs`, JSON): a secret the job prints there is masked before it is kept.
    # The output itself is stored as printed and masked on display.
    job_env = json.loads(job.env or "{}")
    secrets = secret_values(job_env, params, json.loads(job.secrets or "[]"))

    def on_progress(progress: Progress) -> None:
        if secrets and progress.message:
            progress = Progress(progress.done, progress.total,
                                mask_values(progress.message, secrets))
        run.progress = progress.following(run.progress)
        run.progress_dirty = True

    if job.kind == JobKind.PYTHON:
        def load_state() -> dict[str, Any]:
            # Read fresh: the engine's copy of the job predates the last run's save.
            stored = get_job_by_id(store, row_id(job))
            return json.loads((stored or job).state or "{}")

        ctx = JobContext(
            run_id=run.recorded_id, job_name=job.name, params=params, trigger=run.trigger,
            _on_line=on_line, _on_progress=on_progress,
            _load_last_success=lambda: last_success_time(store, row_id(job)),
            _load_state=load_state)
        run.context = ctx
        if job.timeout_s:
            run.deadline = time.monotonic() + job.timeout_s
        outcome = call_python(job.target, ctx)
        outcome.last_stderr = mask_values(outcome.last_stderr, secrets)
        outcome.stopped = run.stop_kind == "stopped"
        outcome.timed_out = run.stop_kind == "timed_out"
        return outcome
    env = {**os.environ, **job_env, **param_env(params),
           "PYTHONUNBUFFERED": "1", "TUI_SCHEDULER_RUN_ID": str(run.run_id),
           "TUI_SCHEDULER_JOB": job.name, "TUI_SCHEDULER_TRIGGER": run.trigger}

    def on_spawn(pid: int) -> None:
        run.pid = pid
        run.pid_dirty = True

    runner = CommandRunner(job.target, env=env, cwd=job.workdir or None,
                           on_lines=on_lines, on_progress=on_progress,
                           on_spawn=on_spawn,
                           # As cron does: the job's own SHELL (a crontab's SHELL=
                           # line), never the engine's login shell from os.environ.
                           shell=job_env.get("SHELL") or "/bin/sh")
    outcome = runner.run(timeout=job.timeout_s, grace=job.stop_grace_s, stop=run.stop)
    outcome.last_stderr = mask_values(outcome.last_stderr, secrets)
    return outcome
