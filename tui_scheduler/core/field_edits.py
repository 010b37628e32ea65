"""Edits that change part of a job's env, params, tags or secret marks and keep the rest.

``edit --env K=V`` sets one variable, as ``kubectl set env`` and ``systemctl
set-environment`` do: it does not replace the job's whole env. ``PartEdits`` says what
to set, add and remove; ``apply_part_edits`` applies it to the stored values (the store
does so inside the transaction that writes them, so two edits at once keep each other's
keys). Removing what the job does not have is refused: a typo must not pass as done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_scheduler.core.jobspec import JobSpecError

MAPS = ("env", "params")
LISTS = ("tags", "secrets")
WHAT = {"env": "environment variable", "params": "parameter", "tags": "tag",
        "secrets": "secret mark"}
SHOWN_NAMES = 10  # names listed in a refusal; a job may have 256


@dataclass(frozen=True)
class PartEdits:
    """Keyed changes: ``put`` sets env/params keys (a dict) or adds tags/secrets (a list);
    ``drop`` removes keys or items of any of the four fields."""

    put: dict[str, Any] = field(default_factory=dict)
    drop: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.put.values()) or any(self.drop.values())


def _key(name: str, field_name: str) -> str:
    # Marks match names in any case (core.secrets), so removing one does too.
    return name.casefold() if field_name == "secrets" else name


def _names(current: Any) -> str:
    names = sorted(str(name) for name in current)
    if not names:
        return "it has none"
    more = f", ... ({len(names)} in all)" if len(names) > SHOWN_NAMES else ""
    return "it has " + ", ".join(names[:SHOWN_NAMES]) + more


def _drop_problem(stored: dict[str, Any], field_name: str, names: list[str]) -> str | None:
    current = stored.get(field_name) or ()
    have = {_key(str(name), field_name) for name in current}
    seen: set[str] = set()
    for name in names:
        key = _key(name, field_name)
        if key not in have or key in seen:
            return f"the job has no {WHAT[field_name]} {name!r} to remove ({_names(current)})"
        seen.add(key)
    return None


def apply_part_edits(stored: dict[str, Any], edits: PartEdits) -> dict[str, Any]:
    """The fields ``edits`` changes, as ``stored`` (``job_fields``) with them applied;
    JobSpecError when one removes what the job lacks or both sets and removes a key."""
    problems: dict[str, str] = {}
    for name, names in edits.drop.items():
        why = _drop_problem(stored, name, names)
        put = {_key(str(item), name) for item in edits.put.get(name) or ()}
        both = [item for item in names if _key(item, name) in put]
        if why:
            problems[name] = why
        elif both:
            problems[name] = (f"{both[0]!r} is both set and removed in one edit; "
                              "give one of the two")
    if problems:
        raise JobSpecError(problems)
    changed: dict[str, Any] = {}
    for name in {*edits.put, *edits.drop}:
        gone = {_key(item, name) for item in edits.drop.get(name, ())}
        if name in MAPS:
            kept = {k: v for k, v in (stored.get(name) or {}).items() if k not in gone}
            changed[name] = {**kept, **(edits.put.get(name) or {})}
        else:
            kept_items = [item for item in stored.get(name) or ()
                          if _key(str(item), name) not in gone]
            changed[name] = [*kept_items, *(edits.put.get(name) or ())]
    return changed
