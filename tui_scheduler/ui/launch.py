"""``tui-scheduler`` with no subcommand: open the database, start the engine in this
process, run the console, and shut the engine down on the way out.

When another live engine (a daemon) holds the database, the console attaches to it:
same screens and keys, actions carried out by that engine, and quitting leaves its jobs
running. ``--demo`` works on a fresh temporary database full of sample jobs.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path


def launch_console(args) -> int:
    from tui_scheduler.engine import Engine, EngineLockedError
    from tui_scheduler.store.db import StoreError, open_store
    from tui_scheduler.store.paths import resolve_db_path

    demo_dir: Path | None = None
    if getattr(args, "demo", False):
        demo_dir = Path(tempfile.mkdtemp(prefix="tui-scheduler-demo-"))
        location = str(demo_dir / "demo.db")
    else:
        location = resolve_db_path(args.db)
    try:
        try:
            store = open_store(location)
        except StoreError as exc:
            print(f"tui-scheduler: {exc}", file=sys.stderr)
            return 1
        demo_ids: list[int] = []
        if demo_dir is not None:
            from tui_scheduler.ui.demo import populate

            demo_ids = populate(store)
        _quiet_logging()
        engine = _start_or_attach(store, Engine, EngineLockedError)
        try:
            if demo_ids:
                from tui_scheduler.ui.demo import kick

                kick(engine, demo_ids)
            from tui_scheduler.ui.app import SchedulerApp

            app = SchedulerApp(store, engine)
            app.run()
        finally:
            active = [] if getattr(engine, "attached", False) else engine.running_runs()
            if active:
                # The screen is gone; say why the prompt has not come back yet.
                print(f"tui-scheduler: stopping {len(active)} run(s)…", file=sys.stderr)
            engine.shutdown(stop_runs=True)
            store.close()
        return app.return_code or 0
    finally:
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)


def _start_or_attach(store, engine_class, locked_error):
    """Our own engine, or a stand-in attached to the live one(s) serving the database
    (on PostgreSQL any live engine; on SQLite the one holding the lock)."""
    from tui_scheduler.engine.attached import AttachedEngine
    from tui_scheduler.engine.lock import live_holder

    if not store.is_sqlite:
        holder = live_holder(store)
        if holder is not None:
            engine = AttachedEngine(store, holder)
            engine.start()
            return engine
    engine = engine_class(store)
    try:
        engine.start()
    except locked_error as exc:
        engine = AttachedEngine(store, exc.holder)
        engine.start()
    return engine


def _quiet_logging() -> None:
    """Engine log records must not print over the full-screen console: send them to
    Textual's devtools log (``textual console``) instead of stderr."""
    from textual.logging import TextualHandler

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(TextualHandler())
        root.setLevel(logging.WARNING)
