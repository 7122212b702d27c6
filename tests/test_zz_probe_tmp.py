import pytest
from textual._doc import take_svg_screenshot
from textual.widgets import DataTable
from .samples import sample_app, feed_samples, sample_snapshots
from tui.messages import SnapshotReady

def dump(app, tag):
    s = app.screen
    print(tag, [ (w.id, w.region.x, w.region.width) for w in (s.query_one("#live"), s.query_one("#pane-health"), s.query_one("#pane-host"), app.panes["health"], app.panes["host"])],
          app.panes["health"].query_one(DataTable).virtual_size, app.panes["health"]._columns and [c[0] for c in app.panes["health"]._columns])

@pytest.mark.parametrize("mode", ["svg", "run_test"])
async def test_probe(store, mode):
    app = sample_app(store)
    async def before(pilot):
        dump(app, "pre")
        await feed_samples(pilot)
        dump(app, "post")
        for i in range(3):
            await pilot.pause()
        dump(app, "later")
    if mode == "svg":
        import asyncio
        await asyncio.to_thread(take_svg_screenshot, app, terminal_size=(160,48), run_before=before)
    else:
        async with app.run_test(size=(160,48)) as pilot:
            await before(pilot)
