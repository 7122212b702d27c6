"""The dashboard's communicate keys: U drafts and posts an update, x writes the postmortem."""
from __future__ import annotations

from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Kind
from tui.incident.specs import NotifySpec
from tui.screens.update import UpdateScreen

from .conftest import fixed_clock, seed_incident
from .pilot_wait import screen_ready, wait_for
from .test_notify import Receiver


async def test_post_update_logs_exact_text_and_resets_countdown(store):
    inc = seed_incident(store)
    deadline = store.incident(inc.id).next_update_at
    with Receiver() as rx:
        config = Config(notify=(NotifySpec(kind="slack", url=rx.url(), name="ops-slack", timeout=2.0),))
        app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock, config=config)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("U")
            await pilot.pause()
            assert isinstance(app.screen, UpdateScreen)
            await pilot.press("ctrl+t")
            assert await wait_for(pilot, lambda: store.timeline(inc.id)[-1].kind is Kind.COMMS)
        (body,) = rx.json_bodies()
        comms = store.timeline(inc.id)[-1]
        assert comms.text == body["text"]           # what was posted is exactly what was logged
        assert "Checkout failing" in comms.text
        assert comms.meta.get("posted_to") == ["ops-slack"]
        assert store.incident(inc.id).next_update_at > deadline


async def test_failed_post_keeps_draft_and_says_why(store):
    inc = seed_incident(store)
    deadline = store.incident(inc.id).next_update_at
    with Receiver() as rx:
        rx.statuses.extend([500, 500, 500, 500])
        config = Config(notify=(NotifySpec(kind="slack", url=rx.url(), name="ops-slack", timeout=2.0, retries=1),))
        app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock, config=config)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("U")
            await pilot.pause()
            app.screen.query_one("TextArea").text = "hand-edited draft"
            await pilot.press("ctrl+t")
            assert await wait_for(pilot, lambda: "post failed" in store.timeline(inc.id)[-1].text)
            assert store.incident(inc.id).next_update_at == deadline   # nothing was sent
            await pilot.press("U")
            await pilot.pause()
            assert app.screen.query_one("TextArea").text == "hand-edited draft"


async def test_export_key_writes_postmortem(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("x")
        assert await wait_for(pilot, lambda: any(p.suffix == ".md" for p in tmp_path.iterdir()))
    (path,) = [p for p in tmp_path.iterdir() if p.suffix == ".md"]
    text = path.read_text()
    assert "Checkout failing" in text and "Roll back payments to v2.3.0" in text


async def _post_with_no_answer(store, rx, pilot_keys):
    """Post from the dashboard to a receiver that reads the update and answers too late."""
    from tui.screens.choose import ChoiceScreen

    inc = seed_incident(store)
    deadline = store.incident(inc.id).next_update_at
    rx.stall_next = 1
    config = Config(notify=(NotifySpec(kind="slack", url=rx.url(), name="ops-slack", timeout=0.3, retries=2),))
    app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("U")
        await pilot.pause()
        await pilot.press("ctrl+t")
        assert await wait_for(pilot, lambda: screen_ready(app, ChoiceScreen))
        # Not retried on its own: the receiver got it exactly once, and the screen asks.
        assert len(rx.bodies) == 1
        assert "may have been posted" in store.timeline(inc.id)[-1].text
        assert store.incident(inc.id).next_update_at == deadline
        await pilot.press(*pilot_keys)
        assert await wait_for(pilot, lambda: store.timeline(inc.id)[-1].kind is Kind.COMMS)
    return inc, store.timeline(inc.id)[-1], deadline


async def test_no_answer_after_sending_asks_and_posts_again_only_when_told(store):
    with Receiver() as rx:
        inc, comms, deadline = await _post_with_no_answer(store, rx, ["2"])
        assert len(rx.bodies) == 2                   # the one repost the commander asked for
        assert comms.meta.get("posted_to") == ["ops-slack"]
        assert store.incident(inc.id).next_update_at > deadline


async def test_no_answer_after_sending_it_arrived_records_without_posting(store):
    with Receiver() as rx:
        inc, comms, deadline = await _post_with_no_answer(store, rx, ["1"])
        assert len(rx.bodies) == 1
        assert comms.meta.get("confirmed_by") == "hand"
        assert comms.text == rx.json_bodies()[0]["text"]
        assert store.incident(inc.id).next_update_at > deadline
