"""Serving consoles' requests the moment they arrive, on PostgreSQL.

A console or the CLI asks an engine to act by inserting a ``control`` row, and an
attached console's job edit bumps the change counter; the engine's ticker looks for both
every ``poll_s`` (half a second). On PostgreSQL both come with a NOTIFY (``request``,
``meta``): this listener hears it and has the engine look at once, on a thread of its own,
so a run started from an attached console starts within milliseconds. The ticker's poll
stays as the fallback; on SQLite there is only the poll.

Serving from this thread as well as the ticker's is safe on a shared database: each
request is claimed by one UPDATE (``engine/requests.py``), so it is served once whichever
thread (or engine) gets there first, and a reload takes the engine's mutex.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from tui_scheduler.store import notify
from tui_scheduler.store.db import Store

log = logging.getLogger(__name__)
_KINDS = frozenset({notify.REQUEST, notify.META, notify.ANY})


class Engine(Protocol):
    """What the waker needs of the engine (``scheduler.Engine`` fits)."""

    store: Store
    running: bool
    lost_lock: bool

    def poll(self) -> None:
        """Reload jobs edited elsewhere, then serve waiting requests."""


class ControlWaker:
    """Has ``engine`` serve requests and reload edits as soon as a NOTIFY says so."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._due = threading.Event()
        self._stop = threading.Event()
        self.listener = notify.Listener(engine.store, self._on_notify, name="engine-listen")
        self._thread = threading.Thread(target=self._serve_loop, name="engine-wakeup",
                                        daemon=True)
        self.served = 0
        """How many times a notification had the engine look (tests, benchmarks)."""

    def start(self) -> ControlWaker:
        self._thread.start()
        self.listener.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._due.set()
        self.listener.stop(timeout)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _on_notify(self, kinds: frozenset[str]) -> None:
        if kinds & _KINDS:
            self._due.set()

    def _serve_loop(self) -> None:
        engine = self.engine
        try:
            while not self._stop.is_set() and engine.running:
                if not self._due.wait(0.5):
                    continue
                self._due.clear()
                if self._stop.is_set() or not engine.running or engine.lost_lock:
                    continue
                try:
                    engine.poll()
                    self.served += 1
                except Exception:  # the ticker's poll is still there
                    log.exception("serving a notified request failed")
        finally:
            # The engine shut down (or we were stopped): stop listening too.
            self.listener.stop(0)


def serve_controls_on_notify(engine: Engine) -> ControlWaker | None:
    """Start a waker for a running engine on PostgreSQL (None on SQLite). It stops by
    itself when the engine shuts down."""
    if not notify.supported(engine.store):
        return None
    return ControlWaker(engine).start()
