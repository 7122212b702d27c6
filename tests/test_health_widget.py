"""Pilot tests for widgets.health.HealthPane with handmade snapshots."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from checks.base import Level
from checks.health import NO_SERVICES_HINT, HealthSnapshot, ServiceStatus, State, summarize
from widgets.health import HealthPane, format_latency
from widgets.sparkline import sparkline

pytestmark = pytest.mark.timeout(30)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def status(name: str, state: State, reason: str, *, code: int | None = 200, ms: float | None = 42.0,
           history=(40.0, 80.0, 42.0), fails: int = 0, since_s: float = 252) -> ServiceStatus:
    return ServiceStatus(
        name=name, url=f"https://{name}.internal/healthz", state=state, reason=reason,
        status_code=code, latency_ms=ms, history=tuple(history), consecutive_failures=fails,
        since=T0 - timedelta(seconds=since_s), checked_at=T0,
    )


def snapshot(*services: ServiceStatus, error: str | None = None) -> HealthSnapshot:
    level, summary = summarize(services)
    return HealthSnapshot(taken_at=T0, level=level, summary=summary, error=error, services=services)


class PaneApp(App):
    def compose(self) -> ComposeResult:
        yield HealthPane()


def plain_row(pane: HealthPane, key: str) -> dict[str, str]:
    """Column key -> cell text, for the columns the pane shows at its width."""
    table = pane.table
    columns = [c.key.value for c in table.ordered_columns]
    return {c: cell.plain.strip() for c, cell in zip(columns, table.get_row(key))}


def display_order(pane: HealthPane) -> list[str]:
    table = pane.table
    return [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]


async def test_rows_worst_first_with_badges_and_details():
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snapshot(
            status("search", State.UP, "HTTP 200"),
            status("payments", State.DOWN, "HTTP 503", code=503, fails=3, history=(40.0, None, None)),
            status("auth", State.DEGRADED, "slow: 1234 ms > 800 ms", ms=1234.0, since_s=45),
        ))
        await pilot.pause()

        assert display_order(pane) == ["payments", "auth", "search"]
        assert pane.has_class("-crit") and not pane.has_class("-ok")
        assert pane.border_title == "Health"
        assert pane.border_subtitle == "payments DOWN · HTTP 503 (+1 more)"

        # 80 columns: compact layout, no Code column (the reason says "HTTP 503").
        assert plain_row(pane, "payments") == {
            "state": "DOWN", "name": "payments", "latency": "42ms", "trend": "█··",
            "fails": "3", "since": "4m12s", "reason": "HTTP 503",
        }
        assert sparkline((40.0, None, None), 8) == "█··"
        badge = pane.table.get_row("payments")[0]
        assert "red" in str(badge.style)
        auth = plain_row(pane, "auth")
        assert (auth["since"], auth["reason"]) == ("45s", "slow: 1234 ms > 800 ms")
        assert "green" in str(pane.table.get_row("search")[0].style)


async def test_updates_in_place_reorders_and_removes():
    app = PaneApp()
    async with app.run_test(size=(100, 24)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snapshot(status("a", State.UP, "HTTP 200"), status("b", State.DOWN, "HTTP 500", code=500)))
        await pilot.pause()
        assert display_order(pane) == ["b", "a"]
        first_cell = pane.table.get_row("a")[1]

        # b recovers, a fails: same rows updated in place, order flips.
        pane.show(snapshot(status("a", State.DOWN, "connection refused", code=None, ms=None, fails=2),
                           status("b", State.UP, "HTTP 200")))
        await pilot.pause()
        assert display_order(pane) == ["a", "b"]
        assert pane.table.row_count == 2
        assert pane.table.get_row("a")[1] is first_cell      # untouched cell kept, not rebuilt
        a = plain_row(pane, "a")
        assert (a["code"], a["latency"], a["reason"]) == ("—", "—", "connection refused")

        # Damped failure -> DOWN with the same reason: the reason's colour must still change.
        pane.show(snapshot(status("a", State.UP, "HTTP 500", fails=1), status("b", State.UP, "HTTP 200")))
        await pilot.pause()
        dim = pane.table.get_row("a")[-1].style
        pane.show(snapshot(status("a", State.DOWN, "HTTP 500", fails=2), status("b", State.UP, "HTTP 200")))
        await pilot.pause()
        assert pane.table.get_row("a")[-1].style != dim

        pane.show(snapshot(status("b", State.UP, "HTTP 200")))
        await pilot.pause()
        assert display_order(pane) == ["b"]
        assert pane.has_class("-ok")
        assert pane.border_subtitle == "b UP"


async def test_no_services_shows_the_hint_literally():
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(HealthSnapshot(taken_at=T0, level=Level.UNKNOWN, summary=NO_SERVICES_HINT))
        await pilot.pause()
        hint = pane.query_one("#health-hint", Static)
        assert hint.display and not pane.table.display
        assert str(hint.render()) == NO_SERVICES_HINT          # "[[services]]" not eaten as markup
        assert pane.has_class("-unknown") and pane.has_class("-empty")


async def test_error_line_and_markup_in_remote_text():
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(HealthPane)
        evil = status("[bold]x[/bold]", State.DOWN, 'JSON field status = "[red]fail", expected "ok"', code=200)
        pane.show(snapshot(evil, error="health checks failed: RuntimeError"))
        await pilot.pause()
        assert pane.has_class("-error") and pane.has_class("-crit")
        err = pane.query_one("#health-error", Static)
        assert err.display and "health checks failed: RuntimeError" in str(err.render())
        assert pane.border_subtitle == "health checks failed: RuntimeError"
        row = plain_row(pane, "[bold]x[/bold]")
        assert row["name"] == "[bold]x[/bo…"          # literal, clipped to the compact name width
        assert row["reason"].startswith('JSON field status = "[')

        # Error cleared: the rows stay, the error line goes.
        pane.show(snapshot(evil))
        await pilot.pause()
        assert not pane.has_class("-error") and not err.display
        assert pane.table.row_count == 1


async def test_fits_80_columns_without_horizontal_scroll():
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snapshot(
            status("payments", State.DOWN, "TLS: certificate verify failed", code=None, fails=2),
            status("a-very-long-service-name", State.UP, "HTTP 200"),
            status("checkout", State.DEGRADED, "slow: 1234 ms > 800 ms", ms=1234.0),
        ))
        await pilot.pause()
        table = pane.table
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert not table.show_horizontal_scrollbar or table.max_scroll_x == 0
        assert plain_row(pane, "checkout")["reason"] == "slow: 1234 ms > 800 ms"
        # No set of columns fits both whole: the reason wins, the name gives way.
        assert plain_row(pane, "payments")["reason"] == "TLS: certificate verify failed"
        assert plain_row(pane, "a-very-long-service-name")["name"] == "a-very-long-s…"


class SizedApp(App):
    CSS = "HealthPane { width: 72; }"      # the health pane's width in a 200x60 dashboard

    def compose(self) -> ComposeResult:
        yield HealthPane()


async def test_names_and_reasons_whole_while_the_pane_has_room():
    """Issue 17: at 200x60 the pane (72 wide) cut `legacy-redi…` and `timeout after 2.…`."""
    app = SizedApp()
    async with app.run_test(size=(200, 60)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snapshot(
            status("legacy-redis-cache", State.DOWN, "timeout after 2.0s", code=None, fails=3),
            status("api", State.UP, "HTTP 200"),
        ))
        await pilot.pause()
        row = plain_row(pane, "legacy-redis-cache")
        assert (row["name"], row["reason"]) == ("legacy-redis-cache", "timeout after 2.0s")
        table = pane.table
        assert table.virtual_size.width <= table.scrollable_content_region.width

        # Short names and reasons: every column for the width, and the reason column
        # takes the rest of the pane.
        pane.show(snapshot(status("api", State.DOWN, "HTTP 503", code=503, fails=2)))
        await pilot.pause()
        row = plain_row(pane, "api")
        assert row["fails"] == "2" and row["name"] == "api"
        assert sum(c.get_render_width(table) for c in table.ordered_columns) \
            == table.scrollable_content_region.width


async def test_reason_column_grows_and_shrinks_with_the_pane():
    long_reason = "connection refused: [Errno 111] while connecting to 10.0.0.7:6379 (replica)"
    app = PaneApp()
    async with app.run_test(size=(160, 20)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snapshot(status("legacy-redis-cache", State.DOWN, long_reason, code=None)))
        await pilot.pause()
        assert plain_row(pane, "legacy-redis-cache")["reason"] == long_reason
        assert "code" in plain_row(pane, "legacy-redis-cache")    # wide: every column
        await pilot.resize_terminal(90, 20)
        await pilot.pause()
        table = pane.table
        row = plain_row(pane, "legacy-redis-cache")
        assert row["reason"].endswith("…") and len(row["reason"]) > 40
        assert table.virtual_size.width <= table.scrollable_content_region.width


def test_sparkline_and_latency_format():
    assert sparkline([]) == ""
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"     # scaled from zero
    assert sparkline([10.0, None, 20.0], 2) == "·█"
    assert [format_latency(v) for v in (None, 3.4, 1234.0, 12345.0)] == ["—", "3ms", "1234ms", "12.3s"]


async def test_narrow_pane_drops_fail_column_and_still_renders():
    """Beside the host pane (~60 columns) the Fail column goes; rows must still render."""
    from widgets.health import NARROW

    app = PaneApp()
    async with app.run_test(size=(NARROW - 10, 20)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snapshot(status("payments", State.DOWN, "HTTP 503", code=503, fails=3)))
        await pilot.pause()
        row = plain_row(pane, "payments")
        assert "fails" not in row and row["reason"] == "HTTP 503" and row["state"] == "DOWN"


async def test_rows_off_screen_are_brought_up_to_date_when_scrolled_into_view():
    app = PaneApp()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(HealthPane)
        names = [f"svc{i:03d}" for i in range(60)]
        pane.show(snapshot(*(status(n, State.UP, "HTTP 200", ms=10.0) for n in names)))
        await pilot.pause()
        pane.show(snapshot(*(status(n, State.UP, "HTTP 200", ms=20.0 + i) for i, n in enumerate(names))))
        await pilot.pause()
        assert plain_row(pane, "svc000")["latency"] == "20ms"
        assert plain_row(pane, "svc059")["latency"] == "10ms"      # off screen: not rendered yet

        pane.table.scroll_end(animate=False)
        await pilot.pause()
        assert plain_row(pane, "svc059")["latency"] == "79ms"
        assert app.query_one(HealthPane).row_keys == names
