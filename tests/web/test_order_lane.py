"""The order lane (issue 22, `web.order_lane`): the common order is answered outside the
framework's stack, with the route's answer, refusals and audit row; everything else goes the
long way unchanged.

SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity import service as identity
from tests.integration.spine import A, B
from web import order_lane

pytestmark = pytest.mark.db


def _order(spine: dict[str, str], who: str, **kw: Any) -> dict[str, Any]:
    return {"permit": spine[who], "market": spine["market"], "side": "buy", "qty": 1,
            "price": 100_000, **kw}


def _counts() -> tuple[int, int]:
    return order_lane.STATS.answered, order_lane.STATS.passed


def _audit_rows(platform: Any, action: str) -> list[Any]:
    return list(identity.audit_page(platform.uow(), action=action, limit=100)["items"])


@pytest.fixture
def warm(client: TestClient, auth: Any) -> dict[str, str]:
    """trader_b's token resolved once (a read fills this process's token cache)."""
    headers = auth("trader_b")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    return headers


def test_a_cached_callers_order_takes_the_lane_with_the_routes_answer_and_one_audit_row(
        platform: Any, client: TestClient, spine: dict[str, str], warm: dict[str, str]
        ) -> None:
    answered, passed = _counts()
    r = client.post("/api/v1/orders", json=_order(spine, "B", order_id="lane-1"), headers=warm)
    assert r.status_code == 201, r.text
    assert _counts() == (answered + 1, passed)
    body = r.json()
    assert body["client_order_id"] == "lane-1" and body["status"] == "open"
    assert set(body) == {"order_id", "client_order_id", "status", "qty", "remaining",
                         "filled", "cancelled", "trades"}
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-frame-options"] == "DENY"  # the security headers, as everywhere
    rows = [a for a in _audit_rows(platform, "place_order") if a["target"] == body["order_id"]]
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["actor"], row["status"], row["via"]) == ("trader_b", 201, "token")
    assert row["detail"] == f"buy 1 kg @ 100000 fen/t gtc permit {spine['B']}"
    # the order rests in the book, as the enterprise's list shows
    r = client.get(f"/api/v1/enterprises/{B}/orders", headers=warm)
    assert body["order_id"] in {o["id"] for o in r.json()["items"]}


def test_the_lane_and_the_long_way_answer_alike(
        platform: Any, client: TestClient, spine: dict[str, str], warm: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from web.app import create_app

    monkeypatch.setenv("ERTS_ORDER_LANE", "0")
    with TestClient(create_app(platform.settings, platform)) as long_way:
        answered, passed = _counts()
        slow = long_way.post("/api/v1/orders", json=_order(spine, "B", order_id="s-1"),
                             headers=warm)
        assert _counts() == (answered, passed)  # the lane is off in that app
    fast = client.post("/api/v1/orders", json=_order(spine, "B", order_id="f-1"), headers=warm)
    assert (slow.status_code, fast.status_code) == (201, 201)
    a, b = slow.json(), fast.json()
    for d in (a, b):
        d.pop("order_id"), d.pop("client_order_id")
    assert a == b
    # a rejection (the client id taken) is the route's answer, audited with its status
    monkeypatch.delenv("ERTS_ORDER_LANE")
    again = client.post("/api/v1/orders", json=_order(spine, "B", order_id="f-1"), headers=warm)
    assert again.status_code == 409
    assert again.json() == {"error": "duplicate_order_id", "detail": "order id f-1 is taken",
                            "field": "order_id"}
    statuses = [a["status"] for a in _audit_rows(platform, "place_order")]
    assert statuses.count(409) == 1 and statuses.count(201) == 2


@pytest.mark.parametrize("case", ["invalid", "other_enterprise", "idempotent", "query"])
def test_what_the_lane_does_not_answer_goes_the_long_way(
        case: str, client: TestClient, spine: dict[str, str], warm: dict[str, str]) -> None:
    url, body, headers = "/api/v1/orders", _order(spine, "B"), dict(warm)
    if case == "invalid":
        body["qty"] = "10"
    elif case == "other_enterprise":
        body["enterprise"] = A
    elif case == "idempotent":
        headers["Idempotency-Key"] = "k-1"
    else:
        url += "?x=1"
    answered, passed = _counts()
    r = client.post(url, json=body, headers=headers)
    assert _counts()[0] == answered  # not answered by the lane
    expected = {"invalid": 422, "other_enterprise": 404, "idempotent": 201, "query": 201}
    assert r.status_code == expected[case], r.text
    if case == "invalid":
        assert r.json()["error"] == "invalid_input" and r.json()["field"] == "qty"
        assert _counts()[1] == passed + 1  # read, then handed on with its body
    if case == "idempotent":  # the replay comes from the long way's store
        again = client.post(url, json=body, headers=headers)
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == r.json()


def test_a_revoked_token_is_refused_at_once_in_this_process(
        platform: Any, client: TestClient, spine: dict[str, str], warm: dict[str, str],
        tokens: dict[str, str]) -> None:
    assert client.post("/api/v1/orders", json=_order(spine, "B"), headers=warm).status_code \
        == 201
    principal = identity.principal_of(platform.uow(), "trader_b")
    mine = identity.list_tokens(platform.uow(), viewer=principal, everyone=False)
    identity.revoke_token(platform.uow(), viewer=principal, token_id=mine[0]["id"])
    answered, _ = _counts()
    r = client.post("/api/v1/orders", json=_order(spine, "B"), headers=warm)
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated", r.text
    assert _counts()[0] == answered


def test_a_body_over_the_limit_is_413_as_everywhere(
        client: TestClient, spine: dict[str, str], warm: dict[str, str]) -> None:
    body = dict(_order(spine, "B"), pad="x" * 70_000)
    r = client.post("/api/v1/orders", json=body, headers=warm)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"


def test_a_token_due_is_read_again_in_the_background_not_by_the_request(
        platform: Any, client: TestClient, spine: dict[str, str], warm: dict[str, str],
        tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An order whose cached token is in the second half of its time is answered from the
    cache at once, and the lane reads the token again in the background: afterwards the
    token is trusted for a whole `TOKEN_CACHE_SECONDS` from that read, and no request read
    it itself."""
    import time

    key = identity.digest(tokens["trader_b"])
    until, expires, principal = identity._TOKENS[key]
    aged = time.monotonic() + 0.2 * identity.TOKEN_CACHE_SECONDS  # 80 % of its time gone
    identity._TOKENS[key] = (aged, expires, principal)
    asked: list[str] = []
    monkeypatch.setattr(order_lane.OrderLane, "_token",
                        lambda self, raw: asked.append(raw))  # a request's own read
    began = time.monotonic()
    r = client.post("/api/v1/orders", json=_order(spine, "B"), headers=warm)
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 5
    while identity._TOKENS[key][0] == aged and time.monotonic() < deadline:
        time.sleep(0.01)
    renewed = identity._TOKENS[key][0]
    assert renewed >= began + identity.TOKEN_CACHE_SECONDS  # read again after the request
    assert not identity.tokens_due() and asked == []


def test_tokens_missed_at_once_are_read_together_in_one_statement(
        platform: Any, app: Any, spine: dict[str, str], tokens: dict[str, str]) -> None:
    """After a start every client's first order misses the token cache at once. The lane
    reads the tokens missed together in one statement (not one thread and connection each),
    answers every order from it, and a token that read refuses goes the long way (401)."""
    import asyncio
    import threading

    import httpx
    from sqlalchemy import event

    second = identity.create_token(platform.uow(), owner=identity.principal_of(
        platform.uow(), "trader_b"), name="second")[0]
    callers = [("A", tokens["trader_a"])] * 2 + [("B", tokens["trader_b"])] * 3 + [
        ("B", second)]
    identity.forget_tokens()  # as a process just started
    statements: list[str] = []
    with platform.uow() as uow:
        engine = uow.session.get_bind()

    def seen(_c: Any, _cur: Any, sql: str, *_a: Any) -> None:
        statements.append(sql)

    async def post_all(who: list[tuple[str, str]]) -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://lane") as c:
            return list(await asyncio.gather(*[
                c.post("/api/v1/orders", json=_order(spine, w),
                       headers={"Authorization": f"Bearer {raw}"}) for w, raw in who]))

    def run(who: list[tuple[str, str]]) -> list[httpx.Response]:
        out: list[list[httpx.Response]] = []
        t = threading.Thread(target=lambda: out.append(asyncio.run(post_all(who))))
        t.start()  # a loop of its own (another test's loop may run in this thread)
        t.join(60)
        return out[0]

    answered, passed = _counts()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        got = run(callers)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [r.status_code for r in got] == [201] * len(callers), [r.text for r in got]
    assert _counts() == (answered + len(callers), passed)
    assert len([s for s in statements if "api_token" in s]) == 1, statements
    assert all(identity.cached_token_principal(raw) is not None for _, raw in callers)
    # a token the read refuses: the route answers it, as before
    got = run([("B", "erts_" + "x" * 40)])
    assert got[0].status_code == 401 and got[0].json()["error"] == "not_authenticated"
    assert _counts()[1] == passed + 1
