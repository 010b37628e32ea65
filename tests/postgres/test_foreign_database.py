"""A PostgreSQL database of another program, even one with tables named job and run, is
refused and gets none of our tables."""

from __future__ import annotations

import psycopg

from tests.helpers import assert_refused, cli


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return sorted(row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))


def test_another_programs_database_is_refused_and_gets_no_tables(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE job (id serial PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE run (id serial PRIMARY KEY)")
    before = _tables(pg_url)
    assert_refused(cli(pg_url, "add", "x", "--manual", "--command", "true"),
                   "another program", "left untouched")
    assert _tables(pg_url) == before == ["job", "run"]


def test_a_reader_gets_no_tables_in_an_empty_database(pg_url):
    """A read-only command on an empty PostgreSQL database says there is no database of
    ours and creates none of our tables; a writer does create them."""
    for args in (("list",), ("db", "status"), ("show", "x")):
        assert_refused(cli(pg_url, *args), "no database at", "nothing was created")
    assert _tables(pg_url) == []
    assert cli(pg_url, "add", "x", "--manual", "--command", "true").returncode == 0
    assert "job" in _tables(pg_url)
