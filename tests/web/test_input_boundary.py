"""The input boundary (issue 19): the reproductions, each now a test on SQLite and PostgreSQL.

- a NUL byte or another control character in a path, query, JSON body or form field answers
  422 naming the field (on PostgreSQL it used to be a 500 that reset the connection);
- integers are JSON integers within bounds the OpenAPI schema states;
- dates lie within documented bounds; 405 carries `Allow`;
- ids chosen by users match `kernel.ids.USER_ID_PATTERN`, in the API and in the services.
"""

from __future__ import annotations

from typing import Any

import pytest

from kernel.errors import InvalidInput
from kernel.ids import USER_ID_PATTERN, is_user_id, validate_user_id
from tests.integration.spine import A

pytestmark = pytest.mark.db

I64_MAX = 2**63 - 1
# FastAPI writes a body model's bounds as JSON numbers with a fraction: 2^63 - 1 reads back as
# the float nearest to it (the column's own maximum, not one more)
_I64_MAX_IN_JSON = float(I64_MAX)


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 422, (r.status_code, r.text)
    body = r.json()
    assert body["error"] == "invalid_input", body
    assert body["field"] == field, body
    assert set(body) == {"error", "detail", "field"}


# control characters in paths and queries ----------------------------------------------------

PATHS = [
    # (who, method, url, field)
    (None, "GET", "/api/v1/permits/A%00B", "code"),
    (None, "GET", "/api/v1/enterprises?q=x%00y", "q"),
    (None, "GET", "/api/v1/enterprises/A%00B", "code"),
    (None, "GET", "/api/v1/auctions/a%00", "auction_id"),
    (None, "GET", "/api/v1/auctions?market=SO2%00", "market"),
    (None, "GET", "/api/v1/listings?market=%00", "market"),
    (None, "GET", "/api/v1/markets/SO2/Z%1bA/2026", "zone"),
    ("trader_a", "GET", "/api/v1/transfers/t%00", "transfer_id"),
    ("trader_a", "POST", "/api/v1/orders/o%00/cancel", "order_id"),
    ("trader_a", "POST", "/api/v1/listings/l%7F/withdraw", "listing_id"),
    ("admin", "GET", "/api/v1/ledger/holders/h%00/entries", "holder"),
    ("admin", "GET", "/api/v1/audit?actor=a%00", "actor"),
    ("admin", "GET", "/api/v1/audit?action=%C2%85", "action"),  # C1 (NEL), UTF-8 encoded
    ("admin", "POST", "/api/v1/users/u%00/active", "username"),
    ("admin", "POST", "/api/v1/users/u%0A/scope", "username"),  # a line feed in a name
]


@pytest.mark.parametrize(("who", "method", "url", "field"), PATHS)
def test_control_characters_in_paths_and_queries_are_refused(
        client, auth, who: str | None, method: str, url: str, field: str) -> None:  # type: ignore[no-untyped-def]
    headers = auth(who) if who else {}
    kw: dict[str, Any] = {"json": {}} if method == "POST" else {}
    r = client.request(method, url, headers=headers, **kw)
    _refused(r, field)
    # the connection survives: the next request on the same database is answered
    assert client.get("/api/v1/enterprises").status_code == 200


def test_ordinary_unicode_passes_the_boundary(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/enterprises", params={"q": "重庆 电厂\u3000"})
    assert r.status_code == 200, r.text


# control characters in JSON bodies ---------------------------------------------------------

@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\tb", "a\nb"])
def test_names_refuse_every_control_character(client, auth, bad: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/tokens", json={"name": bad}, headers=auth("trader_a"))
    _refused(r, "name")


@pytest.mark.parametrize("bad", ["x\x00", "\x08", "a\x0cb", "\x9f"])
def test_free_text_refuses_control_characters(client, auth, spine, bad: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/markets/SO2/ZA1/2026/state",
                    json={"state": "halted", "reason": bad}, headers=auth("officer"))
    _refused(r, "reason")


def test_free_text_keeps_tabs_and_line_breaks(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/markets/SO2/ZA1/2026/state",
                    json={"state": "halted", "reason": "line one\r\n\tline two"},
                    headers=auth("officer"))
    assert r.status_code == 200, r.text


def test_nested_strings_and_free_form_documents_are_scanned(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/allocation/scenarios", headers=auth("officer"),
                    json={"name": "s", "params": {"zones": ["ZA1", "Z\x00"]}})
    _refused(r, "params.zones.1")


# strict integers and bounds ----------------------------------------------------------------

def _order(spine: dict[str, str], **over: Any) -> dict[str, Any]:
    return {"permit": spine["A"], "market": spine["market"], "side": "sell", "qty": 100,
            "price": 300_000, **over}


@pytest.mark.parametrize("loose", ["10", 10.0, True, "1_000", "１０", None])
def test_integer_quantities_are_json_integers_only(client, auth, spine, loose: Any) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/orders", json=_order(spine, qty=loose), headers=auth("trader_a"))
    _refused(r, "qty")


@pytest.mark.parametrize("loose", ["300000", 300000.0, False])
def test_integer_prices_are_json_integers_only(client, auth, spine, loose: Any) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/orders", json=_order(spine, price=loose),
                    headers=auth("trader_a"))
    _refused(r, "price")


@pytest.mark.parametrize("huge", [9_220_000_000_000_000_000, 2**63, 2**64 + 1, 10**13])
def test_integers_past_their_bounds_are_refused(client, auth, spine, huge: int) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/orders", json=_order(spine, qty=huge), headers=auth("trader_a"))
    _refused(r, "qty")
    if huge <= 10**15:  # an order's bound is 10^12 kg; a verification's is MAX_KG
        return
    r = client.post(f"/api/v1/permits/{spine['A']}/surplus-verifications",
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": huge},
                    headers=auth("officer"))
    _refused(r, "qty_kg")


def test_a_9_22e18_kg_value_is_refused_in_every_integer_field(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/reserve/requests", headers=auth("officer"),
                    json={"permit": spine["A"], "pollutant": "SO2", "year": 2026,
                          "qty_kg": 9_220_000_000_000_000_000})
    _refused(r, "qty_kg")


def test_query_integers_past_64_bits_are_refused(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/users", params={"offset": str(2**64)}, headers=auth("admin"))
    _refused(r, "offset")


# dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("first", ["0001-01-01", "1989-12-31", "2101-01-01"])
def test_dates_outside_the_documented_bounds_are_refused(client, auth, spine,  # type: ignore[no-untyped-def]
                                                         first: str) -> None:
    r = client.get("/api/v1/compliance/reports/missing", params={"on": first},
                   headers=auth("officer"))
    _refused(r, "on")


def test_an_hour_in_year_one_is_refused(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.spine import B

    r = client.post("/api/v1/transfers", headers=auth("trader_a"), json={
        "market": spine["market"], "seller_permit": spine["A"], "buyer": B,
        "buyer_permit": spine["B"], "qty": 100, "price": 300_000,
        "expires_at": "0001-01-01T00:00:00"})
    _refused(r, "expires_at")


# 405 ---------------------------------------------------------------------------------------

def test_405_carries_allow_with_every_method_of_the_path(client) -> None:  # type: ignore[no-untyped-def]
    r = client.put("/api/v1/tokens", json={})
    assert r.status_code == 405
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed
    assert r.json()["error"] == "method_not_allowed"


# ids chosen by users -----------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@SUM(A1)", "a b", "a\x00",
            "", "x" * 65, "中文"]


@pytest.mark.parametrize("bad", FORMULAS)
def test_user_ids_match_one_pattern(bad: str) -> None:
    assert not is_user_id(bad)
    with pytest.raises(InvalidInput):
        validate_user_id(bad, "listing_id")


def test_the_pattern_takes_the_ids_the_platform_makes() -> None:
    for ok in ["lst-0123456789abcdef", "0f3a", "A.b_c:d-e", "x" * 64]:
        assert is_user_id(ok), ok
    assert USER_ID_PATTERN.startswith("^[A-Za-z0-9]")


@pytest.mark.parametrize(("url", "field", "extra"), [
    ("/api/v1/listings", "listing_id", {"market": "SO2/ZA1/2026", "qty": 100,
                                        "price": 300_000}),
    ("/api/v1/orders", "order_id", None),
])
def test_api_refuses_formula_ids(client, auth, spine, url: str, field: str,  # type: ignore[no-untyped-def]
                                 extra: dict[str, Any] | None) -> None:
    body = dict(extra or _order(spine))
    if "permit" not in body:
        body["permit"] = spine["A"]
    body[field] = "=HYPERLINK(\"http://evil\",\"x\")"
    r = client.post(url, json=body, headers=auth("trader_a"))
    _refused(r, field)


def test_services_refuse_formula_ids(platform, spine) -> None:  # type: ignore[no-untyped-def]
    from trading import listing_service as listings
    from trading import transfer_service as transfers

    with pytest.raises(InvalidInput) as err:
        listings.create_listing(platform.uow(), market=spine["market"], seller=A,
                                permit=spine["A"], qty=100, price=300_000,
                                permits=platform.permits, actor="t", listing_id="=1+1")
    assert err.value.field == "listing_id"
    with pytest.raises(InvalidInput) as err:
        transfers.propose_transfer(platform.uow(), market=spine["market"], seller=A,
                                   seller_permit=spine["A"], buyer="x", buyer_permit="y",
                                   qty=100, price=300_000, permits=platform.permits,
                                   actor="t", transfer_id="@cmd")
    assert err.value.field == "transfer_id"


# the schema states the bounds --------------------------------------------------------------

def _walk(schema: Any, components: dict[str, Any], where: str, seen: set[str],
          out: list[tuple[str, dict[str, Any]]]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _walk(item, components, where, seen, out)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _walk(components[name], components, name, seen, out)
        return
    if schema.get("type") == "integer":
        out.append((where, schema))
    for key, value in schema.items():
        if key == "properties":
            for prop, sub in value.items():
                _walk(sub, components, f"{where}.{prop}", seen, out)
        elif isinstance(value, (dict, list)):
            _walk(value, components, where, seen, out)


def test_openapi_states_integer_bounds_that_fit_64_bits(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    order_qty = components["OrderIn"]["properties"]["qty"]
    assert order_qty["type"] == "integer"
    assert order_qty["minimum"] >= 1 and order_qty["maximum"] <= 10**15
    ints: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            for p in op.get("parameters", []):
                _walk(p["schema"], components, f"{where} {p['name']}", seen, ints)
            for media in op.get("requestBody", {}).get("content", {}).values():
                _walk(media["schema"], components, where, seen, ints)
    assert len(ints) > 50
    unbounded = [w for w, s in ints
                 if ("minimum" not in s and "exclusiveMinimum" not in s)
                 or "maximum" not in s or s["maximum"] > _I64_MAX_IN_JSON]
    assert unbounded == []


def test_openapi_documents_one_error_shape_for_422(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for ops in schema["paths"].values():
        for op in ops.values():
            ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody")


def test_validation_errors_always_name_a_field(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/tokens", json={}, headers=auth("trader_a"))
    _refused(r, "name")
    r = client.post("/api/v1/tokens", content=b"{not json", headers={
        **auth("trader_a"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body", r.text


# page forms --------------------------------------------------------------------------------

def test_a_form_field_with_a_control_character_gets_the_page_error(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/login", data={"username": "admin\x00", "password": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "username" in r.text and "不允许包含控制字符" in r.text


@pytest.mark.parametrize(("body", "field"), [
    (b"note=line+one%0D%0A%09line+two&x=1", None),  # a textarea: CR LF and tab pass
    (b"note=a%00b", "note"),
    (b"a=1&note=%1B%5B2J", "note"),
    (b"note=%C2%9B", "note"),  # C1, UTF-8 encoded
    (b"note=a\x7fb", "note"),  # a raw DEL byte
])
def test_form_bodies_keep_line_breaks_and_refuse_other_controls(body: bytes,
                                                                 field: str | None) -> None:
    from web.boundary import refused_field

    scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"",
             "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
             "state": {"raw_body": body}}
    assert refused_field(scope) == field


def test_multipart_bodies_are_left_to_their_readers() -> None:
    from web.boundary import refused_field

    scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"",
             "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
             "state": {"raw_body": b"--b\r\n\x00\x01binary"}}
    assert refused_field(scope) is None
