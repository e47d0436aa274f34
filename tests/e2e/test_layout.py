"""The header in a real browser (issue 18): an officer's grouped navigation fits one row at
1366×768 and its menus open without JavaScript; on a phone (375×667) the header stays well
under half the screen and the page does not scroll sideways. Screenshots are saved."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import log_in, shot

pytestmark = pytest.mark.e2e


def _header(page: Any) -> dict[str, float]:
    return page.evaluate("""() => {
        const h = document.querySelector('header.top').getBoundingClientRect();
        const items = [...document.querySelectorAll(
            'header.top nav.main > a, header.top nav.main > details > summary')];
        const tops = items.map(e => Math.round(e.getBoundingClientRect().top));
        return {height: h.height, rows: new Set(tops).size, items: items.length,
                scroll: document.documentElement.scrollWidth,
                width: window.innerWidth};
    }""")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_officer_header_is_one_row_at_1366(browser: Any, live: Any, lang: str) -> None:
    ctx = browser.new_context(base_url=live.url, viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    try:
        if lang == "en":
            page.goto("/lang/en?next=/login")
        log_in(page, "officer")
        h = _header(page)
        shot(page, f"layout-officer-1366-{lang}")
        assert h["items"] == 6  # the workbench and five menus
        assert h["rows"] == 1, h
        assert h["height"] < 60, h
        assert h["scroll"] <= h["width"], h
    finally:
        ctx.close()


def test_menus_open_without_javascript(browser: Any, live: Any) -> None:
    ctx = browser.new_context(base_url=live.url, viewport={"width": 1366, "height": 768},
                              java_script_enabled=False)
    page = ctx.new_page()
    try:
        log_in(page, "officer")
        assert not page.locator("#nav-reserve").is_visible()  # menus start closed
        page.click("#navg-trading > summary")
        assert page.locator("#nav-reserve").is_visible()
        shot(page, "layout-officer-1366-menu")
        page.click("#nav-reserve")
        page.wait_for_load_state()
        assert page.url.endswith("/bureau/reserve")
    finally:
        ctx.close()


@pytest.mark.parametrize("who", ["officer", "trader_a"])
def test_phone_header_is_compact(browser: Any, live: Any, who: str) -> None:
    ctx = browser.new_context(base_url=live.url, viewport={"width": 375, "height": 667},
                              is_mobile=True, has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    try:
        log_in(page, who)
        h = _header(page)
        shot(page, f"layout-phone-{who}")
        assert h["height"] < 667 * 0.3, h  # well under half the screen
        assert h["scroll"] <= h["width"] + 1, h  # nothing forces sideways scrolling
        page.click("nav.main details > summary >> nth=0")
        shot(page, f"layout-phone-{who}-menu")
        box = page.locator("nav.main details[open] > div").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    finally:
        ctx.close()
