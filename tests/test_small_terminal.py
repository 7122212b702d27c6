"""Issue 17 at 80x24: the footer keeps whole keys, presenter mode's banner keeps the phase."""
from __future__ import annotations

import pytest

from widgets.footer import WholeKeysFooter

from .samples import feed_samples, sample_app

pytestmark = pytest.mark.timeout(60)


def _screen_text(app) -> list[str]:  # noqa: ANN001
    """The lines the terminal shows, as text."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
async def test_footer_shows_whole_keys_only(store, size):
    app = sample_app(store)
    async with app.run_test(size=size) as pilot:
        await feed_samples(pilot)
        await pilot.pause()
        footer = app.screen.query_one(WholeKeysFooter)
        keys = [k for k in footer.shown_keys() if not k.has_class("-command-palette")]
        palette = next(k for k in footer.shown_keys() if k.has_class("-command-palette"))
        shown = [k for k in keys if k.display]
        assert shown and shown[0].key == "question_mark"          # ? lists every key
        for key in shown:        # whole, and clear of the palette key
            assert key.region.width == key.get_content_width(footer.size, app.size)
            assert key.region.right <= palette.region.x
        hidden = [k for k in keys if not k.display]
        assert keys == shown + hidden                             # the first ones, in order
        line = _screen_text(app)[-1]
        assert "palette" in line and line.rstrip().endswith("palette")
        if size[0] == 80:
            assert hidden and "t To" not in line                  # was `t To▏^p palette`
            for key in shown:
                assert f"{key.key_display} {key.description}" in line
        if size[0] >= 160:
            assert not hidden


async def test_presenter_banner_keeps_the_phase_at_80x24(store):
    app = sample_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed_samples(pilot)
        await pilot.press("P")
        await pilot.pause()
        lines = _screen_text(app)[:5]
        text = "\n".join(lines)
        assert "INVESTIGATING" in text and "phase Triage" in text
        assert "Checkout fail" in text                 # the title, cut rather than wrapped
