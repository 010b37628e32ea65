"""The keys p and x say what they will do to the selected job (Pause or Resume,
Disable or Enable), with both switches shown when both are set."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from tests.functional.console_support import (
    add_job,
    cell,
    console,
    job_row,
    record_notifications,
    until,
)
from tui_scheduler.store.jobs import set_job_flags
from tui_scheduler.ui.screens.job_detail import JobDetailScreen


def footer(app) -> dict[str, str]:
    """Key -> label, as the footer of the current screen shows them."""
    return {key.key: key.description for key in app.screen.query(FooterKey)}


def title(screen: JobDetailScreen) -> str:
    return str(screen.query_one("#detail-title").render())


async def open_detail(app, pilot, job_id: int) -> JobDetailScreen:
    app.home.table.select_job(job_id)
    await pilot.press("enter")
    return await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and
                       app.screen.job is not None and app.screen)


async def test_p_and_x_labels_follow_the_selected_job(store, make_engine):
    plain = add_job(store, "aaa-plain", "true", "0 2 * * *")
    held = add_job(store, "bbb-held", "true", "0 3 * * *")
    set_job_flags(store, held.id, enabled=False, paused=True)
    engine = make_engine()
    async with console(store, engine) as (app, pilot):
        toasts = record_notifications(app)
        app.home.table.select_job(plain.id)
        await until(pilot, lambda: footer(app).get("p") == "Pause")
        assert cell(app, held.id, "state") == "○‖ disabled"  # both switches, shown
        app.home.table.select_job(held.id)
        await until(pilot, lambda: footer(app).get("p") == "Resume", what=str(footer(app)))
        detail = await open_detail(app, pilot, held.id)
        await until(pilot, lambda: "○ disabled, ‖ paused" in title(detail), what=title(detail))
        await until(pilot, lambda: footer(app).get("p") == "Resume" and
                    footer(app).get("x") == "Enable", what=str(footer(app)))
        await pilot.press("p")
        await until(pilot, lambda: not job_row(store, held.id).paused)
        await until(pilot, lambda: footer(app).get("p") == "Pause", what=str(footer(app)))
        assert footer(app).get("x") == "Enable"
        await until(pilot, lambda: "○ disabled" in title(detail) and "paused" not in
                    title(detail), what=title(detail))
        assert any("resumed. It is also disabled: x enables it." in t for t in toasts), toasts
        await pilot.press("x")
        await until(pilot, lambda: job_row(store, held.id).enabled)
        await until(pilot, lambda: footer(app).get("x") == "Disable", what=str(footer(app)))
        await until(pilot, lambda: "· idle" in title(detail), what=title(detail))
        await pilot.press("p")
        await until(pilot, lambda: footer(app).get("p") == "Resume", what=str(footer(app)))
        await pilot.press("escape")
        await until(pilot, lambda: cell(app, held.id, "state") == "‖ paused")
        assert footer(app).get("p") == "Resume"
