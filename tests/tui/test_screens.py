"""Each screen, headless against a real database seeded with jobs in every state, shows the right counts."""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app, refreshed, run, settled, text_of

pytestmark = pytest.mark.vendors("sqlite", "postgresql")


def cells(table) -> dict[str, list[str]]:
    return {str(row.key.value): [str(c) for c in table.get_row(row.key)] for row in table.ordered_rows}


def test_overview_counts(alias, seeded):
    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(app, pilot)
            data = app.screen._data
            for state in ("ready", "scheduled", "claimed", "blocked", "failed"):
                assert data.totals[state].value == seeded.count(state), state
            assert data.paused_queues == ("emails",)
            assert data.processes["worker"] == (1, 0)
            assert sum(m.failed for m in data.throughput) == 4
            assert sum(m.finished for m in data.throughput) == 4
            totals = text_of(app.screen.query_one("#totals"))
            assert "✗ failed" in totals and "4" in totals
            busiest = cells(app.screen.query_one("#busiest"))
            assert busiest["emails"][-1] == "‖ paused"

    run(scenario())


def test_queues_counts_and_drill_down(alias, seeded):
    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            await settled(app, pilot)
            rows = cells(app.screen.query_one("#queues"))
            #            state       ready sched running blocked failed
            assert rows["default"][1:7] == ["▶ active", "4", "2", "0", "1", "3"]
            assert rows["emails"][1:7] == ["‖ paused", "2", "0", "0", "0", "1"]
            assert rows["busy"][1:7] == ["▶ active", "0", "0", "1", "0", "0"]

            app.screen.query_one("#queues").move_to_key("emails")
            await pilot.press("enter")
            await settled(app, pilot)
            jobs = app.screen
            assert jobs.NAME == "Jobs" and jobs.filters.queue == "emails" and jobs.state == "ready"
            assert sorted(int(k) for k in jobs.query_one("#jobs").row_keys) == seeded.ids["ready"][3:5]
            await pilot.press("escape")
            await settled(app, pilot)
            assert app.screen.NAME == "Queues"

    run(scenario())


def test_jobs_tabs_show_every_state(alias, seeded):
    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("3")
            await settled(app, pilot)
            for state in ("ready", "scheduled", "claimed", "blocked", "failed", "finished"):
                app.screen.select_state(state)
                await settled(app, pilot, check=lambda s=state: app.screen._data and app.screen._data.state == s)
                page = app.screen._data
                assert sorted(j.id for j in page.rows) == sorted(seeded.ids[state]), state
                assert page.total.value == seeded.count(state) and page.total.exact
                assert f"of {seeded.count(state)}" in text_of(app.screen.query_one("#jobs-status"))
            # ] and [ move between the tabs
            await pilot.press("left_square_bracket")
            await settled(app, pilot)
            assert app.screen.state == "failed"

    run(scenario())


def test_job_detail_shows_arguments_attempts_and_traceback(alias, seeded):
    failed = seeded.ids["failed"][0]

    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("colon")
            await pilot.press(*f"job {failed}", "enter")
            await settled(app, pilot)
            detail = app.screen
            assert detail.NAME == "Job"
            data = detail._data
            assert data.job.id == failed and data.job.state == "failed" and data.args == ["boom 0"]
            [attempt] = data.attempts
            assert attempt.error_class.endswith("ValueError") or attempt.error_class
            assert "Traceback" in attempt.traceback
            shown = text_of(detail.query_one("#detail-tracebacks"))
            assert "boom 0" in shown and "Traceback of attempt 1: " in shown
            assert '"boom 0"' in text_of(detail.query_one("#detail-payload"))
            await pilot.press("end")  # scrolls to the traceback
            await pilot.press("escape")
            await settled(app, pilot)
            assert app.screen.NAME == "Overview"

    run(scenario())


def test_processes_recurring_and_semaphores(alias, seeded):
    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("4")
            await settled(app, pilot)
            rows = cells(app.screen.query_one("#processes"))
            worker = rows[str(seeded.process_id)]
            assert worker[0] == "worker-7" and worker[3] == "busy" and worker[4] == "2"
            assert worker[6] == f"1 ({seeded.ids['claimed'][0]})"
            assert "ago" in worker[5] and "stale" not in worker[5]

            await pilot.press("5")
            await settled(app, pilot)
            [row] = cells(app.screen.query_one("#recurring")).values()
            assert row[0] == "nightly" and row[2] == "0 3 * * *" and row[3].startswith("At 03:00")
            assert row[6] == "▶ active" and row[7] == "settings" and row[4].startswith("in ")

            await pilot.press("6")
            await settled(app, pilot)
            [(key, row)] = cells(app.screen.query_one("#semaphores")).items()
            assert key == "account:7" and row[1] == "1/1" and row[3] == "◼ 1"
            await pilot.press("enter")
            await settled(app, pilot)
            assert app.screen.state == "blocked" and app.screen.filters.concurrency_key == "account:7"

    run(scenario())


def test_refresh_keeps_the_cursor_on_the_same_job_while_jobs_arrive(alias, seeded):
    import asyncio

    from tests import tasks

    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("3")
            await settled(app, pilot)
            table = app.screen.query_one("#jobs")
            target = str(seeded.ids["ready"][2])
            table.move_to_key(target)
            before = table.cursor_row
            for round_ in range(3):
                await asyncio.to_thread(lambda r=round_: [tasks.add.using(backend=alias).enqueue(r, n)
                                                          for n in range(5)])
                await refreshed(app, pilot)
                assert table.cursor_key == target
            assert len(table.row_keys) == seeded.count("ready") + 15
            assert table.cursor_row != before or table.row_keys.index(target) == before

    run(scenario())


def test_filter_on_small_screens(alias, seeded):
    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("2")
            await settled(app, pilot)
            await pilot.press("slash", *"emai", "enter")
            await pilot.pause()
            assert app.screen.query_one("#queues").row_keys == ["emails"]
            await pilot.press("escape")
            await pilot.pause()
            assert len(app.screen.query_one("#queues").row_keys) == 3

    run(scenario())


def test_recurring_shows_the_last_runs_outcome_and_no_next_run_while_paused(alias, seeded):
    from datetime import timedelta

    from django.tasks import task_backends
    from django.utils import timezone

    from djq.engine.recurring import fire
    from djq.models import RecurringTask
    from djq.ops.recurring import set_paused
    from tests.cli.conftest import work

    row = RecurringTask.objects.using(alias).get(backend_alias=alias, key="nightly")
    now = timezone.now()
    assert fire(task_backends[alias], row, now, slot=now.replace(microsecond=0) - timedelta(hours=1)) is not None
    work(alias)  # runs the fired job (and the seed's other ready jobs) like a worker
    set_paused(alias, "nightly", True)

    async def scenario():
        app = make_app(alias)
        async with app.run_test(size=(140, 30)) as pilot:
            await pilot.press("5")
            await settled(app, pilot)
            [row] = cells(app.screen.query_one("#recurring")).values()
            assert row[5].startswith("✓ finished") and "ago" in row[5]
            assert row[4] == "-" and row[6] == "‖ paused"

    run(scenario())
