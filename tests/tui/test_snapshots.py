"""SVG snapshots of every screen and of the confirm modal, with fixed data and a frozen clock.

Baselines live in ``__snapshots__``; after a deliberate change to how the
dashboard looks, review the new pictures and accept them with
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from djq_cli.tui.app import DjqApp
from tests.tui.conftest import settled
from tests.tui.fixed import FixedSource, clock


def app(**kwargs) -> DjqApp:
    kwargs.setdefault("interval", 3600)
    kwargs.setdefault("theme", "textual-dark")
    return DjqApp(FixedSource(), where="fixture", clock=clock, **kwargs)


def keys(*pressed: str, check=None):
    async def before(pilot):
        await settled(pilot.app, pilot)
        for key in pressed:
            await pilot.press(key)
            await settled(pilot.app, pilot)
        if check is not None:
            await settled(pilot.app, pilot, check=lambda: check(pilot.app))
        pilot.app.clear_notifications()
        await pilot.pause()

    return before


SMALL, LARGE = (80, 24), (160, 45)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_overview(snap_compare, size):
    assert snap_compare(app(), run_before=keys(), terminal_size=size)


def test_overview_light_read_only(snap_compare):
    assert snap_compare(app(theme="textual-light", read_only=True), run_before=keys(), terminal_size=SMALL)


def test_queues(snap_compare):
    assert snap_compare(app(), run_before=keys("2"), terminal_size=SMALL)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_failed_jobs(snap_compare, size):
    assert snap_compare(app(), run_before=keys("3", "left_square_bracket", "left_square_bracket"),
                        terminal_size=size)


def test_queue_drill_down(snap_compare):
    assert snap_compare(app(), run_before=keys("2", "down", "enter"), terminal_size=SMALL)


def test_job_detail_with_traceback(snap_compare):
    assert snap_compare(app(), run_before=keys("3", "enter"), terminal_size=LARGE)


def test_job_detail_scrolled_to_the_traceback(snap_compare):
    assert snap_compare(app(), run_before=keys("3", "enter", "end"), terminal_size=SMALL)


def test_processes_tree(snap_compare):
    assert snap_compare(app(), run_before=keys("4"), terminal_size=(100, 24))


def test_recurring(snap_compare):
    assert snap_compare(app(), run_before=keys("5"), terminal_size=(120, 24))


def test_semaphores(snap_compare):
    assert snap_compare(app(), run_before=keys("6"), terminal_size=SMALL)


def test_confirm_modal(snap_compare):
    assert snap_compare(app(), run_before=keys("3", "space", "space", "space", "ctrl+d"), terminal_size=SMALL)


def test_confirm_modal_asking_for_the_count(snap_compare):
    # Retry all matching on the failed tab: the dry run counts (here, through the fixed source's stand-in).
    from djq_cli.tui import actions
    from djq_cli.tui.data import JobFilters

    async def before(pilot):
        await keys("3", "left_square_bracket", "left_square_bracket")(pilot)
        pilot.app.perform(actions.retry_matching("default", JobFilters(queue="emails"), 57))
        await settled(pilot.app, pilot)

    assert snap_compare(app(), run_before=before, terminal_size=SMALL)


def test_help(snap_compare):
    assert snap_compare(app(), run_before=keys("3", "question_mark"), terminal_size=(100, 36))
