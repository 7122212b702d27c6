import pytest
from textual._doc import take_svg_screenshot
from textual.widgets import DataTable
from .samples import sample_app, feed_samples, sample_snapshots
from tui.messages import SnapshotReady

def trunc(app):
    svg = app.export_screenshot()
    return "ok" if "ingress-nginx-controller" in svg.replace("&#160;", " ") else "TRUNC"

def test_probe(store):
    app = sample_app(store)
    async def before(pilot):
        screen = app.screen
        print("screen", screen, app.size)
        for source, snapshot in sample_snapshots().items():
            screen.post_message(SnapshotReady(source, snapshot, 0.0))
        for i in range(5):
            await pilot.pause()
            t = app.panes["pods"].query_one(DataTable)
            print(i, trunc(app), t.size, [c.content_width for c in t.ordered_columns][:4], t._update_count, t._repaint_required, screen._layout_required, len(screen._dirty_widgets))
    svg = take_svg_screenshot(app, terminal_size=(160,48), run_before=before)
    print("final", "ok" if "ingress-nginx-controller" in svg.replace("&#160;", " ") else "TRUNC")
