"""Alembic revisions of the database schema, shipped with the package (run by migrate.py).

To change the schema: change models.py, add ``versions/000N_what.py`` (copy the newest,
set ``revision = "000N"`` and ``down_revision`` to the one before; ``op.batch_alter_table``
for anything SQLite cannot ALTER in place) and set ``models.SCHEMA_VERSION = N``.
tests/store/test_migrations.py checks that the head is N and that the upgraded schema
equals the models on SQLite and PostgreSQL.
"""
