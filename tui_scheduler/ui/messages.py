"""Textual messages that mirror the engine's events, plus the console's own.

The bridge turns each engine event (called on an engine thread) into one of these and
posts it to the app; the app re-posts a copy to every screen on the stack, so any screen
can handle ``on_run_progress``, ``on_run_finished`` ... for the runs it shows.
Progress and output messages say ``can_replace`` for a newer one of the same run, so a
burst collapses into the latest instead of queueing. None of them bubble: a screen's copy
must not climb back to the app that re-posted it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the engine loads after the first frame; mirrors go by class name
    from tui_scheduler.engine import events


class EngineMessage(Message, bubble=False):
    """Base of the messages that carry an engine event."""

    def copy(self) -> EngineMessage:
        """A fresh message with the same fields, to post to another node."""
        return dataclasses.replace(self)


@dataclass
class RunStarted(EngineMessage, bubble=False):
    run_id: int
    job_id: int
    trigger: str
    started_at: datetime


@dataclass
class RunProgress(EngineMessage, bubble=False):
    run_id: int
    job_id: int
    done: float | None
    total: float | None
    message: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgress) and message.run_id == self.run_id


@dataclass
class RunOutput(EngineMessage, bubble=False):
    run_id: int
    job_id: int
    lines: int
    """Lines of output the run has produced so far (a running total)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunOutput) and message.run_id == self.run_id


@dataclass
class RunFinished(EngineMessage, bubble=False):
    run_id: int
    job_id: int
    status: str
    exit_code: int | None
    error: str


@dataclass
class FireAccounted(EngineMessage, bubble=False):
    """A fire that started no run (skipped, missed) or a run queued behind another."""

    run_id: int
    job_id: int
    status: str
    reason: str


@dataclass
class JobsChanged(EngineMessage, bubble=False):
    job_ids: frozenset[int]
    """Jobs whose definitions changed (created, edited, paused, deleted ...)."""


@dataclass
class EngineTrouble(EngineMessage, bubble=False):
    message: str | None
    """Why the database cannot be written, or None once it can again."""


@dataclass
class StopRequested(EngineMessage, bubble=False):
    """This console sent SIGTERM (or SIGKILL) to these runs; they show "stopping" until
    their RunFinished arrives. The console's own message, not an engine event."""

    job_id: int
    run_ids: tuple[int, ...]


_MIRRORS: dict[str, type[EngineMessage]] = {
    mirror.__name__: mirror for mirror in (RunStarted, RunProgress, RunOutput, RunFinished,
                                           FireAccounted, JobsChanged, EngineTrouble)}


def from_event(event: events.Event) -> EngineMessage | None:
    """The message mirroring an engine event (None for an event the console ignores):
    the one with the same class name and fields."""
    mirror = _MIRRORS.get(type(event).__name__)
    if mirror is None:
        return None
    return mirror(**{f.name: getattr(event, f.name) for f in dataclasses.fields(event)})
