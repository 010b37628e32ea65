"""Job queries: create, edit, find, list, delete. Every edit bumps the change counter
that a running engine watches to reload definitions made by another process."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tui_scheduler.core.field_edits import PartEdits, apply_part_edits
from tui_scheduler.core.jobspec import DEFAULTS, JobSpecError, validate_job_fields
from tui_scheduler.core.policies import as_row_id
from tui_scheduler.core.secrets import MASK, restore_masked, secret_values
from tui_scheduler.store import notify
from tui_scheduler.store.db import Store
from tui_scheduler.store.models import Job


class JobNotFound(LookupError):
    def __init__(self, ref: str | int):
        super().__init__(f"no job named {ref!r}; `tui-scheduler list` shows the jobs")


def utcnow() -> datetime:
    return datetime.now(UTC)


def bump_change_counter(session: Session) -> None:
    # A textual statement: SQLModel's ``exec`` types only select/update constructs.
    session.connection().execute(text(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR) "
        "WHERE key = 'change_counter'"))
    if session.get_bind().dialect.name == "postgresql":
        # Engines and consoles LISTENing hear of the edit when it commits, not on a poll.
        notify.notify(session.connection(), [notify.META])


def read_change_counter(store: Store) -> int:
    with store.engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key='change_counter'")).scalar()
    return int(value or 0)


def job_fields(job: Job) -> dict[str, Any]:
    """A job row as the plain field mapping that validate_job_fields accepts."""
    fields: dict[str, Any] = {"name": job.name}
    for key in DEFAULTS:
        fields[key] = getattr(job, key)
    fields["params"] = json.loads(job.params or "{}")
    fields["env"] = json.loads(job.env or "{}")
    fields["secrets"] = json.loads(job.secrets or "[]")
    fields["tags"] = [t for t in job.tags.split(",") if t]
    return fields


def keep_stored_secrets(values: dict[str, Any],
                       stored: dict[str, Any] | None) -> dict[str, Any]:
    """Where ``values`` hands back the mask for a secret env/param (an edited export, a
    form that showed it masked), keep the stored value; refuse a mask with nothing stored
    behind it rather than store the placeholder as the secret."""
    stored = stored or {}
    marked = {*(values.get("secrets") or ()), *(stored.get("secrets") or ())}
    result = dict(values)
    for field, what in (("env", "environment variable"), ("params", "parameter")):
        if not isinstance(values.get(field), dict):
            continue
        result[field], missing = restore_masked(values[field], stored.get(field) or {}, marked)
        if missing:
            raise JobSpecError({field: f"{what} {missing[0]} is the masked placeholder "
                                f"{MASK!r} with no stored value to keep; give the real value "
                                "(`export --include-secrets` writes them)"})
    return result


def job_secret_values(job: Job | None,
                      run_params: str | dict[str, Any] | None = None) -> list[str]:
    """The secret values a run of ``job`` knows (its env, its params with the run's own
    on top, as the engine merges them), for masking them in the run's output."""
    if job is None:
        return []
    own: dict[str, Any] = (json.loads(run_params or "{}") if isinstance(run_params, str)
                           else run_params or {})
    params = {**json.loads(job.params or "{}"), **own}
    return secret_values(json.loads(job.env or "{}"), params, json.loads(job.secrets or "[]"))


def column_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validated job fields as the job table stores them (JSON text, comma lists)."""
    columns = dict(values)
    for key in ("params", "env", "secrets"):
        if key in columns:
            columns[key] = json.dumps(columns[key], sort_keys=True)
    if "tags" in columns:
        columns["tags"] = ",".join(columns["tags"])
    return columns


def _apply(job: Job, values: dict[str, Any]) -> None:
    for key, value in column_values(values).items():
        setattr(job, key, value)


def _find(session: Session, ref: str | int) -> Job | None:
    query = select(Job).where(col(Job.deleted_at).is_(None))
    job_id = as_row_id(ref)
    if job_id is not None:
        by_id = session.exec(query.where(Job.id == job_id)).first()
        if by_id is not None:
            return by_id
    return session.exec(query.where(Job.name == str(ref))).first()


def get_job(store: Store, ref: str | int) -> Job:
    with store.session() as session:
        job = _find(session, ref)
    if job is None:
        raise JobNotFound(ref)
    return job


def get_job_by_id(store: Store, job_id: int) -> Job | None:
    """Any job by id, deleted ones included (their runs still point at them)."""
    with store.session() as session:
        return session.get(Job, job_id)


def list_jobs(store: Store, *, include_deleted: bool = False) -> list[Job]:
    with store.session() as session:
        query = select(Job).order_by(Job.name)
        if not include_deleted:
            query = query.where(col(Job.deleted_at).is_(None))
        return list(session.exec(query).all())


def create_job(store: Store, raw: dict[str, Any]) -> Job:
    values = keep_stored_secrets(validate_job_fields(raw), None)
    now = utcnow()
    job = Job(name=values["name"], created_at=now, updated_at=now)
    _apply(job, values)
    with store.session() as session:
        if _find(session, values["name"]) is not None:
            raise JobSpecError({"name": f"a job named {values['name']!r} already exists; "
                                "use `edit` to change it or choose another name"})
        session.add(job)
        bump_change_counter(session)
        try:
            session.commit()
        except IntegrityError:
            raise JobSpecError({"name": f"a job named {values['name']!r} already exists"}) \
                from None
        session.refresh(job)
    return job


def _edit(store: Store, ref: str | int, change: Callable[[Session, Job], None]) -> Job:
    """Find a live job, apply ``change``, stamp it, bump the change counter, commit."""
    with store.session() as session:
        job = _find(session, ref)
        if job is None:
            raise JobNotFound(ref)
        change(session, job)
        job.updated_at = utcnow()
        session.add(job)
        bump_change_counter(session)
        session.commit()
        session.refresh(job)
    return job


def update_job(store: Store, ref: str | int, changes: dict[str, Any],
               edits: PartEdits | None = None) -> Job:
    """Apply changes to a job after validating the whole result; nothing is written on error.

    ``changes`` replaces whole fields; ``edits`` sets or removes single env/params keys,
    tags and secret marks, applied here to the values read in this same transaction.
    """
    def change(session: Session, job: Job) -> None:
        stored = job_fields(job)
        merged = {**stored, **changes, **apply_part_edits(stored, edits or PartEdits())}
        values = keep_stored_secrets(validate_job_fields(merged), stored)
        if values["name"] != job.name and _find(session, values["name"]) is not None:
            raise JobSpecError({"name": f"a job named {values['name']!r} already exists"})
        schedule_changed = values["schedule"] != job.schedule or \
            values["timezone"] != job.timezone
        _apply(job, values)
        if schedule_changed:
            # A new schedule starts counting from now; old fires are not "missed".
            job.last_fire_at = utcnow()
    return _edit(store, ref, change)


def set_job_flags(store: Store, ref: str | int, **flags: bool) -> Job:
    """Pause/resume/enable/disable without re-validating the rest of the job."""
    unknown = set(flags) - {"paused", "enabled"}
    if unknown:
        raise ValueError(f"not a job flag: {sorted(unknown)}")

    def change(_session: Session, job: Job) -> None:
        for key, value in flags.items():
            setattr(job, key, value)
        if flags.get("enabled") is True or flags.get("paused") is False:
            # Fires while paused or disabled are not owed when it comes back.
            job.last_fire_at = utcnow()
    return _edit(store, ref, change)


def delete_job(store: Store, ref: str | int) -> Job:
    """Soft delete: the job stops firing, its runs stay readable."""
    def change(_session: Session, job: Job) -> None:
        job.deleted_at = utcnow()
        job.enabled = False
    return _edit(store, ref, change)


def save_job_state(store: Store, job_id: int, state: dict[str, Any]) -> None:
    with store.session() as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.state = json.dumps(state, sort_keys=True, default=str)
            session.add(job)
            session.commit()
