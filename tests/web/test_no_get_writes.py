"""No GET writes (issue 19, "Roles as described"): every GET route of the app, API and pages,
as every role (anonymous, bureau officer and administrator, a district officer, a department
officer, an analyst, a trader), over the demo municipality with a few objects added (stored
scenarios run and never run, a computation run, an approval request, an alert), leaves every
table of the database exactly as it was: each table's row count and a hash of all its rows
are compared before and after the walk (SQLite and PostgreSQL).

Path parameters take real ids of the database (and the trader's own enterprise and permit),
and query parameters that routes require or that pick an object (`a`, `b`, `run`, `year`,
`permit`, ...) take real values too, so each route reaches its use case rather than a 404.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.demo import load_demo
from tests.web.conftest import login

pytestmark = pytest.mark.db

USERS = ["officer", "admin", "district_officer", "enforcer", "analyst", "trader1"]
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
#: routes whose GET is not the app's (documents, files)
SKIP = ("/openapi.json", "/static", "/vendor", "/docs", "/redoc")


def walk_routes(routes: Any, prefix: str = "") -> Iterator[tuple[str, set[str], Any]]:
    """(path, methods, route) of every route, through included routers."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from walk_routes(inner.routes, prefix + r.include_context.prefix)
        elif getattr(r, "methods", None):
            yield prefix + r.path, set(r.methods), r


def get_routes(app: Any) -> list[tuple[str, list[str]]]:
    """Every GET route: its path template and the names of its query parameters."""
    out = []
    for path, methods, route in walk_routes(app.routes):
        if "GET" not in methods or path.startswith(SKIP):
            continue
        dependant = getattr(route, "dependant", None)
        names = [q.alias or q.name for q in dependant.query_params] if dependant else []
        out.append((path, names))
    return sorted(out)


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Per table: (row count, sha256 of all its rows in a stable order)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        out = {}
        with engine.connect() as c:
            for name, table in sorted(meta.tables.items()):
                rows = sorted(repr(tuple(r)) for r in c.execute(sa.select(table)))
                digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
                out[name] = (len(rows), digest)
        return out
    finally:
        engine.dispose()


def first(platform: Any, sql: str, **params: Any) -> Any:
    with platform.uow() as uow:
        return uow.session.execute(sa.text(sql), params).scalar()


@pytest.fixture
def demo(platform: Any, app: Any) -> dict[str, Any]:
    """The demo municipality, tokens and sessions of its users, and a few objects the demo
    does not make; returns the values routes take."""
    from identity import service as identity

    summary = load_demo(platform, seed=7, enterprises=40)
    code = summary.traders["trader1"][0]
    tokens = {}
    for name in USERS:
        principal = identity.principal_of(platform.uow(), name)
        tokens[name] = identity.create_token(platform.uow(), owner=principal, name="walk")[0]
    api = TestClient(app)

    def post(who: str, url: str, body: Any) -> Any:
        return api.post(url, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})

    ids = []
    for name, doc in (("walk run", {"indicators": [{"change_pct": -5}]}),
                      ("walk never run a", {}),
                      ("walk never run b", {"utilisation_hours": 5000})):
        r = post("analyst", "/api/v1/allocation/scenarios", {"name": name, **doc})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = post("analyst", f"/api/v1/allocation/scenarios/{ids[0]}/runs", {})
    assert r.status_code == 201, r.text
    scenario_run = r.json()["id"]
    r = post("officer", "/api/v1/allocation/computations", {})
    assert r.status_code == 201, r.text
    computation = r.json()["id"]
    permit = first(platform, "SELECT code FROM permit WHERE enterprise = :e ORDER BY code",
                   e=code)
    pollutant = first(platform, "SELECT pollutant FROM permit_quantity WHERE permit = :p "
                                "ORDER BY pollutant", p=permit)
    r = post("officer", f"/api/v1/permits/{permit}/confirmations",
             {"pollutant": pollutant, "year": 2026, "qty_kg": 1})
    assert r.status_code in (201, 202, 409, 422), r.text
    zone = first(platform, "SELECT code FROM zone ORDER BY code")
    r = post("officer", "/api/v1/alerts", {"level": "yellow", "zones": [zone],
                                           "first_day": "2026-12-20",
                                           "last_day": "2026-12-21"})
    assert r.status_code < 500, r.text
    r = post("officer", "/api/v1/clues", {"permit": permit, "description": "walk"})
    assert r.status_code == 201, r.text
    r = post("officer", "/api/v1/reserve/plans", {"year": 2026, "applicants": "headroom"})
    assert r.status_code < 500, r.text
    r = post("officer", "/api/v1/auctions", {"market": summary.showcase_market,
                                             "offered": 1, "reserve_price": 1})
    assert r.status_code < 500, r.text
    api.close()
    pol, mzone, vintage = summary.showcase_market.split("/")  # type: ignore[union-attr]

    def ids_of(table: str, column: str = "id") -> list[Any]:
        v = first(platform, f"SELECT {column} FROM {table} ORDER BY {column}")  # noqa: S608
        return [v] if v is not None else [1]

    account = first(platform, "SELECT id FROM ledger_account WHERE holder = :h ORDER BY id",
                    h=code)
    return {
        "tokens": tokens,
        "path": {
            "code": [code, permit, "en"],
            "pollutant": [pol], "zone": [mzone], "vintage": [vintage],
            "approval_id": ids_of("approval_request"),
            "auction_id": ids_of("auction"),
            "transfer_id": ids_of("negotiated_transfer"),
            "import_id": ids_of("permit_import"),
            "plan_id": ids_of("reserve_plan"),
            "scenario_id": [ids[0], ids[1]],
            "run_id": [computation, scenario_run],
            "account_id": [account or 1],
            "holder": [code, "BUREAU"],
        },
        "query": {
            "a": str(ids[1]), "b": str(ids[2]), "run": str(scenario_run),
            "year": "2026", "quarter": "1", "permit": permit, "first": "2026-01-01",
            "last": "2026-01-31", "alert": str(ids_of("pollution_alert")[0]),
            "clue": str(ids_of("problem_clue")[0]), "market": summary.showcase_market,
            "code": code, "entry": "0", "from": "1", "to": "2",
        },
        "compare_pairs": [(ids[1], ids[2]), (ids[0], ids[1])],
    }


def urls(path: str, query_names: list[str], values: dict[str, Any]) -> list[str]:
    """The URLs to GET for one route: every combination of its path parameters' values,
    with the query parameters it knows that have a value."""
    names = PARAM.findall(path)
    choices = [values["path"].get(n, ["1"]) for n in names]
    query = {q: values["query"][q] for q in query_names if q in values["query"]}
    out = []
    for combo in itertools.product(*choices):
        url = path
        for n, v in zip(names, combo, strict=True):
            url = re.sub(r"\{" + n + r"(?::\w+)?\}", str(v), url, count=1)
        out.append(url)
        if query:
            out.append(url + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
    if "a" in query:  # both comparisons: never run with never run, run with never run
        base = out[0]
        out += [f"{base}?a={a}&b={b}" for a, b in values["compare_pairs"]]
    return out


def test_no_get_route_writes(platform: Any, app: Any, db_url: str,
                             demo: dict[str, Any]) -> None:
    routes = get_routes(app)
    assert len(routes) > 100
    # clients first: logging in writes (sessions, attempts); the walk must not
    # the API as each user's token, the pages as each user's log-in session
    anonymous = TestClient(app)
    api_clients: list[tuple[str, TestClient, dict[str, str]]] = [("anonymous", anonymous, {})]
    page_clients: list[tuple[str, TestClient, dict[str, str]]] = [("anonymous", anonymous, {})]
    for name in USERS:
        page = TestClient(app)
        login(page, name, "demo")
        page_clients.append((name, page, {}))
        api_clients.append((name, anonymous,
                            {"Authorization": f"Bearer {demo['tokens'][name]}"}))
    before = snapshot(db_url)
    answered: dict[int, int] = {}
    server_errors = []
    reached = set()
    for path, query_names in routes:
        clients = api_clients if path.startswith("/api/") else page_clients
        for url in urls(path, query_names, demo):
            for who, client, headers in clients:
                r = client.get(url, headers=headers, follow_redirects=False)
                answered[r.status_code] = answered.get(r.status_code, 0) + 1
                if r.status_code >= 500:
                    server_errors.append((who, url, r.status_code))
                if r.status_code == 200:
                    reached.add(path)
    after = snapshot(db_url)
    changed = {t: (before.get(t), after.get(t)) for t in set(before) | set(after)
               if before.get(t) != after.get(t)}
    assert changed == {}, f"GET requests wrote to {sorted(changed)}"
    assert server_errors == []
    # the walk reached the routes' use cases, not only their refusals
    unreached = sorted(p for p, _ in routes if p not in reached)
    assert len(unreached) <= len(routes) // 10, unreached
    for _who, client, _h in page_clients:
        client.close()


def test_compare_computes_a_scenario_never_run_without_storing_it(
        platform: Any, app: Any, demo: dict[str, Any]) -> None:
    a, b = demo["compare_pairs"][0]
    headers = {"Authorization": f"Bearer {demo['tokens']['analyst']}"}
    runs = first(platform, "SELECT count(*) FROM scenario_run")
    with TestClient(app) as c:
        r = c.get(f"/api/v1/allocation/scenarios/compare?a={a}&b={b}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["runs"] == {"a": None, "b": None}
        assert r.json()["by_pollutant"]
        ran, never = demo["compare_pairs"][1]
        r = c.get(f"/api/v1/allocation/scenarios/compare?a={ran}&b={never}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["runs"]["a"] is not None and r.json()["runs"]["b"] is None
        page = TestClient(app)
        login(page, "analyst", "demo")
        r = page.get(f"/analyst/compare?a={a}&b={b}")
        assert r.status_code == 200 and "?run=None" not in r.text
        assert "未运行" in r.text or "not run" in r.text
        page.close()
        # storing is a POST: the run then shows in the comparison
        r = c.post(f"/api/v1/allocation/scenarios/{a}/runs", json={}, headers=headers)
        assert r.status_code == 201, r.text
        stored = r.json()["id"]
        r = c.get(f"/api/v1/allocation/scenarios/compare?a={a}&b={b}", headers=headers)
        assert r.json()["runs"] == {"a": stored, "b": None}
    assert first(platform, "SELECT count(*) FROM scenario_run") == runs + 1
