"""Which environment variables and parameters are secret, and hiding their values.

A name is secret when it looks like one (``is_secret_name``) or when the job marks it
(its ``secrets`` list; a mark matches a name in any case: env names are case-sensitive,
but a mark ``CUSTOM2`` on a job whose variable is ``custom2`` is a slip, and masking more
is the safe direction). Displays show ``MASK`` in place of a secret value; ``export``
writes ``MASK`` too, and an import or an edit that hands ``MASK`` back keeps the value
already stored (``restore_masked``). ``mask_values`` hides a job's known secret values
inside text the job printed.

Name rules (case-insensitive; camelCase counts as separate words, ``dbPass`` = ``DB_PASS``):

- anywhere in the name: TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, PASSCODE, PWD,
  CREDENTIAL, PRIVATE;
- PASS as a whole word (``DB_PASS``, ``PASS``, ``SMTP_PASS_2``), so ``PASSTHROUGH``,
  ``BYPASS`` and ``COMPASS`` are not secret (``DBPASS`` is not either: mark it);
- KEY or KEYS ending a word (``API_KEY``, ``APIKEY``, ``apiKey``, ``SSH_KEYS``), so
  ``KEYBOARD_LAYOUT`` and ``KEYCLOAK_URL`` are not secret (``MONKEY`` is: harmless).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

MASK = "********"
MIN_SECRET_LEN = 4
"""Shorter values are not searched for in output: masking every "1" or "yes" a job
prints would garble its log and hide nothing worth hiding."""

SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PASSCODE|PWD|CREDENTIAL|PRIVATE"
    r"|(?<![A-Z])PASS(?![A-Z])|KEYS?(?![A-Z])")
"""Applied to the name in upper case with camelCase humps split by ``_`` (see above)."""

_HUMP = re.compile(r"([a-z0-9])([A-Z])")


def is_secret_name(name: str, marked: Iterable[str] = ()) -> bool:
    """True when ``name`` looks like a secret or is one of the job's marked names, in any
    case."""
    return _is_secret(name, _folded(marked))


def _folded(marked: Iterable[str]) -> frozenset[str]:
    return frozenset(str(mark).casefold() for mark in marked)


def _is_secret(name: str, folded: frozenset[str]) -> bool:
    if str(name).casefold() in folded:
        return True
    return bool(SECRET_NAME.search(_HUMP.sub(r"\1_\2", str(name)).upper()))


def mask_mapping(values: dict[str, Any], marked: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of env or params for display: secret values replaced by ``MASK``."""
    folded = _folded(marked)
    return {k: (MASK if _is_secret(k, folded) else v) for k, v in values.items()}


def mask_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Job fields (as ``validate_job_fields`` takes them) with env and params masked."""
    marked = fields.get("secrets") or ()
    return {**fields, "env": mask_mapping(fields.get("env") or {}, marked),
            "params": mask_mapping(fields.get("params") or {}, marked)}


def restore_masked(new: dict[str, Any], stored: dict[str, Any],
                   marked: Iterable[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """Put stored values back where ``new`` holds ``MASK`` for a secret name.

    Returns the mapping and the names whose ``MASK`` has no stored value to stand for
    (the caller refuses those: storing the placeholder would lose the secret).
    """
    folded = _folded(marked)
    result = dict(new)
    missing: list[str] = []
    for name, value in new.items():
        if value == MASK and _is_secret(name, folded):
            if name in stored:
                result[name] = stored[name]
            else:
                missing.append(name)
    return result, missing


def secret_values(env: dict[str, Any], params: dict[str, Any],
                  marked: Iterable[str] = ()) -> list[str]:
    """The job's secret values worth searching for in its output, longest first (so a
    secret that contains another is hidden whole)."""
    folded = _folded(marked)
    found: set[str] = set()
    for mapping in (env, params):
        for name, value in mapping.items():
            if not _is_secret(name, folded) or value is None:
                continue
            # As the job sees it: parameters that are not strings arrive as JSON.
            text = value if isinstance(value, str) else json.dumps(value)
            # Output is shown line by line: each line of a multi-line secret (a PEM key)
            # is searched for on its own too.
            for piece in (text, *text.splitlines()):
                if len(piece.strip()) >= MIN_SECRET_LEN and piece != MASK:
                    found.add(piece)
    return sorted(found, key=lambda text: (-len(text), text))


def mask_values(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each value replaced by ``MASK``."""
    values = tuple(sorted({v for v in values if v}, key=lambda v: (-len(v), v)))
    if not values or not text:
        return text
    return _pattern(values).sub(MASK, text)


@lru_cache(maxsize=32)
def _pattern(values: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first: the alternation takes the first branch that matches.
    return re.compile("|".join(re.escape(v) for v in values))
