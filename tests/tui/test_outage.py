"""The dashboard stays responsive while PostgreSQL is away: keys work, a banner shows, and it clears by itself.

The dashboard's connections go through ``tests/runtime/proxy.py``; cutting
the proxy drops every open connection and refuses new ones, as a database
server going away looks to a client.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from djq_cli.tui.modals import HelpScreen
from tests.runtime.proxy import TcpProxy
from tests.tui.conftest import make_app, run, settled

pytestmark = pytest.mark.vendors("postgresql")


@pytest.fixture
def through_proxy(alias, seeded, monkeypatch):
    """Every new connection to the alias's database goes through a proxy (the settings dict is shared)."""
    from django.db import connections

    settings = connections.settings[alias]
    with TcpProxy(settings["HOST"], settings["PORT"]) as proxy:
        connections[alias].close()
        monkeypatch.setitem(settings, "HOST", "127.0.0.1")
        monkeypatch.setitem(settings, "PORT", str(proxy.port))
        yield proxy
        connections[alias].close()


async def until(pilot, condition, *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause()
        await asyncio.sleep(0.05)


def banner_shown(app) -> bool:
    banner = app.screen.query("#banner")
    return bool(banner) and banner.first().display and "database" in str(banner.first().content)


def test_keys_work_and_the_banner_comes_and_goes(alias, through_proxy):
    proxy = through_proxy
    app = make_app(alias, interval=0.5)

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await settled(app, pilot)
            assert not banner_shown(app) and proxy.accepted >= 1

            proxy.cut()
            await until(pilot, lambda: banner_shown(app), what="the outage banner")
            assert "unreachable" in app.outage

            # Still down: every key acts at once, on screens that have no data yet.
            await pilot.press("2")
            assert app.screen.NAME == "Queues"
            await until(pilot, lambda: banner_shown(app), what="the banner on the new screen")
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.press("3", "right_square_bracket")
            assert app.screen.NAME == "Jobs" and app.screen.state == "scheduled"
            await pilot.press("2")
            assert app.outage is not None and proxy.refused >= 1  # it kept trying

            proxy.restore()
            await until(pilot, lambda: app.outage is None and not banner_shown(app) and app.screen.rendered,
                        what="recovery")
            names = app.screen.query_one("#queues").row_keys
            assert names == ["busy", "default", "emails"]

    run(scenario())
