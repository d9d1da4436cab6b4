"""Every dashboard action changes the database exactly as its ``djq`` command does, and none runs read-only.

Each test seeds a dataset, drives the action with keys, and records the
database. Then it seeds an identical dataset and runs the command the
confirm modal (or the plan) names, through the real command tree, with the
job ids mapped to the new seed's. Both databases must end up the same.
"""

from __future__ import annotations

import shlex

import pytest

from djq_cli.tui.modals import ConfirmModal
from tests.tui.conftest import clean, dynamic_recurring, job_states, labels, make_app, run, seed, settled

pytestmark = pytest.mark.vendors("sqlite", "postgresql")


def side_states(alias: str) -> tuple:
    from djq.models import Pause, RecurringTask

    pauses = sorted(Pause.objects.using(alias).filter(backend_alias=alias).values_list("queue_name", flat=True))
    recurring = sorted(RecurringTask.objects.using(alias).filter(backend_alias=alias)
                       .values_list("key", "paused", "static"))
    return pauses, recurring


def everything(alias: str) -> tuple:
    return job_states(alias), side_states(alias)


async def confirm(app, pilot, typed: int | None = None) -> None:
    await settled(app, pilot, check=lambda: isinstance(app.screen, ConfirmModal))
    modal = app.screen
    assert modal.focused.id == "no"  # "No" has the focus
    if typed is not None:
        assert modal.query_one("#yes").disabled
        await pilot.press(*str(typed))
        await pilot.pause()
    await pilot.click("#yes")


def same_as_cli(alias: str, drive, *, prepare=None, modal: bool) -> str:
    """Drive the action in the TUI; then the plan's command on an identical seed; compare. Returns the command."""
    from tests.cli.conftest import invoke

    seeded = seed(alias)
    if prepare:
        prepare(alias)
    before_labels = labels(alias)
    before = everything(alias)
    app = make_app(alias)

    async def scenario():
        async with app.run_test(size=(140, 40)) as pilot:
            await settled(app, pilot)
            await drive(app, pilot, seeded)
            await settled(app, pilot, check=lambda: bool(app.performed))

    run(scenario())
    [plan] = app.performed
    assert plan.destructive == modal
    after_tui = everything(alias)
    assert after_tui != before, "the action changed nothing"

    clean(alias)
    seed(alias)
    if prepare:
        prepare(alias)
    by_label = {label: i for i, label in labels(alias).items()}
    words = shlex.split(plan.command)
    assert words[0] == "djq"
    words = [str(by_label[before_labels[int(w)]]) if w.isdigit() and int(w) in before_labels else w
             for w in words[1:]]
    if alias != "default":
        assert words[:2] == ["--backend", alias]
    else:
        words = ["--backend", alias, *words]
    result = invoke(words)
    assert result.exit_code == 0, result.stderr
    assert everything(alias) == after_tui
    return plan.command


async def on_row(app, pilot, screen_key: str, table: str, key: object, *, state: str | None = None) -> None:
    await pilot.press(screen_key)
    await settled(app, pilot)
    if state is not None:
        app.screen.select_state(state)
        await settled(app, pilot, check=lambda: app.screen._data is not None and app.screen._data.state == state)
    app.screen.query_one(table).move_to_key(str(key))
    await pilot.pause()


def test_pause_and_resume_queue(alias):
    async def pause(app, pilot, seeded):
        await on_row(app, pilot, "2", "#queues", "default")
        await pilot.press("p")

    async def resume(app, pilot, seeded):
        await on_row(app, pilot, "2", "#queues", "emails")
        await pilot.press("p")

    assert same_as_cli(alias, pause, modal=False).endswith("queues pause default")
    clean(alias)
    assert same_as_cli(alias, resume, modal=False).endswith("queues resume emails")


def test_clear_queue_asks_first(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "2", "#queues", "default")
        await pilot.press("ctrl+d")
        await confirm(app, pilot)

    assert same_as_cli(alias, drive, modal=True).endswith("queues clear default --yes")


def test_retry_one_failed_job_is_one_key(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "3", "#jobs", seeded.ids["failed"][1], state="failed")
        await pilot.press("r")

    command = same_as_cli(alias, drive, modal=False)
    assert " jobs retry " in command and "--yes" not in command


def test_retry_marked_jobs_asks_first(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "3", "#jobs", seeded.ids["failed"][0], state="failed")
        await pilot.press("space")
        app.screen.query_one("#jobs").move_to_key(str(seeded.ids["failed"][3]))
        await pilot.press("space", "r")
        await settled(app, pilot, check=lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        assert str(seeded.ids["failed"][0]) in modal.plan.targets and "2 jobs" in modal.plan.title
        await confirm(app, pilot)

    assert same_as_cli(alias, drive, modal=True).endswith("--yes")


def test_discard_asks_and_acts_on_the_row_captured_when_it_opened(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "3", "#jobs", seeded.ids["ready"][0], state="ready")
        await pilot.press("ctrl+d")
        await settled(app, pilot, check=lambda: isinstance(app.screen, ConfirmModal))
        # the cursor moving underneath does not change what the modal acts on
        app.screen_stack[-2].query_one("#jobs").move_to_key(str(seeded.ids["ready"][1]))
        await confirm(app, pilot)

    command = same_as_cli(alias, drive, modal=True)
    assert " jobs discard " in command


def test_enqueue_again(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "3", "#jobs", seeded.ids["finished"][2], state="finished")
        await pilot.press("e")

    assert " jobs enqueue-again " in same_as_cli(alias, drive, modal=False)


def test_retry_everything_matching_the_filter_needs_the_count_typed(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "3", "#jobs", seeded.ids["failed"][0], state="failed")
        await pilot.press("slash", *"queue:default", "enter")
        await settled(app, pilot, check=lambda: app.screen._data is not None)
        await pilot.press("R")
        await settled(app, pilot, check=lambda: isinstance(app.screen, ConfirmModal))
        assert app.screen.plan.typed == 3
        await confirm(app, pilot, typed=3)

    assert same_as_cli(alias, drive, modal=True).endswith("jobs retry --all --queue default --yes")


def test_discard_everything_matching(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "3", "#jobs", seeded.ids["scheduled"][0], state="scheduled")
        await pilot.press("D")
        await confirm(app, pilot, typed=2)

    assert same_as_cli(alias, drive, modal=True).endswith("jobs discard --all --state scheduled --yes")


def test_recurring_pause_resume_and_run_now(alias):
    async def pause(app, pilot, seeded):
        await on_row(app, pilot, "5", "#recurring", "nightly")
        await pilot.press("p")

    async def run_now(app, pilot, seeded):
        await on_row(app, pilot, "5", "#recurring", "nightly")
        await pilot.press("t")

    assert same_as_cli(alias, pause, modal=False).endswith("recurring pause nightly")
    clean(alias)
    assert same_as_cli(alias, run_now, modal=False).endswith("recurring run nightly")


def test_unschedule_a_dynamic_task(alias):
    async def drive(app, pilot, seeded):
        await on_row(app, pilot, "5", "#recurring", "hourly-ping")
        await pilot.press("ctrl+d")
        await confirm(app, pilot)

    assert same_as_cli(alias, drive, prepare=dynamic_recurring, modal=True).endswith(
        "recurring unschedule hourly-ping --yes")


# -- read-only ------------------------------------------------------------------------------

KEYS = [("2", "#queues", "default", None, ("p", "ctrl+d")),
        ("3", "#jobs", "failed", "failed", ("r", "ctrl+d", "e", "R", "D")),
        ("5", "#recurring", "nightly", None, ("p", "t", "ctrl+d"))]


def test_read_only_hides_and_refuses_every_action(alias, seeded):
    before = everything(alias)
    app = make_app(alias, read_only=True)

    async def scenario():
        async with app.run_test(size=(140, 40)) as pilot:
            await settled(app, pilot)
            assert "READ-ONLY" in str(app.screen.query_one("#topbar").content)
            for screen_key, table, row, state, keys in KEYS:
                key = seeded.ids[state][0] if state else row
                await on_row(app, pilot, screen_key, table, key, state=state)
                shown = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
                for k in keys:
                    assert k not in shown, f"{k} is offered in read-only mode"
                    await pilot.press(k)
                    await settled(app, pilot)
                    assert not isinstance(app.screen, ConfirmModal)
            # the same refusal when an action is asked for another way (the palette, a test)
            from djq_cli.tui import actions

            app.perform(actions.pause_queue(alias, "default"))
            await settled(app, pilot)
            assert app.performed == []

    run(scenario())
    assert everything(alias) == before
