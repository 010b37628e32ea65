"""The layers at run time: importing any module of core, store, engine or cli loads no
library its layer must not use (Textual above all: the daemon and every headless command
run without it). `lint-imports` checks the same rules statically (pyproject.toml); this
catches what only shows when the code runs, such as an import made by a dependency.

Each module is imported alone, in a fresh interpreter, so one module's imports cannot
hide another's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tui_scheduler"

# What each layer must never have loaded once it is imported.
FORBIDDEN = {
    "core": ("textual", "rich", "sqlalchemy", "sqlmodel", "alembic", "apscheduler"),
    "store": ("textual", "apscheduler"),
    "engine": ("textual",),
    "cli": ("textual",),
}

# Alembic runs its env.py itself, inside a migration context; imported alone it fails on
# purpose (lint-imports still checks its imports).
NOT_IMPORTABLE_ALONE = {"tui_scheduler.store.migrations.env"}


def layer_modules(layer: str) -> list[str]:
    """Every module of a layer, found on disk (so a new file is checked without a list)."""
    modules = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name not in NOT_IMPORTABLE_ALONE:
            modules.append(name)
    return modules


CASES = [(layer, module) for layer in FORBIDDEN for module in layer_modules(layer)]

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps([name for name in sys.argv[2:] if name in sys.modules]))
"""


def test_every_layer_has_modules_to_check():
    """Guards the parametrization below against finding nothing (a moved package)."""
    found = {layer for layer, _ in CASES}
    assert found == set(FORBIDDEN)
    assert len(CASES) > 50


@pytest.mark.parametrize(("layer", "module"), CASES, ids=[module for _, module in CASES])
def test_module_loads_nothing_its_layer_forbids(layer: str, module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, module, *FORBIDDEN[layer]],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert loaded == [], f"importing {module} loaded {', '.join(loaded)}"
