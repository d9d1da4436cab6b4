"""Filters and keyset paging on 100,000 jobs: pages follow each other, go back, and counts are capped."""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app, run, settled, text_of

pytestmark = pytest.mark.vendors("sqlite", "postgresql")

N = 100_000


@pytest.fixture
def many(alias):
    from django.tasks import task_backends

    from tests import tasks

    backend = task_backends[alias]
    variants = {(odd, bulk): (tasks.add if odd else tasks.echo).using(backend=alias,
                                                                     queue_name="bulk" if bulk else "other")
                for odd in (True, False) for bulk in (True, False)}
    calls = [(variants[(bool(i % 2), i % 4 < 2)], (i, 0), {}) for i in range(N)]
    for start in range(0, N, 10_000):
        backend.enqueue_all(calls[start:start + 10_000])
    return alias


def page(app):
    data = app.screen._data
    return [j.id for j in data.rows], data


def test_pages_filters_and_capped_counts(many):
    alias = many
    app = make_app(alias)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("3")
            await settled(app, pilot)
            first, data = page(app)
            assert len(first) == 50 and not data.total.exact and str(data.total).endswith("+")
            assert "+" in text_of(app.screen.query_one("#jobs-status"))

            seen = list(first)
            for _ in range(3):
                await pilot.press("n")
                await settled(app, pilot, check=lambda: app.screen._data is not None)
                ids, _ = page(app)
                assert len(ids) == 50 and not set(ids) & set(seen)
                seen += ids
            assert len(set(seen)) == 200
            await pilot.press("b")
            await settled(app, pilot, check=lambda: app.screen._data is not None)
            assert page(app)[0] == seen[100:150]
            assert len(app.screen.cursors) == 3

            await pilot.press("slash", *"queue:bulk task:tests.tasks.add", "enter")
            await settled(app, pilot, check=lambda: app.screen._data is not None)
            ids, data = page(app)
            assert len(app.screen.cursors) == 1 and len(ids) == 50
            assert all(j.queue == "bulk" and j.task == "tests.tasks.add" for j in data.rows)
            await pilot.press("n")
            await settled(app, pilot, check=lambda: app.screen._data is not None)
            assert all(j.queue == "bulk" and j.task == "tests.tasks.add" for j in app.screen._data.rows)

            await pilot.press("slash", *"queue:nowhere", "enter")
            await settled(app, pilot, check=lambda: app.screen._data is not None)
            ids, data = page(app)
            assert ids == [] and data.total.value == 0 and data.total.exact

    run(scenario())


def test_exception_filter(alias, seeded):
    from tests.cli.conftest import failed_jobs

    app = make_app(alias)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("colon", *"failed exception:ValueError", "enter")
            await settled(app, pilot, check=lambda: getattr(app.screen, "_data", None) is not None)
            assert app.screen.state == "failed" and app.screen.filters.exception == "ValueError"
            assert sorted(j.id for j in app.screen._data.rows) == sorted(seeded.ids["failed"])
            await pilot.press("slash", *"exception:KeyError", "enter")
            await settled(app, pilot, check=lambda: app.screen._data is not None)
            assert app.screen._data.rows == ()

    assert failed_jobs  # the seed's failures come from the real worker path
    run(scenario())
