"""Keys, prompts, help, the command palette and the refresh controls (fixed data: nothing here needs a database)."""

from __future__ import annotations

from djq_cli.tui.app import DjqApp
from djq_cli.tui.modals import HelpScreen
from tests.tui.conftest import run, settled, text_of
from tests.tui.fixed import FixedSource, clock


def app(**kwargs) -> DjqApp:
    kwargs.setdefault("interval", 2.0)
    return DjqApp(FixedSource(), where="fixture", clock=clock, **kwargs)


def test_number_keys_and_colon_commands_switch_screens():
    a = app()
    said: list[str] = []
    a.notify = lambda message, **kwargs: said.append(message)

    async def scenario():
        async with a.run_test(size=(100, 30)) as pilot:
            await settled(a, pilot)
            for key, name in (("2", "Queues"), ("3", "Jobs"), ("4", "Processes"), ("5", "Recurring"),
                              ("6", "Semaphores"), ("1", "Overview")):
                await pilot.press(key)
                await settled(a, pilot)
                assert name == a.screen.NAME
                assert name in str(a.screen.query_one("#topbar").content)
            for command, name in (("queues", "Queues"), ("ps", "Processes"), ("rec", "Recurring"),
                                  ("sem", "Semaphores"), ("ov", "Overview")):
                await pilot.press("colon", *command, "enter")
                await settled(a, pilot)
                assert name == a.screen.NAME, command
            await pilot.press("colon", *"jobs finished", "enter")
            await settled(a, pilot)
            assert a.screen.NAME == "Jobs" and a.screen.state == "finished"
            await pilot.press("colon", *"failed queue:emails", "enter")
            await settled(a, pilot)
            assert a.screen.state == "failed" and a.screen.filters.queue == "emails"
            await pilot.press("colon", *"nonsense", "enter")
            await settled(a, pilot)
            assert any("unknown command 'nonsense'" in m for m in said)
            await pilot.press("colon", "q", "enter")
            await pilot.pause()
        assert a.return_code == 0

    run(scenario())


def test_help_lists_the_keys_of_the_current_screen():
    a = app()

    async def scenario():
        async with a.run_test(size=(100, 40)) as pilot:
            await pilot.press("2")
            await settled(a, pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(a.screen, HelpScreen)
            keys = dict(a.screen.keys)
            assert keys["p"] == "Pause/resume" and keys["^d"] == "Clear" and keys["⏎"] == "Jobs"
            assert "Latency is how long" in " ".join(a.screen.notes)
            await pilot.press("escape", "3")
            await settled(a, pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            keys = dict(a.screen.keys)
            assert keys["space"] == "Mark" and keys["/"] == "Filter" and "r" not in keys  # retry: failed tab only

    run(scenario())


def test_read_only_help_and_palette_offer_no_action():
    a = app(read_only=True)

    async def scenario():
        async with a.run_test(size=(100, 40)) as pilot:
            await pilot.press("2")
            await settled(a, pilot)
            titles = [c.title for c in a.get_system_commands(a.screen)]
            assert "Go to Jobs" in titles and "Queues: Jobs" in titles
            assert not [t for t in titles if "Pause/resume" in t or "Clear" in t]
            await pilot.press("question_mark")
            await pilot.pause()
            assert "p" not in dict(a.screen.keys)
            assert "Read-only" in a.screen.notes[0]

    run(scenario())


def test_palette_offers_screens_and_the_screens_actions():
    a = app()

    async def scenario():
        async with a.run_test(size=(100, 40)) as pilot:
            await pilot.press("5")
            await settled(a, pilot)
            titles = [c.title for c in a.get_system_commands(a.screen)]
            assert {"Go to Overview", "Go to Semaphores", "Failed jobs", "Recurring: Run now",
                    "Recurring: Unschedule", "Pause or resume the refresh"} <= set(titles)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Go to Sema", "enter")
            await settled(a, pilot)
            assert a.screen.NAME == "Semaphores"

    run(scenario())


def test_refresh_interval_changes_and_pauses():
    a = app()

    async def scenario():
        async with a.run_test(size=(100, 30)) as pilot:
            await settled(a, pilot)
            await pilot.press("plus")
            assert a.interval == 5.0
            await pilot.press("minus", "minus", "minus", "minus")
            assert a.interval == 0.5  # the floor
            await pilot.press("z")
            assert a.paused
            await pilot.pause()
            assert "refresh paused" in text_of(a.screen.query_one("#topbar"))
            before = a.refreshes
            await pilot.press("ctrl+r")  # still refreshes on demand
            await settled(a, pilot, check=lambda: a.refreshes > before)
            await pilot.press("z")
            assert not a.paused
            await pilot.press("colon", *"refresh 10", "enter")
            await pilot.pause()
            assert a.interval == 10.0

    run(scenario())


def test_marks_and_escape():
    a = app()

    async def scenario():
        async with a.run_test(size=(100, 30)) as pilot:
            await pilot.press("3")
            await settled(a, pilot)
            await pilot.press("space", "space", "space")
            assert len(a.screen.marks) == 3
            assert "3 marked" in text_of(a.screen.query_one("#jobs-status"))
            await pilot.press("escape")
            assert a.screen.marks == set()
            await pilot.press("slash", *"queue:emails", "enter")
            await settled(a, pilot)
            assert a.screen.filters.queue == "emails"
            await pilot.press("escape")
            await settled(a, pilot)
            assert a.screen.filters.empty and a.screen.NAME == "Jobs"

    run(scenario())
