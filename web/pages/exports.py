"""The Excel export of every officer list (`web.exports`): which page, which tables, which
columns. `EXPORTS` is installed by `web.app.create_app`; each page gets `<path>.xlsx` with the
page's own filters and access (see `web.exports`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web.exports import Column, Export, Sheet, items

C = Column


def _bids(ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(b, auction=a.get("id"), market=a.get("market"))
            for a in ctx.get("auctions") or [] for b in a.get("bids") or []]


def _true_up_lines(ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in items("ups")(ctx):
        for ln in r.get("lines") or [{}]:
            out.append({**ln, "enterprise": r.get("enterprise"), "permit": r.get("permit"),
                        "status": r.get("status")})
    return out


def _cases(ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    labels = ctx.get("STATUS_LABELS") or {}
    return [dict(c, status_text=labels.get(c.get("status"), c.get("status")))
            for c in items("res")(ctx)]


QUEUE_STATE = {"waiting": "nothing confirmed yet", "partial": "partly confirmed",
               "confirmed": "all confirmed"}


def _queue(ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(i, zone_names=[n for _c, n in i.get("zones") or []],
                 state_text=QUEUE_STATE.get(str(i.get("state")), i.get("state")))
            for i in items("res")(ctx)]


ENTERPRISE = C("Enterprise", "enterprise")
PERMIT = C("Permit", "permit")
POLLUTANT = C("Pollutant", "pollutant", "pollutant")
STATUS = C("Status", "status", "label:status")

EXPORTS: tuple[Export, ...] = (
    Export("/enterprises", "enterprises", (Sheet("Enterprises", items("res"), (
        C("Name", "name"), C("Credit code", "credit_code"), C("Sector", "sector", "label:sector"),
        C("District", "district"), STATUS), pager="page"),)),
    Export("/bureau/permits", "permits", (
        Sheet("Permits due for renewal", items("expiring"), (
            PERMIT, C("Permit holder", "name"), C("Valid to", "valid_to", "date"),
            C("Days left", "days_left", "int"), STATUS)),
        Sheet("Permit imports", items("imports"), (
            C("#", "id", "int"), C("File", "filename"), C("By", "actor"),
            C("At (Beijing time)", "at", "time"),
            C("Status", lambda r: "import: " + str(r.get("status")), "label"),
            C("New permits", "permits_new", "int"),
            C("Changed permits", "permits_changed", "int"),
            C("Unchanged permits", "permits_unchanged", "int"),
            C("Permits with errors", "permits_rejected", "int"))))),
    Export("/bureau/approvals", "approvals", (Sheet("Approvals", items("res"), (
        C("#", "id", "int"), C("Type", "tx_type", "label:tx_type"), C("Summary", "summary"),
        C("Requested by", "requested_by"), C("Requested at (Beijing time)", "requested_at",
                                              "time"),
        STATUS, C("Decided by", "decided_by"), C("Result", "result")), pager="page"),)),
    Export("/bureau/audit", "audit", (Sheet("Audit log", items("res"), (
        C("Time (Beijing time)", "at", "time"), C("Actor", "actor"),
        C("Role", "role", "label:role"), C("IP address", "ip"), C("Via", "via"),
        C("Action", "action", "label:audit"), C("Target", "target"), STATUS,
        C("Detail", "detail")), pager="page"),)),
    Export("/bureau/clues", "clues", (Sheet("Clues", items("res"), (
        C("#", "id", "int"), C("State", "state", "label:status"),
        C("Overdue", "overdue", "bool"), C("Kind", "kind", "label:clue_kind"), ENTERPRISE, PERMIT,
        C("Outlet", "outlet"), POLLUTANT, C("From (Beijing time)", "start", "time"),
        C("To (Beijing time)", "end", "time"), C("Due", "due", "date")), pager="page"),)),
    Export("/bureau/alerts", "alerts", (Sheet("Alerts", items("res"), (
        C("#", "id", "int"), C("Alert level", "level", "label:alert_level"),
        C("Cut %", "cut_pct", "int"), C("Zones or districts", "zones"),
        C("First day", "first_day", "date"), C("Last day", "effective_last_day", "date"),
        STATUS, C("Declared by", "declared_by")), pager="page"),)),
    Export("/bureau/penalties", "penalties", (
        Sheet("Violations awaiting a decision", items("open_v"), (
            C("#", "id", "int"), C("Enterprise name", "enterprise_name"), ENTERPRISE, PERMIT,
            C("Violation kind", lambda r: (r.get("kind_zh"), r.get("kind_en")), "pair"),
            C("Article", "article"),
            POLLUTANT, C("Year", "year", "int"), C("Shortfall t", "shortfall_kg", "t"),
            C("Penalty from yuan", "penalty_min_fen", "yuan"),
            C("Penalty to yuan", "penalty_max_fen", "yuan")), pager="page"),
        Sheet("Transferred to enforcement", items("handed"), (
            C("#", "id", "int"), C("Enterprise name", "enterprise_name"), ENTERPRISE,
            C("Violation kind", lambda r: (r.get("kind_zh"), r.get("kind_en")), "pair"),
            C("Receiving department", "transferred_to"),
            C("Transfer date", "transferred_on", "date"), C("Result", "result"),
            C("Result date", "result_on", "date"))),
        Sheet("Decisions", items("decided"), (
            C("Decision number", "number"), C("Enterprise name", "enterprise_name"),
            ENTERPRISE, PERMIT, POLLUTANT, C("Year", "year", "int"),
            C("Penalty yuan", "amount_fen", "yuan"), C("Decision date", "decided_on", "date"),
            C("Legal basis", "legal_basis"), STATUS), pager="dpage", pages="dpages"))),
    Export("/bureau/paid-use", "paid-use-bills", (Sheet("Paid-use bills", items("bills"), (
        C("#", "id", "int"), ENTERPRISE, PERMIT, POLLUTANT, C("Year", "year", "int"),
        C("Charged for", "source", "label"), C("Quantity t", "qty_kg", "t"),
        C("Price yuan/t", "price", "price"), C("Amount yuan", "amount_fen", "yuan"),
        C("Issued (Beijing time)", "issued_at", "time"), C("Due date", "due_on", "date"),
        STATUS, C("Overdue", "overdue", "bool"),
        C("Paid at (Beijing time)", "paid_at", "time"))),)),
    Export("/bureau/transfers", "transfers", (Sheet("Negotiated transfers",
                                                    items("transfers"), (
        C("Transfer", "id"), C("Market", "market"), C("Seller", "seller"),
        C("Seller permit", "seller_permit"), C("Buyer", "buyer"),
        C("Buyer permit", "buyer_permit"), C("Quantity t", "qty", "t"),
        C("Price yuan/t", "price", "price"), STATUS, C("Reason", "reason"),
        C("Decided by", "decided_by"), C("Proposed at (Beijing time)", "created_at", "time"),
        C("Expires at (Beijing time)", "expires_at", "time"), C("Trade", "trade_id"))),)),
    Export("/bureau/auctions", "auctions", (
        Sheet("Auctions", items("auctions"), (
            C("Auction", "id"), C("Market", "market"), STATUS,
            C("Offered t", "offered", "t"), C("Reserve price yuan/t", "reserve_price", "price"),
            C("Rule", "rule", "label:auction_rule"), C("Clearing price yuan/t", "price", "price"),
            C("Sold t", "sold", "t"), C("Reason", "reason"))),
        Sheet("Bids", _bids, (
            C("Auction", "auction"), C("Market", "market"), C("Bid", "id"), ENTERPRISE,
            PERMIT, C("Quantity t", "qty", "t"), C("Price yuan/t", "price", "price"),
            C("Deposit yuan", "deposit", "yuan"), C("Won t", "won", "t"),
            C("Pay price yuan/t", "pay_price", "price"), STATUS)))),
    Export("/bureau/reports/missing", "missing-reports", (Sheet("Missing reports",
                                                               items("out"), (
        ENTERPRISE, PERMIT, C("Year", "year", "int"), C("Period", "period"),
        C("Due", "due", "date"), C("Days overdue", "days_overdue", "int")), pager="page"),)),
    Export("/bureau/monitoring", "monitoring-imports", (Sheet("Monitoring imports",
                                                             items("imports"), (
        C("#", "id", "int"), C("Imported at", "at", "time"), C("By", "actor"),
        C("Data source", "source", "label"), C("First day", "first_day", "date"),
        C("Last day", "last_day", "date"), C("Rows", "rows", "int"),
        C("Accepted", "accepted", "int"), C("Rejected", "rejected", "int"),
        C("Outlets", "outlets", "int"), C("Daily rows", "daily_rows", "int"),
        C("Anomalies", "anomalies", "int"), C("Voided", "voided_at", "time"),
        C("Reason", "void_reason"))),)),
    Export("/bureau/compliance", "compliance", (
        Sheet("True-ups", _true_up_lines, (
            ENTERPRISE, PERMIT, STATUS, POLLUTANT, C("Actual t", "actual_kg", "t"),
            C("Permitted quantity t", "permitted_kg", "t"),
            C("Surrendered t", "surrendered_kg", "t"),
            C("Exceedance t", "exceedance_kg", "t"), C("Deducted t", "deducted_kg", "t")),
            pager="page"),
        Sheet("Violations", items("vio"), (
            C("#", "id", "int"), ENTERPRISE, PERMIT, POLLUTANT,
            C("Exceedance t", "shortfall_kg", "t"), C("Deducted t", "deducted_kg", "t"),
            C("Outstanding t", "outstanding_kg", "t"),
            C("Penalty from yuan", "penalty_min_fen", "yuan"),
            C("Penalty to yuan", "penalty_max_fen", "yuan"), C("Basis", "basis", "label:basis"),
            STATUS), pager="vpage", pages="vpages"))),
    Export("/bureau/markets", "markets", (Sheet("Markets", items("markets"), (
        C("Market", "id"), POLLUTANT, C("Zone", "zone"), C("Vintage", "vintage", "int"),
        C("State", "state", "label:status"), C("Last price yuan/t", "last_price", "price"),
        C("Reference price", "reference_price", "price"),
        C("Price band %", "band_pct", "int"))),)),
    Export("/bureau/markets/flags", "unusual-trades", (Sheet("Unusual trades",
                                                            items("flags"), (
        C("Flag", "kind", "label:flag_kind"), C("Market", "market"), C("Trade", "deal"),
        C("Time (Beijing time)", "at", "time"), C("Seller", "seller"), C("Buyer", "buyer"),
        C("Quantity t", "qty", "t"), C("Price yuan/t", "price", "price"),
        C("Reference price", "ref_price", "price"), C("Deviation %", "deviation_pct"),
        C("Other leg", "other")), pager="page"),)),
    Export("/bureau/penalty-cases", "penalty-procedures", (Sheet("Penalty procedure", _cases, (
        C("#", "id", "int"), C("Enterprise name", "enterprise_name"), ENTERPRISE,
        C("Notice number", "notice_number"), C("Status", "status_text", "label"),
        C("Proposed penalty", "proposed_fen", "yuan"),
        C("Decision number", "decision_number"), C("Penalty yuan", "amount_fen", "yuan"),
        C("Decision date", "decided_on", "date")), pager="page"),)),
    Export("/bureau/confirmations/queue", "confirmation-queue", (Sheet(
        "Bulk rights confirmation", _queue, (
            C("Enterprise name", "enterprise_name"), PERMIT,
            C("District", "district_name"), C("Sector", "sector", "label:sector"),
            C("Zone", "zone_names"), C("Waiting t", "waiting_kg", "t"),
            C("State", "state_text", "label")), pager="page"),)),
    Export("/admin/users", "users", (Sheet("Users", items("res"), (
        C("Username", "username"), C("Display name", "display_name"),
        C("Role", "role", "label:role"), C("Enterprise", "enterprise"),
        C("District", "district"), C("Department", "department", "label"),
        C("Active", "active", "bool")), pager="page"),)),
)

EXPORT_PATHS = frozenset(e.path for e in EXPORTS)
