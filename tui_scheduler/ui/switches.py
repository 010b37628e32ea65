"""A job's two switches, pause (``p``) and enable (``x``), as keys whose labels follow the
selected job: the footer says "Resume" for a paused job and "Enable" for a disabled one.

Each key has two bindings (pause/resume, disable/enable); ``allowed`` lets only the one
that applies through, so the footer, help and the key itself agree with the job's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:
    from tui_scheduler.store.models import Job

SWITCHES_HELP = (
    "p pauses a job: a hold, no scheduled fires until p resumes it. "
    "x disables it: switched off (what 'on failure: disable' does too), and an "
    "interrupted run is not restarted. Either stops scheduled fires; r still runs it. "
    "They are separate: a job can be both (○ disabled, ‖ paused) and then needs x and p.")
"""Shown in help under the keys."""


def switch_bindings(prefix: str, *, show_x: bool) -> list[Binding]:
    """The four bindings of ``p`` and ``x`` for a screen (ids ``prefix.pause`` ...)."""
    return [
        Binding("p", "pause", "Pause", id=f"{prefix}.pause",
                tooltip="Pause the job: no scheduled fires until resumed (r still runs it)"),
        Binding("p", "resume", "Resume", id=f"{prefix}.resume",
                tooltip="Resume the paused job"),
        Binding("x", "disable", "Disable", id=f"{prefix}.disable", show=show_x,
                tooltip="Disable the job: switched off until enabled (r still runs it)"),
        Binding("x", "enable", "Enable", id=f"{prefix}.enable", show=show_x,
                tooltip="Enable the disabled job"),
    ]


def allowed(action: str, job: Job | None) -> bool:
    """``check_action`` for the switch actions (True for any other action). With no job
    selected the keys keep their plain labels (Pause, Disable)."""
    if job is None:
        return action not in ("resume", "enable")
    state = {"pause": not job.paused, "resume": job.paused,
             "disable": job.enabled, "enable": not job.enabled}
    return state.get(action, True)
