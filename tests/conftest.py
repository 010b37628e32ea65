"""Shared fixtures: a real SQLite file per test and engines that are always shut down."""

from __future__ import annotations

import os
import uuid

import pytest

from tui_scheduler.store.db import open_store


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "state" / "scheduler.db")


@pytest.fixture
def store(db_path):
    store = open_store(db_path)
    yield store
    store.close()


@pytest.fixture
def make_engine(store):
    """Start engines with fast ticks; every one is shut down at the end of the test."""
    from tui_scheduler.engine import Engine

    engines = []

    def factory(**kwargs):
        kwargs.setdefault("heartbeat_s", 0.5)
        kwargs.setdefault("tick_s", 0.05)
        kwargs.setdefault("poll_s", 0.1)
        engine = Engine(kwargs.pop("store", store), **kwargs)
        engine.start()
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.shutdown(timeout=10)


# PostgreSQL: a fresh database per test on the server named by TUI_SCHEDULER_TEST_PG
# (an admin URL; `.ci/run` starts a server and sets it).
ADMIN_URL = os.environ.get("TUI_SCHEDULER_TEST_PG", "")


@pytest.fixture
def pg_url():
    if not ADMIN_URL:
        if os.environ.get("CI"):
            pytest.fail("TUI_SCHEDULER_TEST_PG is not set: .ci/run must start PostgreSQL")
        pytest.skip("no PostgreSQL server: set TUI_SCHEDULER_TEST_PG=postgresql://...")
    import psycopg

    name = f"tui_test_{uuid.uuid4().hex[:12]}"
    admin = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_store(pg_url):
    from tui_scheduler.store.db import open_store

    store = open_store(pg_url)
    yield store
    store.close()
