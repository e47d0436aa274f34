"""Identity and access: log-in, sessions, CSRF, rate limits, tokens, approvals, audit,
idempotency and bad input."""

from __future__ import annotations

import pytest

from tests.integration.spine import A
from tests.web.conftest import csrf_of, login

pytestmark = pytest.mark.db


def test_login_sets_a_safe_cookie_and_logout_ends_it(client, spine) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    r = client.post("/login", data={"username": "trader_a", "password": "pw-trader_a",
                                    "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # the workbench (issue 18)
    cookie = r.headers["set-cookie"]
    assert "erts_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/")
    assert "Trader_A" in home.text
    client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    r = client.get(f"/enterprises/{A}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_wrong_password_re_renders_and_rate_limit(client, spine) -> None:  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        r = client.post("/login", data={"username": "officer", "password": "nope",
                                        "csrf_token": token})
        assert r.status_code == 401 and 'id="login-error"' in r.text
    r = client.post("/login", data={"username": "officer", "password": "pw-officer",
                                    "csrf_token": token})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # another user from the same IP is not yet limited
    r = client.post("/login", data={"username": "analyst", "password": "pw-analyst",
                                    "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303


def test_forged_or_missing_csrf_is_403(spine, browser) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get("/bureau")
    data = {"permit": spine["A"], "pollutant": "SO2", "year": "2026", "qty_kg": "1"}
    r = b.c.post("/bureau/confirmations", data={**data, "csrf_token": "0" * 64})
    assert r.status_code == 403 and "csrf_failed" in r.text
    r = b.c.post("/bureau/confirmations", data=data)
    assert r.status_code == 403
    # a cookie-authenticated API call needs the header too
    r = b.c.post(f"/api/v1/permits/{spine['A']}/confirmations",
                 json={"pollutant": "SO2", "year": 2026})
    assert (r.status_code, r.json()["error"]) == (403, "csrf_failed")
    r = b.c.post(f"/api/v1/permits/{spine['A']}/confirmations",
                 json={"pollutant": "SO2", "year": 2026}, headers={"X-CSRF-Token": b.csrf})
    assert r.status_code in (201, 202)
    # the log-in form is protected as well
    r = b.c.post("/login", data={"username": "x", "password": "y", "csrf_token": "bad"})
    assert r.status_code == 403


def test_expired_session_redirects_to_login(client, spine, platform, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from identity.tables import SessionRow

    login(client, "officer")
    with platform.uow() as uow:
        uow.session.execute(update(SessionRow).values(expires_at=SessionRow.created_at))
        uow.commit()
    r = client.get("/bureau", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fbureau&reason=session_expired"
    assert "会话已过期" in client.get(r.headers["location"]).text
    r = client.get("/bureau", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/login")
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.json()["error"] in ("session_expired", "not_authenticated")
    client.cookies.set("erts_session", "tampered.value.sig")
    assert client.get("/bureau", follow_redirects=False).status_code == 303


def test_tokens_created_and_revoked_from_the_ui(spine, browser, client) -> None:  # type: ignore[no-untyped-def]
    b = browser("trader_a")
    b.get("/account/tokens")
    r = b.post("/account/tokens", data={"name": "robot", "expires_days": "30"})
    assert r.status_code == 201
    raw = r.text.split('id="new-token">')[1].split("<")[0]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).json()
    assert me == {"username": "trader_a", "display_name": "Trader_A", "role": "trader",
                  "enterprise": A, "via": "token"}
    token_id = next(t["id"] for t in client.get(
        "/api/v1/tokens", headers={"Authorization": f"Bearer {raw}"}).json()
        if t["name"] == "robot")
    b.get("/account/tokens")
    r = b.post(f"/account/tokens/{token_id}/revoke", follow_redirects=False)
    assert r.status_code == 303
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401
    r = b.post("/account/tokens", data={"name": "", "expires_days": "x"})
    assert r.status_code == 422 and r.text.count('class="field-error"') == 2
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    bad = {"Authorization": "Bearer erts_no"}
    assert client.get("/api/v1/markets", headers=bad).status_code == 401


def test_second_officer_approval(client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=auth("officer"),
                    json={"pollutant": "SO2", "year": 2026})
    assert r.status_code == 202 and r.json()["status"] == "pending"
    aid = r.json()["id"]
    assert client.get(f"/api/v1/permits/{pa}").json()["quantities"][0]["confirmed"] is False
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer"))
    assert (r.status_code, r.json()["error"]) == (403, "self_approval")
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer2"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    assert client.get(f"/api/v1/permits/{pa}").json()["quantities"][0]["permitted_kg"] == 8000
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("admin"))
    assert (r.status_code, r.json()["error"]) == (409, "approval_not_pending")
    # a request the rules reject is refused when it is made, with its code (issue 19)
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=auth("officer"),
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 99_999})
    assert (r.status_code, r.json()["error"]) == (409, "confirmation_above_cap")
    # the administrator turns the requirement off (officers cannot), with a second officer:
    # dropping four-eyes is four-eyes itself (issue 19)
    r = client.put("/api/v1/approval-policy/confirmation", headers=auth("officer"),
                   json={"required": False})
    assert r.status_code == 403
    r = client.put("/api/v1/approval-policy/confirmation", headers=auth("admin"),
                   json={"required": False})
    assert r.status_code == 202 and r.json()["action"] == "set_approval_policy"
    r = client.post(f"/api/v1/approvals/{r.json()['id']}/approve", headers=auth("officer2"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    r = client.post(f"/api/v1/permits/{spine['B']}/confirmations", headers=auth("officer"),
                    json={"pollutant": "SO2", "year": 2026})
    assert r.status_code == 201
    r = client.put("/api/v1/approval-policy/nonsense", headers=auth("admin"),
                   json={"required": False})
    assert r.status_code == 422


def test_audit_log_records_who_what_where(client, spine, auth, browser) -> None:  # type: ignore[no-untyped-def]
    client.post(f"/api/v1/permits/{spine['A']}/surplus-verifications", headers=auth("officer"),
                json={"pollutant": "SO2", "year": 2026, "qty_kg": 1})
    client.post("/api/v1/orders", headers=auth("analyst"), json={})
    rows = client.get("/api/v1/audit", headers=auth("admin")).json()["items"]
    verify = next(r for r in rows if r["action"] == "verify_surplus")
    assert (verify["actor"], verify["role"], verify["via"], verify["target"]) == (
        "officer", "bureau_officer", "token", spine["A"])
    assert verify["ip"] and verify["at"] and verify["status"] == 409
    assert any(r["actor"] == "analyst" and r["status"] == 403 for r in rows)
    logins = client.get("/api/v1/audit?action=login", headers=auth("admin")).json()
    assert logins["total"] == 0
    b = browser("officer")
    page = b.get("/bureau/audit")
    assert page.status_code == 200 and "verify_surplus" in page.text
    logins = client.get("/api/v1/audit?action=login", headers=auth("admin")).json()
    assert logins["items"][0]["actor"] == "officer"


def test_idempotency_key(client, spine, auth) -> None:  # type: ignore[no-untyped-def]
    h = auth("trader_a") | {"Idempotency-Key": "k-1"}
    body = {"name": "once"}
    first = client.post("/api/v1/tokens", headers=h, json=body)
    again = client.post("/api/v1/tokens", headers=h, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    names = [t["name"] for t in client.get("/api/v1/tokens", headers=auth("trader_a")).json()]
    assert names.count("once") == 1
    r = client.post("/api/v1/tokens", headers=h, json={"name": "other"})
    assert (r.status_code, r.json()["error"]) == (409, "idempotency_key_reused")
    # keys belong to the credential: another user may use the same key
    r = client.post("/api/v1/tokens", headers=auth("trader_b") | {"Idempotency-Key": "k-1"},
                    json=body)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


def test_bad_input_gets_its_4xx(client, spine, auth, browser) -> None:  # type: ignore[no-untyped-def]
    h = auth("officer")
    big = "x" * (70 * 1024)
    r = client.post("/api/v1/tokens", headers=h, json={"name": big})
    assert (r.status_code, r.json()["error"]) == (413, "body_too_large")
    r = client.post("/api/v1/tokens", headers=h | {"Content-Type": "text/plain"},
                    content=b'{"name": "x"}')
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    r = client.post("/api/v1/tokens", headers=h | {"Content-Type": "application/json"},
                    content=b"{not json")
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
    b = browser("officer")
    b.get("/bureau")
    r = b.c.post("/bureau/confirmations", json={"permit": "x"},
                 headers={"X-CSRF-Token": b.csrf})
    assert r.status_code == 415


def test_sql_and_html_in_text_fields_are_inert(client, spine, auth, browser) -> None:  # type: ignore[no-untyped-def]
    evil = "<script>alert(1)</script>'; DROP TABLE app_user; --"
    r = client.post("/api/v1/tokens", headers=auth("trader_a"), json={"name": evil[:80]})
    assert r.status_code == 201 and r.json()["name"] == evil[:80]
    b = browser("trader_a")
    page = b.get("/account/tokens").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert client.get("/api/v1/me", headers=auth("officer")).status_code == 200  # table lives
    r = client.get("/api/v1/enterprises", params={"q": "' OR 1=1 --"})
    assert r.status_code == 200 and r.json()["total"] == 0
    o = browser("officer")
    page = o.get("/enterprises?q=%3Cb%3Ex%3C/b%3E")
    assert "<b>x</b>" not in page.text


def test_language_switch(client, spine) -> None:  # type: ignore[no-untyped-def]
    assert "交易市场" in client.get("/").text
    r = client.get("/lang/en?next=/public/permits", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/public/permits"
    page = client.get("/public/permits")
    assert "Public disclosure: permits" in page.text and 'lang="en"' in page.text
    r = client.get("/lang/en?next=//evil.example", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_every_template_text_has_chinese() -> None:
    import re
    from pathlib import Path

    from web.i18n import ZH

    texts = set()
    for f in Path("web/templates").glob("*.html"):
        texts |= set(re.findall(r'_\("([^"]+)"\)', f.read_text(encoding="utf-8")))
        texts |= set(re.findall(r"_\('([^']+)'\)", f.read_text(encoding="utf-8")))
    assert sorted(t for t in texts if t not in ZH) == []


def test_settings_refuse_a_default_secret_outside_development() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match="ERTS_SECRET_KEY"):
        Settings(ERTS_ENV="production")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(ERTS_ENV="production", ERTS_SECRET_KEY="short")  # type: ignore[call-arg]
    s = Settings(ERTS_ENV="production", ERTS_SECRET_KEY="k" * 40)  # type: ignore[call-arg]
    assert s.secure_cookies
    assert not Settings().secure_cookies


def test_scrypt_demo_hashes_verify_and_upgrade() -> None:
    import hashlib

    from identity.passwords import needs_rehash, verify_password

    salt = bytes(range(16))
    digest = hashlib.scrypt(b"demo", salt=salt, n=2**14, r=8, p=1, dklen=32)
    stored = f"scrypt${salt.hex()}${digest.hex()}"
    assert verify_password(stored, "demo") and not verify_password(stored, "demo2")
    assert needs_rehash(stored)


def test_file_routes_take_larger_bodies_than_the_rest() -> None:
    from web.middleware import body_limit

    default = 64 * 1024
    assert body_limit("/api/v1/tokens", default) == default
    assert body_limit("/api/v1/ledger/transfers", default) == 4 * 1024 * 1024
    assert body_limit("/api/v1/compliance/reports/import-xlsx", default) > 1024 * 1024
    assert body_limit("/enterprises/915000001234567890/reports/import", default) > 1024 * 1024
    # a pattern never reaches beyond its own path
    assert body_limit("/enterprises/x/reports/import/more", default) == default
    assert body_limit("/api/v1/ledger/transfers/x/reversal", default) == default
