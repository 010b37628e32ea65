"""One file per schema revision, numbered 0001, 0002, ... (the number is the schema version)."""
