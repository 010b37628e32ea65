"""Screens of the console: one per file."""
