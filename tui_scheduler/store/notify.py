"""Wake-ups over PostgreSQL LISTEN/NOTIFY: "something changed, look now".

Whoever writes sends a notification on the channel ``tui_scheduler`` in the same
transaction as its change (PostgreSQL delivers it on commit and never for a rollback).
Whoever watches keeps one connection of its own LISTENing and reads the database at once
when a notification comes. The payload says roughly what changed: the tables written,
comma-separated (``run``, ``run_output``, ``job``, ``control``...), ``request`` for a new
control request, ``meta`` for edited jobs, and ``*`` for "anything may have".

The database stays the source of truth. Notifications sent while a listener is away
(reconnecting) are lost, so every watcher keeps a slower poll as its fallback and reads
everything again after each reconnect. SQLite has no NOTIFY: its watchers only poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from tui_scheduler.store.db import Store

log = logging.getLogger(__name__)

CHANNEL = "tui_scheduler"
ANY = "*"
"""Anything may have changed (sent to a watcher after each (re)connect)."""
REQUEST = "request"
"""A new control request is waiting for an engine."""
META = "meta"
"""Job definitions changed (the change counter moved)."""
QUIET = frozenset({"engine_node", "engine_lock"})
"""Tables whose writes (heartbeats) nobody needs to hear about."""

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_MAX_PAYLOAD = 1000  # PostgreSQL allows 8000 bytes; a long list just means "anything"
_RETRY_MIN_S, _RETRY_MAX_S = 0.2, 5.0
_WAIT_S = 0.25  # how often the listening thread looks up to see whether to stop


def supported(store: Store) -> bool:
    return store.engine.dialect.name == "postgresql"


def notify(conn: Connection, kinds: Iterable[str]) -> None:
    """Queue a notification in ``conn``'s transaction (sent when it commits)."""
    payload = ",".join(sorted(set(kinds))) or ANY
    if len(payload) > _MAX_PAYLOAD:
        payload = ANY
    conn.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload})


def parse(payload: str) -> frozenset[str]:
    return frozenset(part for part in payload.split(",") if part) or frozenset({ANY})


def record_writes(conn: Connection, into: set[str]) -> None:
    """Add the table of every INSERT/UPDATE/DELETE run on ``conn`` to ``into`` (``*`` for
    a textual statement, which could write anything)."""

    def seen(_conn: Connection, clause: object, *_args: object) -> None:
        if isinstance(clause, UpdateBase):
            table = getattr(clause, "table", None)
            into.add(getattr(table, "name", None) or ANY)
        elif isinstance(clause, TextClause):
            into.add(ANY)

    event.listen(conn, "before_execute", seen)


def conninfo(store: Store) -> str:
    """A libpq connection string for the store's database."""
    return store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """A thread with a connection of its own LISTENing on the channel.

    ``on_wake(kinds)`` is called on that thread for every notification, and with
    ``{"*"}`` after each (re)connect, since whatever happened while it was away went
    unheard. It must be quick (set an event). A dropped connection is reopened with
    backoff; meanwhile ``connected`` is clear and watchers rely on their poll.
    """

    def __init__(self, store: Store, on_wake: Callable[[frozenset[str]], None], *,
                 name: str = "db-listener") -> None:
        self._conninfo = conninfo(store)
        self._on_wake = on_wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.connected = threading.Event()
        """Set while LISTENing (notifications are being heard)."""
        self.backend_pid: int | None = None
        """The server process of the listening connection (tests terminate it)."""
        self.connects = 0
        """How many times the connection was (re)opened."""

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        import psycopg

        delay = _RETRY_MIN_S
        while not self._stop.is_set():
            try:
                conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5,
                                       keepalives=1, keepalives_idle=10,
                                       keepalives_interval=5, keepalives_count=3)
            except Exception as exc:  # noqa: BLE001 - down server, bad network: retry
                log.debug("notification connection failed: %s", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                self.backend_pid = conn.info.backend_pid
                self.connects += 1
                self.connected.set()
                delay = _RETRY_MIN_S
                self._wake(frozenset({ANY}))
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=_WAIT_S):
                        if note.channel == CHANNEL:
                            self._wake(parse(note.payload))
            except Exception as exc:  # noqa: BLE001 - terminated, server restart: reopen
                if not self._stop.is_set():
                    log.info("lost the notification connection (%s); polling until it is back",
                             str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            finally:
                self.connected.clear()
                try:
                    conn.close()
                except Exception:
                    log.debug("closing the notification connection failed", exc_info=True)
            self._stop.wait(delay)

    def _wake(self, kinds: frozenset[str]) -> None:
        try:
            self._on_wake(kinds)
        except Exception:
            log.exception("notification handler failed")
