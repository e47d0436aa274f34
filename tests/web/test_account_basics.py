"""Account basics (issue 18): change password through the page and the API (current password,
the new one twice, the platform's rules; the user's other sessions end, this one and API
tokens stay), and a lock-out that says until when, in Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from identity.errors import InvalidCredentials, TooManyAttempts
from tests.web.conftest import login
from tests.web.flash_support import notice
from web.messages import login_message

pytestmark = pytest.mark.db

ERR = re.compile(r'id="error-(\w+)">([^<]*)<')


def _errors(html: str) -> dict[str, str]:
    return dict(ERR.findall(html))


def test_change_password_page(app, browser, tokens, auth) -> None:  # type: ignore[no-untyped-def]
    me = browser("trader_a")
    other = browser("trader_a")  # the same user in another browser
    assert other.get("/account/tokens").status_code == 200
    page = me.get("/account/password")
    assert page.status_code == 200 and 'id="password-form"' in page.text
    assert 'href="/account/password"' in page.text  # linked from the header
    cases = [
        (dict(old_password="wrong", new_password="new-pw-123", new_password_again="new-pw-123"),
         "old_password", "当前密码不正确"),
        (dict(old_password="pw-trader_a", new_password="new-pw-123",
              new_password_again="new-pw-124"), "new_password_again", "不一致"),
        (dict(old_password="pw-trader_a", new_password="short", new_password_again="short"),
         "new_password", "至少需要 8 个字符"),
        (dict(old_password="pw-trader_a", new_password="pw-trader_a",
              new_password_again="pw-trader_a"), "new_password", "不能与当前密码相同"),
        (dict(old_password="", new_password="new-pw-123", new_password_again="new-pw-123"),
         "old_password", "必填"),
    ]
    for data, field, text in cases:
        r = me.post("/account/password", data)
        assert r.status_code == 422, (data, r.status_code)
        errs = _errors(r.text)
        assert field in errs and text in errs[field], (data, errs)
    r = me.post("/account/password", dict(old_password="pw-trader_a", new_password="new-pw-123",
                                          new_password_again="new-pw-123"),
                follow_redirects=False)
    shown = notice(me, r)
    assert "密码已修改" in shown and "已退出其他会话 1 个" in shown
    # this browser stays logged in; the other one is logged out; the token still works
    assert me.get("/account/tokens").status_code == 200
    r = other.get("/account/tokens", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert app and TestClient(app).get("/api/v1/me", headers=auth("trader_a")).status_code == 200
    # the new password logs in, the old one does not
    with TestClient(app) as c:
        login(c, "trader_a", "new-pw-123")
    with TestClient(app) as c:
        page = c.get("/login")
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post("/login", data={"username": "trader_a", "password": "pw-trader_a",
                                   "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 401


def test_change_password_api(client, auth) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    r = client.post("/api/v1/account/password", headers=officer,
                    json={"old_password": "nope", "new_password": "new-pw-123"})
    assert r.status_code == 422 and r.json()["error"] == "wrong_password"
    r = client.post("/api/v1/account/password", headers=officer,
                    json={"old_password": "pw-officer", "new_password": "new-pw-123",
                          "new_password_again": "different"})
    assert r.status_code == 422 and r.json()["error"] == "password_rejected"
    r = client.post("/api/v1/account/password", headers=officer,
                    json={"old_password": "pw-officer", "new_password": "1234567"})
    assert r.status_code == 422 and r.json()["error"] == "password_rejected"
    assert client.post("/api/v1/account/password",
                       json={"old_password": "pw-officer", "new_password": "new-pw-123"}
                       ).status_code == 401
    r = client.post("/api/v1/account/password", headers=officer,
                    json={"old_password": "pw-officer", "new_password": "new-pw-123"})
    assert r.status_code == 200, r.text
    assert r.json() == {"username": "officer", "sessions_revoked": 0}
    # the token used is kept
    assert client.get("/api/v1/me", headers=officer).status_code == 200


def test_lockout_message_says_until_when_in_beijing_time() -> None:
    now = datetime(2026, 12, 6, 1, 0, 30, tzinfo=UTC)  # 09:00:30 in Beijing
    exc = TooManyAttempts("too many", retry_after=900)
    assert login_message(exc, "zh", now) == \
        "登录失败次数过多，请在 15 分钟后重试（北京时间 2026-12-06 09:16 之后）。"
    assert "after 2026-12-06 09:16 (Beijing time)" in login_message(exc, "en", now)
    wrong = InvalidCredentials("wrong")
    assert login_message(wrong, "zh", now) == "用户名或密码错误。"
    wrong.retry_after = 60
    assert "北京时间 2026-12-06 09:02 之后" in login_message(wrong, "zh", now)


def test_fifth_failure_says_locked_until(app, spine) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        page = c.get("/login")
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]

        def attempt(pw: str):  # type: ignore[no-untyped-def]
            return c.post("/login", data={"username": "trader_b", "password": pw,
                                          "csrf_token": csrf}, follow_redirects=False)

        for _ in range(4):
            r = attempt("guess")
            assert r.status_code == 401 and "北京时间" not in r.text
        r = attempt("guess")  # the fifth: wrong, and now locked
        assert r.status_code == 401 and "失败次数过多" in r.text
        m = re.search(r"北京时间 (\d{4}-\d\d-\d\d \d\d:\d\d) 之后", r.text)
        assert m, r.text
        until = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M")
        bj_now = datetime.now(UTC) + timedelta(hours=8)
        assert timedelta(minutes=14) < until - bj_now.replace(tzinfo=None) <= timedelta(
            minutes=16)
        r = attempt("pw-trader_b")  # the right password is refused until then
        assert r.status_code == 429 and m.group(1) in r.text
