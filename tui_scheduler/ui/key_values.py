"""Parameters as text: KEY=VALUE lines, the one format of ``R``, the CLI (``--param``),
the job editor and the detail screen.

A parameter stored as a number, a list or a flag (``import`` of TOML, ``--json`` tools) is
written as its JSON (``retries=3``, ``hosts=["a", "b"]``); reading the text back keeps
the stored value where its line was left as shown, so saving an unrelated edit does not
turn ``3`` into ``"3"``. A value typed anew is a string, as ``--param`` gives.
"""

from __future__ import annotations

import json
from typing import Any

from tui_scheduler.core.jobspec import param_name_problem


def parse_params(text: str) -> tuple[dict[str, str], list[str]]:
    """KEY=VALUE lines (blank lines and # comments skipped) -> (params, problems)."""
    params: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"line {number}: expected KEY=VALUE")
        elif (why := param_name_problem(key)) is not None:
            problems.append(f"line {number}: {why}")
        else:
            params[key] = value.strip()
    return params, problems


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def params_text(defaults: dict[str, Any]) -> str:
    return "\n".join(f"{key}={value_text(value)}" for key, value in defaults.items())


def keep_types(parsed: dict[str, str], stored: dict[str, Any]) -> dict[str, Any]:
    """``parsed`` with each stored non-string value kept where its text is unchanged."""
    return {key: stored[key] if key in stored and not isinstance(stored[key], str)
            and value_text(stored[key]) == value else value
            for key, value in parsed.items()}
