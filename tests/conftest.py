"""Shared fixtures: a real SQLite file per test and engines that are always shut down."""

from __future__ import annotations

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
