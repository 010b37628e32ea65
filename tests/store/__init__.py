"""Store tests: migrations and backups on real database files."""
