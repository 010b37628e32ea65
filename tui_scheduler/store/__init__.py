"""Persistence: SQLModel tables, database setup and queries. The database is the source of truth."""
