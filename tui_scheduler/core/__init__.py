"""Pure domain: schedules, policies, parsing. No I/O, no Textual."""
