"""PostgreSQL fixtures live in tests/conftest.py (the console tests use them too)."""
