"""What the operator can do to a job, as the app's ``request_*`` methods.

Each runs in a thread worker: database reads and writes never happen on the UI thread.
A worker that must ask first pushes a screen and waits for its answer (``_ask``), so every
flow reads top to bottom. After a database edit the engine reloads that job, and its
``JobsChanged`` event updates every screen.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from textual import work
from textual.screen import Screen
from textual.worker import get_current_worker

from tui_scheduler.ui import messages as msg
from tui_scheduler.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:  # all of these run after start-up (ui.boot): imported where used
    from tui_scheduler.engine.surface import EngineSurface
    from tui_scheduler.store.db import Store
    from tui_scheduler.store.models import Job

# How long a stop waits for SIGTERM to work before offering SIGKILL.
STOP_PATIENCE_S = 3.0


class JobActions:
    """Mixed into ``SchedulerApp``; needs ``store``, ``engine`` and the App API."""

    store: Store
    engine: EngineSurface

    # ---- helpers (worker threads) -----------------------------------------------------

    def _ask(self, screen: Screen) -> Any:
        """Push ``screen`` and wait for what it dismisses with (None if the app quits)."""
        answer: Future = Future()
        self.call_from_thread(self.push_screen, screen, answer.set_result)
        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                return answer.result(timeout=0.2)
            except FutureTimeout:
                continue
        return None

    def _job(self, job_id: int) -> Job | None:
        from tui_scheduler.store.jobs import get_job_by_id

        job = get_job_by_id(self.store, job_id)
        if job is None or job.deleted_at is not None:
            self.notify(f"Job #{job_id} no longer exists.", severity="warning")
            return None
        return job

    # ---- running ----------------------------------------------------------------------

    def request_run(self, job_id: int) -> None:
        """Run a job now (a manual run, whatever its schedule or pause)."""
        self._start(job_id, None)

    def request_run_with_params(self, job_id: int) -> None:
        """Ask for parameters, then run the job with them."""
        self._ask_params(job_id)

    @work(thread=True, group="actions", exit_on_error=False)
    def _ask_params(self, job_id: int) -> None:
        import json

        from tui_scheduler.ui.screens.params import ParamsScreen

        job = self._job(job_id)
        if job is None:
            return
        params = self._ask(ParamsScreen(job.name, json.loads(job.params or "{}"),
                                        json.loads(job.secrets or "[]")))
        if params is not None:
            self._start(job_id, params)

    @work(thread=True, group="actions", exit_on_error=False)
    def _start(self, job_id: int, params: dict[str, Any] | None) -> None:
        job = self._job(job_id)
        if job is None:
            return
        run = self.engine.run_now(job_id, params)
        if run is None:
            if not self.engine.running:
                why = "the engine is not running"
            elif self.engine.running_runs(job_id):
                why = "it is still running and its overlap policy is skip (recorded as skipped)"
            else:
                why = "the engine has not loaded it yet; try again"
            self.notify(f"{job.name} did not start: {why}.", severity="warning")
            return
        run.recorded.wait(5)
        if run.status == "skipped":
            self.notify(f"{job.name} did not start: it is still running and its overlap "
                        f"policy is skip (recorded as skipped run #{run.run_id}).",
                        severity="warning")
        elif run.status == "scheduled":
            self.notify(f"{job.name}: run #{run.run_id} queued behind the running one.")
        else:
            self.notify(f"Started {job.name} (run #{run.run_id}).", timeout=3)

    @work(thread=True, group="actions", exit_on_error=False)
    def request_stop(self, job_id: int) -> None:
        """Confirm, send SIGTERM; if the job outlives it, offer SIGKILL."""
        runs = self.engine.running_runs(job_id)
        if not runs:
            self._cancel_retry(job_id)
            return
        job = runs[0].job
        ids = ", ".join(f"#{run.run_id}" for run in runs)
        question = (f"Stop {job.name} (run {ids})?\n\nIt gets SIGTERM now and SIGKILL after "
                    f"{job.stop_grace_s:g}s if it has not exited. The run is recorded as "
                    "stopped.")
        if not self._ask(ConfirmScreen(question, yes="Stop", no="Keep running")):
            return
        self._stop_sent(job_id, self.engine.stop_job(job_id))
        patience = min(STOP_PATIENCE_S, job.stop_grace_s) if job.stop_grace_s else 0.5
        if all(run.finished.wait(patience) for run in runs):
            self.notify(f"Stopped {job.name}.")
            return
        question = (f"{job.name} is still running after SIGTERM.\n\nKill it now with SIGKILL? "
                    "It gets no chance to clean up.")
        if self._ask(ConfirmScreen(question, yes="Kill", no="Wait")):
            self._stop_sent(job_id, self.engine.stop_job(job_id, kill=True))
            self.notify(f"Killed {job.name}.", severity="warning")

    def _stop_sent(self, job_id: int, run_ids: list[int]) -> None:
        """The runs show "■ stopping" from now until their end is recorded (with either
        engine: both end a run with RunFinished)."""
        if run_ids:
            self.post_message(msg.StopRequested(job_id, tuple(run_ids)))

    def _cancel_retry(self, job_id: int) -> None:
        """``s`` on a job whose retry waits for its delay: confirm, then cancel it (the
        engine records it stopped). Not running and no retry: say so."""
        from tui_scheduler.store.runs import get_run, waiting_retries

        job = self._job(job_id)
        if job is None:
            return
        retry = waiting_retries(self.store, [job_id]).get(job_id)
        if retry is None:
            self.notify(f"{job.name} is not running.", severity="warning")
            return
        when = retry.scheduled_for.astimezone().strftime("%H:%M:%S")
        question = (f"Cancel the retry of {job.name} (run #{retry.id}, attempt "
                    f"{retry.attempt} of {job.retries + 1}, due {when})?\n\nIt is recorded "
                    "as stopped and does not run.")
        if not self._ask(ConfirmScreen(question, yes="Cancel retry", no="Keep it")):
            return
        self.engine.stop_run(retry.id)
        status = get_run(self.store, retry.id).status
        if status == "stopped":
            # An attached console hears of runs that start or end, not of a retry that
            # never started: read the job's row again here.
            self.call_from_thread(self.home.load_jobs, {job_id})
            self.notify(f"Cancelled the retry of {job.name} (run #{retry.id}).")
        else:
            self.notify(f"The retry of {job.name} (run #{retry.id}) is {status}.",
                        severity="warning")

    # ---- editing flags ----------------------------------------------------------------

    @work(thread=True, group="actions", exit_on_error=False)
    def request_toggle_pause(self, job_id: int) -> None:
        """Pause a job (no scheduled fires; manual runs still work) or resume it."""
        job = self._job(job_id)
        if job is None:
            return
        from tui_scheduler.store.jobs import set_job_flags

        job = set_job_flags(self.store, job_id, paused=not job.paused)
        self.engine.reload({job_id})
        also = "" if job.enabled else " It is also disabled: x enables it."
        self.notify(f"{job.name} {'paused' if job.paused else 'resumed'}.{also}",
                    timeout=6 if also else 3)

    def request_toggle_mute(self, job_id: int) -> None:
        """Silence or restore a job's failure toasts (the table still shows it failing)."""
        name = self.home.job_name(job_id)
        if self.failure_toasts.toggle_mute(job_id):
            self.notify(f"{name}: failure toasts muted until the console quits (m again "
                        "to unmute).", timeout=4, markup=False)
        else:
            self.notify(f"{name}: failure toasts back on.", timeout=3, markup=False)

    @work(thread=True, group="actions", exit_on_error=False)
    def request_toggle_enabled(self, job_id: int) -> None:
        """Disable a job (it never fires) or enable it again."""
        job = self._job(job_id)
        if job is None:
            return
        from tui_scheduler.store.jobs import set_job_flags

        job = set_job_flags(self.store, job_id, enabled=not job.enabled)
        self.engine.reload({job_id})
        also = " It is also paused: p resumes it." if job.paused else ""
        self.notify(f"{job.name} {'enabled' if job.enabled else 'disabled'}.{also}",
                    timeout=6 if also else 3)

    @work(thread=True, group="actions", exit_on_error=False)
    def request_delete(self, job_id: int) -> None:
        """Confirm, then delete the job; its run history stays readable."""
        job = self._job(job_id)
        if job is None:
            return
        running = self.engine.running_runs(job_id)
        question = (f"Delete job {job.name}?\n\nIt stops firing and leaves the table; its "
                    "run history stays readable.")
        if running:
            question += " Its running run is not stopped (press s for that)."
        if not self._ask(ConfirmScreen(question, yes="Delete", no="Keep")):
            return
        from tui_scheduler.store.jobs import delete_job

        delete_job(self.store, job_id)
        self.engine.reload({job_id})
        self.notify(f"Deleted {job.name}; its history is kept (D: deleted jobs).", timeout=4)

    # ---- screens ----------------------------------------------------------------------

    def open_editor(self, job_id: int | None) -> None:
        """The job form: a new job (None) or an existing one."""
        try:
            from tui_scheduler.ui.screens.job_form import JobFormScreen
        except ImportError:
            self.notify("The job editor is not available in this build.", severity="error")
            return
        row = self.home.table.rows_by_id.get(job_id) \
            if job_id is not None and self.home.loaded else None
        self.push_screen(JobFormScreen(job_id, row.job if row else None), self._after_edit)

    def _after_edit(self, saved_id: int | None) -> None:
        if saved_id is not None:
            self.home.select_when_shown(saved_id)
            self._reload_job(saved_id)

    @work(thread=True, group="actions", exit_on_error=False)
    def _reload_job(self, job_id: int) -> None:
        self.engine.reload({job_id})

    def open_detail(self, job_id: int) -> None:
        """A job's settings, statistics and runs."""
        try:
            from tui_scheduler.ui.screens.job_detail import JobDetailScreen
        except ImportError:
            self.notify("The job detail screen is not available in this build.",
                        severity="error")
            return
        self.push_screen(JobDetailScreen(job_id))

    def open_deleted_jobs(self) -> None:
        """Deleted jobs, whose runs are kept until purged."""
        from tui_scheduler.ui.screens.deleted_jobs import DeletedJobsScreen

        if self.ready and not isinstance(self.screen, DeletedJobsScreen):
            self.push_screen(DeletedJobsScreen())

    def open_run_log(self, run_id: int) -> None:
        """One run's header and full output."""
        try:
            from tui_scheduler.ui.screens.run_log import RunLogScreen
        except ImportError:
            self.notify("The run log screen is not available in this build.", severity="error")
            return
        self.push_screen(RunLogScreen(run_id))
