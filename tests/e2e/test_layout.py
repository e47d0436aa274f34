"""The header in a real browser (issue 18): an officer's grouped navigation fits one row at
1366×768 and its menus open without JavaScript; on a phone (375×667) the header stays well
under half the screen and the page does not scroll sideways; a bureau page with an unread
badge and a long user name fits 1280 and 1366 px in both languages and a phone (the name cut
with an ellipsis, whole in its title). Screenshots are saved."""

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


LONG_NAME = "layout_officer_long_name"  # longer than the role walks' day_officer2_en


def _long_named_officer_with_notice(live: Any) -> str:
    """A bureau officer of the test's own with a long name and one unread notice (written to
    that user alone: the live server is shared, no other user gets it)."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from identity import service as identity
    from notices.store import NoticeStore

    platform = live.platform
    with platform.uow() as uow:
        exists = uow.session.execute(text("select 1 from app_user where username = :u"),
                                     {"u": LONG_NAME}).first()
    if not exists:
        identity.create_user(platform.uow(), username=LONG_NAME, display_name=LONG_NAME,
                             role="bureau_officer", password="pw-" + LONG_NAME)
        with platform.uow() as uow:
            NoticeStore(uow.session).add([dict(
                recipient=LONG_NAME, kind="penalty_hearing", ref="layout-1", enterprise=None,
                params='{"due": "2026-12-30", "place": "x"}', created_at=datetime.now(UTC),
                read_at=None)])
            uow.commit()
    return LONG_NAME


def _fits(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("""() => {
        const r = e => e.getBoundingClientRect();
        const who = document.querySelector('#navg-account > summary');
        const badge = document.querySelector('#unread-count');
        return {width: window.innerWidth, scroll: document.documentElement.scrollWidth,
                header: r(document.querySelector('header.top')).right,
                who: who ? r(who).right : null, whoLeft: who ? r(who).left : null,
                badge: badge ? r(badge).right : null,
                title: document.querySelector('#who').getAttribute('title')};
    }"""))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 1366])
def test_long_name_and_badge_fit(browser: Any, live: Any, lang: str, width: int) -> None:
    """A bureau page with an unread-notice badge and a long user name fits the window: the
    account menu is whole on screen, nothing scrolls sideways, the name keeps its title."""
    name = _long_named_officer_with_notice(live)
    ctx = browser.new_context(base_url=live.url, viewport={"width": width, "height": 800})
    page = ctx.new_page()
    try:
        ctx.add_cookies([{"name": "erts_lang", "value": lang, "url": live.url}])
        log_in(page, name)
        page.goto("/bureau")
        assert page.locator("#unread-count").is_visible()
        f = _fits(page)
        shot(page, f"layout-long-name-{width}-{lang}")
        assert f["scroll"] <= f["width"], f
        assert f["header"] <= f["width"] + 0.5, f
        assert f["who"] is not None and f["who"] <= f["width"], f
        assert f["badge"] is not None and f["badge"] <= f["width"], f
        assert f["title"] == name, f  # the full name on hover when the text is cut
        page.click("#navg-account > summary")
        box = page.locator("#navg-account > div").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        h = _header(page)
        assert h["rows"] == 1, h
    finally:
        ctx.close()


def test_long_name_and_badge_on_a_phone(browser: Any, live: Any) -> None:
    name = _long_named_officer_with_notice(live)
    ctx = browser.new_context(base_url=live.url, viewport={"width": 375, "height": 667},
                              is_mobile=True, has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    try:
        ctx.add_cookies([{"name": "erts_lang", "value": "en", "url": live.url}])
        log_in(page, name)
        page.goto("/bureau")
        f = _fits(page)
        shot(page, "layout-long-name-phone")
        assert f["scroll"] <= f["width"] + 1, f
        assert f["who"] is not None and f["who"] <= f["width"], f
        assert f["badge"] is not None and f["badge"] <= f["width"], f
    finally:
        ctx.close()
