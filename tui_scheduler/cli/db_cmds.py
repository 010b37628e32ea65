"""``tui-scheduler db status|upgrade|backup``: the database's schema and copies of it."""

from __future__ import annotations

from pathlib import Path

from tui_scheduler.cli.common import CliError, open_db
from tui_scheduler.store.paths import resolve_db_path


def cmd_db(args) -> int:
    return {"status": _status, "upgrade": _upgrade, "backup": _backup}[args.db_action](args)


def _status(args) -> int:
    from tui_scheduler.store import migrate

    store = open_db(args, on_old="keep")
    try:
        with store.engine.connect() as conn:
            state = migrate.read_state(conn)
    finally:
        store.close()
    print(f"database  {store.location}")
    print(f"revision  {state.current or 'none'}")
    print(f"head      {migrate.HEAD}")
    print("upgrade   " + ("pending: run `tui-scheduler db upgrade`" if state.pending
                          else "none needed"))
    return 0


def _upgrade(args) -> int:
    from tui_scheduler.store import migrate

    store = open_db(args, on_old="keep")
    try:
        before, after = migrate.upgrade(store.engine, store.location)
    except migrate.SchemaError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()
    if before == after:
        print(f"{store.location} is up to date (revision {after})")
    else:
        print(f"upgraded {store.location} from revision {before or 'none'} to {after}")
    return 0


def _backup(args) -> int:
    from tui_scheduler.store.backup import BackupError, backup_sqlite

    if "://" in resolve_db_path(args.db):
        raise CliError("db backup copies SQLite files; back up PostgreSQL with pg_dump", 2)
    store = open_db(args, on_old="keep")
    try:
        backup_sqlite(store, Path(args.file).expanduser(), force=args.force)
    except BackupError as exc:
        raise CliError(str(exc), 2) from None
    finally:
        store.close()
    print(f"backed up {store.location} to {args.file}")
    return 0
