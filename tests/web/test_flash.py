"""Flash notices are held server-side (issue 18): a `?msg=` / `?err=` in a URL shows nothing
on any page, public or not; a post's confirmation is shown once, on the posting browser's
next page, and to no other browser."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.spine import A

pytestmark = pytest.mark.db

BAIT = "Official notice 官方通知 call 400-000-0000"


@pytest.mark.parametrize("url", ["/", "/login", "/public/permits", "/public/trades",
                                 "/public/penalties", f"/public/enterprises/{A}"])
def test_msg_in_url_shows_nothing_anonymous(client, spine, url) -> None:  # type: ignore[no-untyped-def]
    for key in ("msg", "err"):
        r = client.get(url, params={key: BAIT})
        assert BAIT not in r.text  # (links may carry the URL, escaped, never the text)
        assert 'class="flash' not in r.text


def test_msg_in_url_shows_nothing_logged_in(browser) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    for url in ("/bureau", "/bureau/approvals", "/account/tokens"):
        for key in ("msg", "err"):
            r = officer.get(url, params={key: BAIT})
            assert r.status_code == 200
            assert BAIT not in r.text and 'class="flash' not in r.text


def test_confirmation_shown_once(app, browser, spine, one_officer) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    officer.get("/bureau")
    r = officer.post("/bureau/confirmations", data={"permit": spine["A"], "pollutant": "SO2",
                                                    "year": "2026", "qty_kg": ""},
                     follow_redirects=False)
    assert r.status_code == 303
    assert "msg" not in r.headers["location"]
    # another browser of the same user does not see it
    other = browser("officer")
    assert 'class="flash ok"' not in other.get("/bureau").text
    first = officer.get(r.headers["location"]).text
    assert 'class="flash ok"' in first and spine["A"] in first.split('class="flash ok"')[1][:300]
    again = officer.get(r.headers["location"]).text
    assert 'class="flash ok"' not in again


def test_htmx_fragment_leaves_notice_for_the_page(browser, spine, one_officer) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    officer.get("/bureau")
    officer.post("/bureau/confirmations", data={"permit": spine["A"], "pollutant": "SO2",
                                                "year": "2026", "qty_kg": ""},
                 follow_redirects=False)
    officer.get("/enterprises", headers={"HX-Request": "true"})
    assert 'class="flash ok"' in officer.get("/bureau").text


def test_error_notice_after_failed_run(browser, app) -> None:  # type: ignore[no-untyped-def]
    """see_other(err=...) shows an error notice once (kind err)."""
    from web.flash import push

    c = TestClient(app)
    with c:
        page = c.get("/login")
        assert page.status_code == 200
        # an anonymous browser: its notices are keyed by its anonymous nonce
        from starlette.requests import Request

        scope = {"type": "http", "app": app, "headers": [
            (b"cookie", f"erts_anon={c.cookies.get('erts_anon')}".encode())],
            "method": "GET", "path": "/", "query_string": b""}
        assert push(Request(scope), "err", "something failed")
        shown = c.get("/login").text
        assert 'class="flash err"' in shown and "something failed" in shown
        assert "something failed" not in c.get("/login").text
