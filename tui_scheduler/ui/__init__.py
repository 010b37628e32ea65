"""The Textual console. Nothing outside ``ui`` imports from here."""
