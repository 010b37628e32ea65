"""Alembic revisions of the database schema, shipped with the package (see env.py)."""
