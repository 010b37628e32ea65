"""Opening the database and starting (or attaching to) the engine, off the UI thread.

The console paints its first frame before any of this: importing the store and engine
stack (SQLModel, SQLAlchemy, APScheduler) and running recovery take about a second,
longer than start-up may take to show something. ``Boot`` does that work on a thread of
its own and tells the app when it is done; the launcher closes it after the app exits
(waiting for a start-up still under way, then shutting the engine down).

Nothing here imports Textual.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_scheduler.engine import Engine
    from tui_scheduler.engine.attached import AttachedEngine
    from tui_scheduler.store.db import Store


class Boot:
    """Opens ``location`` and starts an engine on it, or attaches to the live one."""

    def __init__(self, location: str, *, demo: bool = False) -> None:
        self.location = location
        """The database path or URL."""
        self.demo = demo
        """Fill the (fresh) database with sample jobs and start a few of them."""
        self.store: Store | None = None
        self.engine: Engine | AttachedEngine | None = None
        self.error: BaseException | None = None
        """Why start-up failed (``StoreError`` for a database we cannot use)."""
        self.done = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Lock()
        self._stopped = False

    def start(self, finished: Callable[[], Any]) -> None:
        """Start up on a thread; ``finished()`` is called from it, success or not."""
        self._thread = threading.Thread(target=self._run, args=(finished,),
                                        name="console-boot", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Start up on this thread (tests; the same steps as ``start``)."""
        self._run(lambda: None)

    def _run(self, finished: Callable[[], Any]) -> None:
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001 - the launcher reports it after the app
            self.error = exc
        finally:
            self.done.set()
            finished()

    def _open(self) -> None:
        from tui_scheduler.store.db import open_store

        self.store = store = open_store(self.location)
        demo_ids: list[int] = []
        if self.demo:
            from tui_scheduler.ui.demo import populate

            demo_ids = populate(store)
        self.engine = engine = start_or_attach(store)
        if demo_ids:
            from tui_scheduler.ui.demo import kick

            kick(engine, demo_ids)

    def stop_engine(self) -> None:
        """Wait for a start-up under way, then stop the engine (its runs get SIGTERM and
        are recorded) or detach from the daemon. Once, from any thread: a second caller
        waits for the first to finish."""
        with self._stopping:
            if self._thread is not None:
                self._thread.join()
            engine = self.engine
            if engine is None or self._stopped:
                return
            self._stopped = True
            active = [] if engine.attached else engine.running_runs()
            if active:
                # The screen is gone; say why the prompt has not come back yet.
                try:
                    print(f"tui-scheduler: stopping {len(active)} run(s)…", file=sys.stderr)
                except OSError:
                    pass  # the terminal hung up: the runs still get stopped and recorded
            engine.shutdown(stop_runs=True)

    def close(self) -> None:
        """Stop the engine (``stop_engine``) and close the database."""
        self.stop_engine()
        if self.store is not None:
            self.store.close()


def start_or_attach(store: Store) -> Engine | AttachedEngine:
    """Our own engine, or a stand-in attached to the live one(s) serving the database
    (on PostgreSQL any live engine; on SQLite the one holding the lock)."""
    from tui_scheduler.engine import Engine, EngineLockedError
    from tui_scheduler.engine.attached import AttachedEngine
    from tui_scheduler.engine.lock import live_holder

    if not store.is_sqlite:
        holder = live_holder(store)
        if holder is not None:
            attached = AttachedEngine(store, holder)
            attached.start()
            return attached
    engine = Engine(store)
    try:
        engine.start()
    except EngineLockedError as exc:
        attached = AttachedEngine(store, exc.holder)
        attached.start()
        return attached
    return engine
