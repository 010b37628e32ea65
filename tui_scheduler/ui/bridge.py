"""The one place engine events cross into the UI: a bus listener that posts messages.

The engine calls listeners on its own threads; ``post_message`` is thread-safe, so the
listener only converts and posts — it never touches a widget and never blocks the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from tui_scheduler.engine.events import Event, EventBus
from tui_scheduler.ui.messages import from_event


class EngineBridge:
    """Subscribes to an engine's bus for as long as the app runs."""

    def __init__(self, app: App, bus: EventBus) -> None:
        self.app = app
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        message = from_event(event)
        if message is None:
            return
        try:
            self.app.post_message(message)
        except RuntimeError:
            # The app's loop closed between our check and the post (shutdown): the event
            # is already in the database, so dropping the live copy loses nothing.
            pass

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
