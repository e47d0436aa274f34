"""Authorization: every role against every endpoint, API and pages.

Each route of the app is listed once with who may call it; a test fails when a route is
added without an entry here. Denied is 401 (no credentials), 403 (role, or a department
acting outside its area) or 404 (another enterprise's object, or for a district officer an
object of another district), and a denied answer never carries data.

Levels and departments (issue 17): `district_other` is a district officer of D02 (A and B
are in D01), `approver`, `monitor` and `enforcer` are city officers of one department each.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.spine import A
from web.pages.exports import EXPORT_PATHS

pytestmark = pytest.mark.db

ROLES = ["anonymous", "officer", "admin", "analyst", "trader_a", "trader_b",
         "district_other", "approver", "monitor", "enforcer"]
#: the users of levels and departments: (district, department)
SCOPED = {"district_other": ("D02", None), "approver": (None, "approval"),
          "monitor": (None, "monitoring"), "enforcer": (None, "enforcement")}
DEPT = {u: d for u, (_, d) in SCOPED.items() if d}
#: department → the permissions it may exercise on writes (identity.roles.DEPARTMENTS)
DEPT_WRITES = {
    "approval": {"rights:confirm", "rights:verify", "permit:manage", "approval:decide"},
    "monitoring": {"monitoring:write", "violation:open"},
    "enforcement": {"violation:open", "penalty:decide"},
}
DEPT_BOUND = set().union(*DEPT_WRITES.values())
#: routes shared with traders whose bureau side is bound to a department in the route
IN_ROUTE = {("POST", "/api/v1/monitoring/imports"): "monitoring:write",
            ("POST", "/api/v1/clues/actions"): "monitoring:write"}
BUREAU = {"officer", "admin"} | set(SCOPED)
HOLDERS = {  # identity.roles.PERMISSIONS, by test user
    "registry:read": BUREAU | {"analyst"},
    "enterprise:read": BUREAU | {"trader_a", "trader_b"},
    "order:place": {"trader_a", "trader_b"},
    "rights:confirm": BUREAU, "rights:verify": BUREAU, "market:state": BUREAU,
    "ledger:read": BUREAU | {"analyst"}, "audit:read": BUREAU, "approval:read": BUREAU,
    "approval:decide": BUREAU, "approval:policy": {"admin"}, "user:manage": {"admin"},
    "token:own": set(ROLES) - {"anonymous"}, "ledger:write": {"admin"},
    "permit:manage": BUREAU, "monitoring:write": BUREAU, "violation:open": BUREAU,
    "penalty:decide": BUREAU,
}
# the ledger API (web/api/ledger.py) is guarded as a whole in web/app.py
LEDGER = "/api/v1/ledger/"
LEDGER_IDS = {"account_id": "1", "pending_id": "nope", "transfer_id": "nope",
              "holder": "BUREAU"}

# (method, path template, access, body). access: "public", a permission, or "own:<perm>"
# (the permission, and the object belongs to enterprise A: trader_b gets 404).
API = [
    ("GET", "/api/v1/me", "token:own", None),
    # notifications and the workbench (issue 18): every logged-in user, their own
    ("GET", "/api/v1/notifications", "token:own", None),
    ("POST", "/api/v1/notifications/read", "token:own", {"ids": []}),
    ("GET", "/api/v1/workbench", "token:own", None),
    ("GET", "/api/v1/enterprises", "public", None),
    ("GET", "/api/v1/enterprises/{code}", "own:enterprise:read", None),
    ("GET", "/api/v1/enterprises/{code}/orders", "own:enterprise:read", None),
    ("GET", "/api/v1/enterprises/{code}/trades", "own:enterprise:read", None),
    ("GET", "/api/v1/enterprises/{code}/statements/trades.csv", "own:enterprise:read", None),
    ("GET", "/api/v1/permits/{code}", "public", None),
    ("POST", "/api/v1/permits/{code}/confirmations", "rights:confirm",
     {"pollutant": "SO2", "year": 2026, "qty_kg": 1}),
    ("GET", "/api/v1/confirmations/queue", "rights:confirm", None),  # bulk (issue 18)
    ("POST", "/api/v1/confirmations/batch", "rights:confirm",
     {"permits": ["91500000XXXXXXXXXX009Z"], "year": 2026}),
    ("POST", "/api/v1/permits/{code}/surplus-verifications", "rights:verify",
     {"pollutant": "SO2", "year": 2026, "qty_kg": 1}),
    ("GET", "/api/v1/markets", "public", None),
    ("GET", "/api/v1/markets/{pollutant}/{zone}/{vintage}", "public", None),
    ("GET", "/api/v1/markets/{pollutant}/{zone}/{vintage}/prices", "public", None),
    ("POST", "/api/v1/markets/{pollutant}/{zone}/{vintage}/state", "market:state",
     {"state": "open"}),
    ("POST", "/api/v1/orders", "order:place", "ORDER"),
    ("POST", "/api/v1/orders/{order_id}/cancel", "own:order:place", {}),
    ("GET", "/api/v1/ledger/asset-sums", "ledger:read", None),
    ("GET", "/api/v1/tokens", "token:own", None),
    ("POST", "/api/v1/tokens", "token:own", {"name": "matrix"}),
    ("POST", "/api/v1/tokens/{token_id}/revoke", "own:token:own", None),
    ("POST", "/api/v1/account/password", "token:own", {}),  # any signed-in user (issue 18)
    ("GET", "/api/v1/audit", "audit:read", None),
    ("GET", "/api/v1/approvals", "approval:read", None),
    ("GET", "/api/v1/approvals/{approval_id}", "approval:read", None),
    ("POST", "/api/v1/approvals/{approval_id}/approve", "approval:decide", None),
    ("POST", "/api/v1/approvals/{approval_id}/reject", "approval:decide", {}),
    ("GET", "/api/v1/approval-policy", "approval:read", None),
    ("PUT", "/api/v1/approval-policy/{tx_type}", "approval:policy", {"required": True}),
    ("GET", "/api/v1/users", "user:manage", None),
    ("POST", "/api/v1/users", "user:manage", "USER"),
    ("POST", "/api/v1/users/{username}/active", "user:manage", {"active": True}),
    ("POST", "/api/v1/users/{username}/scope", "user:manage", {"district": None}),
    # compliance (web/api/compliance.py): the bureau, and traders for their own enterprise
    ("POST", "/api/v1/compliance/outlets", "rights:confirm",
     {"permit": "nope", "outlet": "DA001", "medium": "air"}),
    ("POST", "/api/v1/compliance/reports", "enterprise:read",
     {"permit": "nope", "year": 2026, "period": "Y",
      "lines": [{"outlet": "DA001", "pollutant": "SO2", "quantity": "1"}]}),
    ("POST", "/api/v1/compliance/reports/import", "enterprise:read",
     {"csv": "permit\n", "partial": True}),
    ("GET", "/api/v1/compliance/enterprises/{code}/reports", "own:enterprise:read", None),
    ("GET", "/api/v1/compliance/reports/missing", "rights:confirm", None),
    ("GET", "/api/v1/compliance/enterprises/{code}/status", "own:enterprise:read", None),
    ("GET", "/api/v1/compliance/enterprises/{code}/tax-return", "rights:confirm", None),
    # the tax (web/api/tax.py): a computation on the data sent; traders for their own
    ("POST", "/api/v1/compliance/tax-return", "enterprise:read", {
        "year": 2026, "quarter": 1, "outlets": [{
            "outlet": "DA001", "medium": "air", "source_kind": "process",
            "months": [{"month": 1, "pollutants": [{"pollutant": "SO2", "kg": 95}]}]}]}),
    ("PUT", "/api/v1/compliance/outlets/{permit}/{outlet}/source-kind", "rights:confirm",
     {"source_kind": "combustion"}),
    ("GET", "/api/v1/compliance/statistics.csv", "rights:confirm", None),
    ("POST", "/api/v1/compliance/true-ups", "rights:confirm", {"permit": "nope", "year": 2026}),
    # api: supervision (monitoring, clues)
    ("POST", "/api/v1/monitoring/imports", "enterprise:read", {"csv": "permit\n", "partial": True}),
    ("GET", "/api/v1/monitoring/imports", "enterprise:read", None),
    ("POST", "/api/v1/monitoring/imports/{import_id}/void", "monitoring:write",
     {"reason": "r"}),
    ("GET", "/api/v1/monitoring/daily", "enterprise:read", None),
    ("GET", "/api/v1/monitoring/totals", "enterprise:read", None),
    ("POST", "/api/v1/monitoring/report-checks", "monitoring:write",
     {"permit": "nope", "year": 2026, "period": "Y"}),
    ("GET", "/api/v1/monitoring/report-checks", "enterprise:read", None),
    # api: alerts
    ("GET", "/api/v1/alerts", "token:own", None),
    ("POST", "/api/v1/alerts", "monitoring:write",
     {"level": "red", "zones": ["NOPE"], "first_day": "2100-01-01", "last_day": "2100-01-02"}),
    ("POST", "/api/v1/alerts/lift", "monitoring:write", {"alert": 999}),
    ("POST", "/api/v1/alerts/checks", "monitoring:write", {"alert": 999}),
    ("GET", "/api/v1/alerts/caps", "token:own", None),
    ("GET", "/api/v1/alerts/breaches", "token:own", None),
    ("GET", "/api/v1/alerts/region", "token:own", None),
    ("GET", "/api/v1/alerts/measures", "token:own", None),
    ("POST", "/api/v1/alerts/measures", "monitoring:write", {"permit": "NOPE", "grade": "B"}),
    ("GET", "/api/v1/clues", "enterprise:read", None),
    ("GET", "/api/v1/clues/detail", "enterprise:read", None),
    ("POST", "/api/v1/clues", "monitoring:write", {"permit": "NOPE", "description": "d"}),
    ("POST", "/api/v1/clues/actions", "enterprise:read", {"clue": 999, "action": "close"}),
    # api: true-up, recovery
    ("GET", "/api/v1/compliance/true-ups", "rights:confirm", None),
    ("GET", "/api/v1/compliance/violations", "rights:confirm", None),
    ("POST", "/api/v1/allocation/standard-decisions", "permit:manage",
     {"flag": 1, "decision": "recover"}),
    # api: disclosure
    ("GET", "/api/v1/public/permits", "public", None),
    ("GET", "/api/v1/public/trades", "public", None),
    ("GET", "/api/v1/public/compliance", "public", None),
    ("GET", "/api/v1/public/penalties", "public", None),
    # api: the ledger's transparency log (issue 16)
    ("GET", "/api/v1/public/ledger/checkpoints", "public", None),
    ("GET", "/api/v1/public/ledger/proofs/inclusion", "public", None),
    ("GET", "/api/v1/public/ledger/proofs/consistency", "public", None),
    ("GET", "/api/v1/enterprises/{code}/ledger/proofs/inclusion", "own:enterprise:read", None),
    ("GET", "/api/v1/penalties/violations", "rights:confirm", None),
    ("POST", "/api/v1/penalties", "penalty:decide",
     {"violation": 1, "number": "X-1", "amount_fen": 20_000_000, "decided_on": "2026-01-05",
      "summary": "s"}),
    ("POST", "/api/v1/penalties/corrections", "penalty:decide", {"number": "nope", "reason": "r"}),
    ("POST", "/api/v1/penalties/withdrawals", "penalty:decide", {"number": "nope", "reason": "r"}),
    ("GET", "/api/v1/penalties/violation-kinds", "rights:confirm", None),
    ("POST", "/api/v1/penalties/violations", "violation:open",
     {"permit": "nope", "kind": "records_failure", "occurred_on": "2026-05-01",
      "facts": "f"}),
    ("POST", "/api/v1/penalties/violations/{violation_id}/transfer", "violation:open",
     {"department": "d", "transferred_on": "2026-05-02"}),
    ("POST", "/api/v1/penalties/violations/{violation_id}/result", "penalty:decide",
     {"result": "r", "result_on": "2026-05-03"}),
    ("POST", "/api/v1/penalties/violations/from-clue", "violation:open", {"clue": 999_999}),
    ("POST", "/api/v1/penalties/missing-reports", "violation:open",
     {"year": 2025, "period": "Y"}),
    ("POST", "/api/v1/compliance/reports/import-xlsx", "enterprise:read", {"xlsx_base64": "AAAA"}),
    # api: the administrative penalty procedure (web/api/penalty_cases.py)
    ("GET", "/api/v1/penalties/cases", "enterprise:read", None),
    ("GET", "/api/v1/penalties/cases/{case_id}", "enterprise:read", None),
    ("POST", "/api/v1/penalties/cases", "penalty:decide",
     {"violation": 999_999, "number": "N-x", "proposed_fen": 20_000_000}),
    ("POST", "/api/v1/penalties/cases/{case_id}/statement", "order:place", {"statement": "s"}),
    ("POST", "/api/v1/penalties/cases/{case_id}/hearing-request", "order:place", {}),
    ("POST", "/api/v1/penalties/cases/{case_id}/hearing-notice", "penalty:decide",
     {"hearing_on": "2026-05-20", "place": "p"}),
    ("POST", "/api/v1/penalties/cases/{case_id}/hearing", "penalty:decide",
     {"held_on": "2026-05-03", "record": "r"}),
    ("POST", "/api/v1/penalties/cases/{case_id}/decision", "penalty:decide",
     {"number": "D-x", "amount_fen": 20_000_000, "summary": "s"}),
    ("POST", "/api/v1/penalties/cases/{case_id}/service", "penalty:decide", {"method": "post"}),
    ("POST", "/api/v1/penalties/cases/{case_id}/payment", "penalty:decide", {}),
    # api: surveillance
    ("GET", "/api/v1/surveillance/flags", "market:state", None),
    # api: the permit register (web/api/register.py); {code} is A's credit code: no permit
    ("POST", "/api/v1/permit-imports", "rights:confirm", {"content": "x", "dry_run": True}),
    ("GET", "/api/v1/permit-imports", "rights:confirm", None),
    ("GET", "/api/v1/permit-imports/{import_id}", "rights:confirm", None),
    ("GET", "/api/v1/permit-register/expiring", "rights:confirm", None),
    ("GET", "/api/v1/permits/{code}/register", "public", None),
    ("POST", "/api/v1/permits/{code}/changes", "rights:confirm",
     {"quantities": [{"pollutant": "SO2", "year": 2026, "qty_kg": 1}], "reason": "r"}),
    ("POST", "/api/v1/permits/{code}/renewals", "rights:confirm",
     {"applied_on": "2026-01-01", "reason": "r"}),
    ("POST", "/api/v1/permits/{code}/revocations", "rights:confirm", {"reason": "r"}),
    ("POST", "/api/v1/permits/{code}/cancellations", "rights:confirm", {"reason": "r"}),
    # api: paid use of rights
    ("GET", "/api/v1/paid-use/bills", "enterprise:read", None),
    ("POST", "/api/v1/paid-use/bills/{bill_id}/pay", "own:order:place", None),
    ("GET", "/api/v1/paid-use/base-prices", "public", None),
    ("POST", "/api/v1/paid-use/unit-kinds", "rights:confirm",
     {"permit": "nope", "unit_kind": "new"}),
    ("POST", "/api/v1/paid-use/plans/{plan_id}/prices", "rights:confirm",
     {"prices": {"SO2": 97_600}}),
    # api: documents (issue 18)
    ("GET", "/api/v1/trades/{trade_id}/confirmation.pdf", "enterprise:read", None),
    ("GET", "/api/v1/penalties/decision.pdf", "enterprise:read", None),
    ("GET", "/api/v1/paid-use/bills/{bill_id}/notice.pdf", "own:enterprise:read", None),
    # api: the market simulation (issue 21): analysts and the bureau
    ("POST", "/api/v1/simulations", "registry:read", {"scenario": 999999, "seeds": 1,
                                                       "days": 1}),
    ("GET", "/api/v1/simulations", "registry:read", None),
    ("GET", "/api/v1/simulations/parameters", "registry:read", None),
    ("GET", "/api/v1/simulations/compare", "registry:read", None),
    ("GET", "/api/v1/simulations/{run_id}", "registry:read", None),
]

PAGES = [
    ("GET", "/", "public"),
    ("GET", "/login", "public"),
    ("GET", "/lang/{code}", "public"),
    ("GET", "/public/permits", "public"),
    ("GET", "/public/enterprises/{code}", "public"),
    ("GET", "/public/prices", "public"),
    ("GET", "/markets/{pollutant}/{zone}/{vintage}", "public"),
    ("GET", "/enterprises", "registry:read"),
    ("GET", "/enterprises/{code}", "own:enterprise:read"),
    ("GET", "/enterprises/{code}/depth", "own:enterprise:read"),
    ("GET", "/enterprises/{code}/statements/trades.csv", "own:enterprise:read"),
    ("GET", "/enterprises/{code}/statements/holdings.csv", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/orders", "own:order:place"),
    ("POST", "/enterprises/{code}/orders/{order_id}/cancel", "own:order:place"),
    ("GET", "/bureau", "rights:confirm"),
    ("POST", "/bureau/confirmations", "rights:confirm"),
    ("GET", "/bureau/confirmations/queue", "rights:confirm"),  # bulk confirmation
    ("POST", "/bureau/confirmations/batch", "rights:confirm"),
    ("POST", "/bureau/surplus-verifications", "rights:verify"),
    ("GET", "/bureau/markets", "market:state"),
    ("POST", "/bureau/markets/{pollutant}/{zone}/{vintage}/state", "market:state"),
    ("GET", "/bureau/approvals", "approval:read"),
    ("POST", "/bureau/approvals/{approval_id}/approve", "approval:decide"),
    ("POST", "/bureau/approvals/{approval_id}/reject", "approval:decide"),
    ("POST", "/bureau/approvals/policy", "approval:policy"),
    ("GET", "/bureau/audit", "audit:read"),
    # analyst pages (web/pages/analyst.py): analysts and the bureau, as registry:read
    ("GET", "/analyst/scenarios", "registry:read"),
    ("POST", "/analyst/scenarios", "registry:read"),
    ("GET", "/analyst/scenarios/{scenario_id}", "registry:read"),
    ("POST", "/analyst/scenarios/{scenario_id}/runs", "registry:read"),
    ("GET", "/analyst/compare", "registry:read"),
    ("GET", "/analyst/simulations", "registry:read"),
    ("POST", "/analyst/simulations", "registry:read"),
    # reserve dashboard and standards (web/pages/reserve.py): the bureau
    ("GET", "/bureau/reserve", "rights:confirm"),
    ("POST", "/bureau/reserve/requests", "permit:manage"),
    ("POST", "/bureau/reserve/plans", "permit:manage"),
    ("POST", "/bureau/reserve/plans/{plan_id}/release", "permit:manage"),
    ("GET", "/bureau/standards", "rights:confirm"),
    ("POST", "/bureau/standards", "permit:manage"),
    ("POST", "/bureau/standards/{standard_id}/apply", "permit:manage"),
    # trading venue pages (web/pages/trading_pages.py): ids travel as form fields
    ("GET", "/enterprises/{code}/auctions", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/auctions/bids", "own:order:place"),
    ("POST", "/enterprises/{code}/auctions/bids/withdraw", "own:order:place"),
    ("POST", "/enterprises/{code}/auctions/bids/replace", "own:order:place"),
    ("GET", "/enterprises/{code}/transfers", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/transfers", "own:order:place"),
    ("POST", "/enterprises/{code}/transfers/accept", "own:order:place"),
    ("POST", "/enterprises/{code}/listings/take", "own:order:place"),
    ("GET", "/bureau/auctions", "market:state"),
    ("POST", "/bureau/auctions", "market:state"),
    ("POST", "/bureau/auctions/step", "market:state"),
    ("POST", "/bureau/auctions/schedule", "market:state"),
    ("GET", "/bureau/transfers", "market:state"),
    ("POST", "/bureau/transfers/decide", "market:state"),
    ("GET", "/bureau/markets/flags", "market:state"),
    ("GET", "/account/tokens", "token:own"),
    ("POST", "/account/tokens", "token:own"),
    ("GET", "/notifications", "token:own"),
    ("POST", "/notifications/read", "token:own"),
    ("POST", "/account/tokens/{token_id}/revoke", "own:token:own"),
    ("GET", "/account/password", "token:own"),  # any signed-in user (issue 18)
    ("POST", "/account/password", "token:own"),
    ("GET", "/admin/users", "user:manage"),
    ("POST", "/admin/users", "user:manage"),
    ("POST", "/admin/users/{username}/active", "user:manage"),
    ("POST", "/admin/users/{username}/scope", "user:manage"),
    ("POST", "/login", "public"),
    ("POST", "/logout", "public"),
    # pages: supervision (monitoring, clues)
    ("GET", "/bureau/monitoring", "rights:confirm"),
    ("POST", "/bureau/monitoring/imports", "monitoring:write"),
    ("POST", "/bureau/monitoring/imports/{import_id}/void", "monitoring:write"),
    ("POST", "/bureau/monitoring/report-checks", "monitoring:write"),
    # pages: alerts
    ("GET", "/bureau/alerts", "rights:confirm"),
    ("POST", "/bureau/alerts", "monitoring:write"),
    ("POST", "/bureau/alerts/lift", "monitoring:write"),
    ("POST", "/bureau/alerts/check", "monitoring:write"),
    ("POST", "/bureau/alerts/measures", "monitoring:write"),
    ("GET", "/bureau/clues", "rights:confirm"),
    ("POST", "/bureau/clues", "monitoring:write"),
    ("POST", "/bureau/clues/act", "monitoring:write"),
    ("GET", "/enterprises/{code}/clues", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/clues/rectify", "own:order:place"),
    # pages: true-up, recovery
    ("GET", "/bureau/compliance", "rights:confirm"),
    ("POST", "/bureau/compliance/true-ups", "rights:confirm"),
    ("POST", "/bureau/standards/decisions", "permit:manage"),
    # pages: disclosure
    ("GET", "/public/penalties", "public"),
    ("GET", "/public/compliance", "public"),
    ("GET", "/public/trades", "public"),
    # pages: the ledger's transparency log (issue 16)
    ("GET", "/public/ledger", "public"),
    ("GET", "/public/ledger/proof", "public"),
    ("GET", "/public/ledger/trades/{trade_id}", "public"),
    ("GET", "/enterprises/{code}/ledger", "own:enterprise:read"),
    ("GET", "/bureau/penalties", "rights:confirm"),
    ("POST", "/bureau/penalties", "penalty:decide"),
    ("POST", "/bureau/penalties/correct", "penalty:decide"),
    ("POST", "/bureau/penalties/withdraw", "penalty:decide"),
    ("POST", "/bureau/penalties/violations", "violation:open"),
    ("POST", "/bureau/penalties/transfer", "violation:open"),
    ("POST", "/bureau/penalties/result", "penalty:decide"),
    ("POST", "/bureau/penalties/confirm-clue", "violation:open"),
    ("GET", "/bureau/penalty-cases", "rights:confirm"),
    ("POST", "/bureau/penalty-cases/notice", "penalty:decide"),
    ("POST", "/bureau/penalty-cases/hearing-notice", "penalty:decide"),
    ("POST", "/bureau/penalty-cases/hearing", "penalty:decide"),
    ("POST", "/bureau/penalty-cases/decision", "penalty:decide"),
    ("POST", "/bureau/penalty-cases/service", "penalty:decide"),
    ("POST", "/bureau/penalty-cases/payment", "penalty:decide"),
    ("GET", "/enterprises/{code}/penalties", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/penalties/statement", "own:order:place"),
    ("POST", "/enterprises/{code}/penalties/hearing-request", "own:order:place"),
    ("GET", "/enterprises/{code}/reports", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/reports", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/reports/import", "own:enterprise:read"),
    ("GET", "/bureau/reports/missing", "rights:confirm"),
    # pages: surveillance
    # pages: the permit register (web/pages/register_pages.py)
    ("GET", "/bureau/permits", "rights:confirm"),
    ("POST", "/bureau/permits/imports", "rights:confirm"),
    ("GET", "/bureau/permits/imports/{import_id}", "rights:confirm"),
    ("POST", "/bureau/permits/steps", "rights:confirm"),
    # pages: paid use of rights
    ("GET", "/enterprises/{code}/bills", "own:enterprise:read"),
    ("POST", "/enterprises/{code}/bills/pay", "own:order:place"),
    ("GET", "/bureau/paid-use", "rights:confirm"),
    # documents (issue 18): PDFs with the record's rules (no trade 999999: 404 when allowed)
    ("GET", "/documents/trades/{trade_id}.pdf", "enterprise:read"),
    ("GET", "/documents/penalty-decision.pdf", "enterprise:read"),
    ("GET", "/documents/bills/{bill_id}.pdf", "own:enterprise:read"),
]
# the Excel export of each officer list: the access of its page (web.exports)
PAGES += [("GET", p + ".xlsx", access) for m, p, access in list(PAGES)
          if m == "GET" and p in EXPORT_PATHS]
SKIP = {"/healthz", "/openapi.json", "/static", "/vendor"}


def _ledger_routes(app):  # type: ignore[no-untyped-def]
    return {(m, p) for p, ms in _walk(app.routes) for m in ms
            if p.startswith(LEDGER) and m != "HEAD" and p != "/api/v1/ledger/asset-sums"}


def _walk(routes, prefix: str = ""):  # type: ignore[no-untyped-def]
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes, prefix + r.include_context.prefix)
        elif getattr(r, "methods", None):
            yield prefix + r.path, r.methods


def _routes(app):  # type: ignore[no-untyped-def]
    routes = set()
    for path, methods in _walk(app.routes):
        if path not in SKIP:
            routes.update((m, path) for m in methods if m != "HEAD")
    return routes


def _listed(app):  # type: ignore[no-untyped-def]
    listed = {(m, p) for m, p, _, _ in API} | {(m, p) for m, p, _ in PAGES}
    return listed | set(_ledger_routes(app))


# Routers of issues 4 and 5 (web/api/trading.py, web/api/allocation.py) landed while this
# matrix was written; their owners add their rows here. Until then every such route is
# checked below to refuse anonymous writes and anonymous private reads.
LANDING = ("/api/v1/auctions", "/api/v1/listings", "/api/v1/transfers",
           "/api/v1/allocation", "/api/v1/reserve", "/api/v1/scenarios", "/api/v1/bids",
           "/api/v1/orders/{order_id}/replace", "/api/v1/markets/{pollutant}/{zone}/{vintage}/ohlc")


def test_every_route_is_in_the_matrix(app) -> None:  # type: ignore[no-untyped-def]
    routes, listed = _routes(app), _listed(app)
    missing = {r for r in routes - listed if not r[1].startswith(LANDING)}
    assert missing == set(), "routes without an authorization entry"
    assert listed - routes == set(), "entries for routes that do not exist"


def test_landing_routes_refuse_anonymous_writes(app, client, spine) -> None:  # type: ignore[no-untyped-def]
    unlisted = sorted(r for r in _routes(app) - _listed(app) if r[1].startswith(LANDING))
    for method, template in unlisted:
        path = re.sub(r"\{\w+\}", "1", template)
        r = client.request(method, path, json={} if method != "GET" else None)
        if method != "GET":
            assert r.status_code in (401, 403, 404, 405), (method, path, r.status_code)
        assert r.status_code < 500, (method, path, r.text[:200])


@pytest.fixture
def scoped(platform, spine, tokens):  # type: ignore[no-untyped-def]
    """District D02 (no enterprise), and the users of SCOPED with their bearer tokens."""
    from allocation import service as alloc
    from identity import service as identity
    from tests.web.conftest import password_hash

    alloc.register_area(platform.uow(), zones=[], districts=[("D02", "District 2", "ZA1",
                                                              "ZW1")])
    for name, (district, department) in SCOPED.items():
        identity.create_user(platform.uow(), username=name, display_name=name.title(),
                             role="bureau_officer", password="", district=district,
                             department=department, password_hash=password_hash(name))
        principal = identity.principal_of(platform.uow(), name)
        tokens[name] = identity.create_token(platform.uow(), owner=principal, name="t")[0]
    return tokens


@pytest.fixture
def auth(scoped):  # type: ignore[no-untyped-def]
    """auth(user) → bearer headers, for the users of conftest and of SCOPED."""
    return lambda name: {"Authorization": f"Bearer {scoped[name]}"}


@pytest.fixture
def world(platform, spine, tokens, auth, client):  # type: ignore[no-untyped-def]
    """Objects the ids point at: A's open sell order, A's token, a pending approval, A's
    paid-use bill (paid)."""
    from allocation import paid_use_service as paid_use
    from identity import service as identity
    from tests.integration.paid_use_support import fund_and_pay

    pa, market = spine["A"], spine["market"]
    officer = auth("officer")
    client.post(f"/api/v1/permits/{pa}/confirmations", headers=auth("officer2"),
                json={"pollutant": "SO2", "year": 2026, "qty_kg": 1})
    approval = identity.approvals(platform.uow(), status="pending")["items"][0]["id"]
    identity.set_approval_policy(platform.uow(), tx_type="confirmation", required=False,
                                 actor="test")
    client.post(f"/api/v1/permits/{pa}/confirmations", headers=officer,
                json={"pollutant": "SO2", "year": 2026})
    fund_and_pay(platform, pa)  # tradable once the paid-use fee is paid
    bill_id = paid_use.list_bills(platform.uow(), permit=pa)["items"][0]["id"]
    client.post(f"/api/v1/permits/{pa}/surplus-verifications", headers=officer,
                json={"pollutant": "SO2", "year": 2026, "qty_kg": 500})
    r = client.post("/api/v1/orders", headers=auth("trader_a"), json={
        "permit": pa, "market": market, "side": "sell", "qty": 100, "price": 500_000})
    assert r.status_code == 201, r.text
    token_id = client.post("/api/v1/tokens", headers=auth("trader_a"),
                           json={"name": "to revoke"}).json()["id"]
    return dict(code=A, pollutant="SO2", zone="ZA1", vintage="2026",
                order_id=r.json()["order_id"], token_id=str(token_id),
                approval_id=str(approval), tx_type="confirmation", username="analyst",
                scenario_id="1", plan_id="1", standard_id="1", bill_id=str(bill_id),
                permit=pa, outlet="DA001", import_id="1", violation_id="999999",
                case_id="999999", trade_id="999999", run_id="999999")


def _fill(path: str, world: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], path)


#: writes that concern the whole municipality: the city bureau's, never a district officer's
CITY_ONLY = {
    "/api/v1/permit-imports", "/bureau/permits/imports", "/api/v1/allocation/computations",
    "/api/v1/allocation/apportionments", "/api/v1/reserve/plans",
    "/api/v1/reserve/plans/{plan_id}/release", "/api/v1/allocation/standards",
    "/api/v1/allocation/standards/{standard_id}/apply", "/api/v1/allocation/standard-decisions",
    "/bureau/reserve/plans", "/bureau/reserve/plans/{plan_id}/release",
    "/bureau/standards/decisions", "/bureau/standards", "/bureau/standards/{standard_id}/apply",
    "/api/v1/penalties/missing-reports",
    # running the reserve's auctions (tests/web/test_district_scope.py has the API's)
    "/bureau/auctions", "/bureau/auctions/step", "/bureau/auctions/schedule",
}
#: reads of the whole municipality's records: the audit log (and the ledger API, LEDGER)
CITY_READS = {"/api/v1/audit", "/bureau/audit", "/bureau/audit.xlsx"}


def _may(access: str, role: str, method: str = "GET", template: str = ""
         ) -> tuple[bool, bool]:
    """(allowed, object-level) for a role; a department acting outside its area is not
    allowed. Object-level: the route names an object of enterprise A."""
    if access == "public":
        return True, False
    own = access.startswith("own:")
    perm = access[4:] if own else access
    perm = IN_ROUTE.get((method, template), perm) if role in DEPT else perm
    allowed = role in HOLDERS[perm]
    if allowed and role in DEPT and method != "GET" and perm in DEPT_BOUND:
        allowed = perm in DEPT_WRITES[DEPT[role]]
    if role == "district_other" and ("{code}" in template or "{permit}" in template):
        own = True  # A's enterprise or permit: outside D02
    if role == "district_other" and ((method != "GET" and template in CITY_ONLY)
                                     or template in CITY_READS
                                     or (template.startswith(LEDGER)
                                         and template != "/api/v1/ledger/asset-sums")):
        allowed = False  # municipality-wide: the city bureau's (web.auth.city_bureau)
    return allowed, own


def _other_district(role: str, own: bool) -> bool:
    """A's object seen by a role that may not see it: 404 exactly, as if missing."""
    return own and role in ("trader_b", "district_other")


def _assert_denied(r, role: str, own: bool) -> None:  # type: ignore[no-untyped-def]
    if role == "anonymous":
        expect = {401, 303}
    elif own and role == "trader_b":
        expect = {404}
    else:
        expect = {403, 404}
    assert r.status_code in expect, (r.status_code, r.text[:300])
    if r.headers.get("content-type", "").startswith("application/json"):
        assert set(r.json()) <= {"error", "detail", "field"}


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(app, client, world, auth, spine, role) -> None:  # type: ignore[no-untyped-def]
    headers = {} if role == "anonymous" else auth(role)
    ledger = [(m, p, "ledger:read" if m == "GET" else "ledger:write", None if m == "GET"
               else {}) for m, p in sorted(_ledger_routes(app))]
    world = {**LEDGER_IDS, **world}
    for method, template, access, body in API + ledger:
        if body == "ORDER":
            body = {"permit": spine["B" if role == "trader_b" else "A"],
                    "market": spine["market"], "side": "buy", "qty": 1, "price": 1000}
        elif body == "USER":
            body = {"username": f"u_{role}", "display_name": "U", "role": "analyst",
                    "password": "long-enough-pw"}
        path = _fill(template, world)
        r = client.request(method, path, headers=headers,
                           json=body if body is not None else None)
        allowed, own = _may(access, role, method, template)
        if access == "own:token:own":  # only the owner, or an administrator
            allowed, own = role in ("trader_a", "admin"), True
        elif allowed and _other_district(role, own):
            if r.status_code == 422:  # the request's own shape is checked first
                assert r.json()["error"] == "invalid_input", (role, path, r.text[:300])
            else:
                _assert_denied(r, "trader_b", True)  # 404 exactly, no data
            continue
        if allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.text[:300])
            assert r.status_code < 500, (role, method, path, r.text[:300])
            if own:
                assert r.status_code != 404, (role, method, path, r.text[:300])
        else:
            _assert_denied(r, role, own)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(app, world, spine, role) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tests.web.conftest import Browser, login

    with TestClient(app) as c:
        if role != "anonymous":
            login(c, role)
        b = Browser(c)
        b.get("/login" if role == "anonymous" else "/")
        for method, template, access in PAGES:
            if template in ("/logout", "/login") and method == "POST":
                continue  # covered by test_auth
            path = _fill(template, world)
            if template == "/enterprises/{code}/depth":
                path += f"?market={spine['market']}"
            if method == "GET":
                r = b.c.get(path, follow_redirects=False)
            else:
                r = b.post(path, data={}, follow_redirects=False)
            allowed, own = _may(access, role, method, template)
            if access == "own:token:own":
                allowed = role in ("trader_a", "admin")
            elif allowed and _other_district(role, own):
                assert r.status_code == 404, (role, path, r.status_code)
                assert 'id="holdings"' not in r.text
                continue
            if allowed:
                assert r.status_code in (200, 201, 303, 404, 409, 422), (role, path, r.status_code)
                if (own and access.startswith("own:")) or access == "own:token:own":
                    assert r.status_code != 404, (role, path)
                assert r.status_code != 404 or "not_found" in r.text
                if r.status_code == 303 and method == "GET":
                    assert "/login" not in r.headers["location"], (role, path)
            else:
                if role == "anonymous":
                    assert r.status_code in (303, 401, 403), (path, r.status_code)
                    if r.status_code == 303:
                        assert r.headers["location"].startswith("/login"), path
                else:
                    assert r.status_code in (403, 404), (role, path, r.status_code)
                    if own and role == "trader_b":
                        assert r.status_code == 404, (role, path)
                    assert 'id="holdings"' not in r.text and 'id="audit"' not in r.text


def test_trader_never_sees_another_enterprise(client, world, auth, spine) -> None:  # type: ignore[no-untyped-def]
    """Every endpoint that takes an enterprise id or an object of one, from trader_b."""
    tb = auth("trader_b")
    for path in (f"/api/v1/enterprises/{A}", f"/api/v1/enterprises/{A}/orders",
                 f"/api/v1/enterprises/{A}/trades",
                 f"/api/v1/enterprises/{A}/statements/trades.csv"):
        r = client.get(path, headers=tb)
        assert r.status_code == 404 and A not in r.text.replace(f"no enterprise {A}", ""), path
    r = client.post(f"/api/v1/orders/{world['order_id']}/cancel", headers=tb, json={})
    assert r.status_code == 404
    r = client.post(f"/api/v1/orders/{world['order_id']}/cancel", headers=tb,
                    json={"enterprise": A})
    assert r.status_code == 404
    r = client.post("/api/v1/orders", headers=tb, json={
        "enterprise": A, "permit": spine["A"], "market": spine["market"], "side": "sell",
        "qty": 1, "price": 1000})
    assert r.status_code == 404
    r = client.post("/api/v1/orders", headers=tb, json={  # B's name, A's permit
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": 1,
        "price": 1000})
    assert r.status_code == 404 and r.json()["error"] == "permit_not_found"
    r = client.post(f"/api/v1/tokens/{world['token_id']}/revoke", headers=tb)
    assert r.status_code == 404
    # and A's order is still open, A's token still works
    orders = client.get(f"/api/v1/enterprises/{A}/orders", headers=auth("trader_a")).json()
    assert orders["items"][0]["status"] == "open"
