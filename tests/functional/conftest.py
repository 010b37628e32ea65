"""Fixtures shared by the console tests."""

from __future__ import annotations

import pytest

from tui_scheduler.store.db import open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, db_path):
    """(store, --db value) for each database kind."""
    if request.param == "sqlite":
        store = open_store(db_path)
        yield store, db_path
    else:
        url = request.getfixturevalue("pg_url")
        store = open_store(url)
        yield store, url
    store.close()
