"""Labels of the codes people see: one table per kind, an English label per code, its Chinese
in the gettext catalogue.

Codes (`coal_power`, `SURRENDER`, `place_order`, `gtc` ...) belong to the API, the CSV files
a machine reads and the database; pages show `label(kind, code)` (a template function, see
`web.pages.render`), which answers the label in the page's language. A code missing from its
table shows as it is: `tests/web/test_page_language.py` crawls every page in both languages
and fails when one of the codes below shows as text, so add a code here when it is new.

The English label is the msgid, marked `N_(kind, "English")` so that Babel's extraction sees
it with the kind as its msgctxt (one English word may need another Chinese in another kind:
"Market", an order type, is not the "Market" of a form's field); the Chinese is in
web/translations/zh/LC_MESSAGES/messages.po (docs/i18n.md), read through `pgettext`, and
`python -m web.catalogue check` fails on a label without Chinese.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from web.catalogue import translations
from web.i18n import N_

#: kind → code → the English label: a msgid of the gettext catalogue whose msgctxt is the kind
#: (the Chinese is in web/translations/zh/LC_MESSAGES/messages.po, docs/i18n.md)
LABELS: dict[str, dict[str, str]] = {
    "sector": {
        "thermal_power": N_("sector", "Thermal power"), "steel": N_("sector", "Steel"),
        "cement": N_("sector", "Cement"), "chemicals": N_("sector", "Chemicals"),
        "paper": N_("sector", "Paper"), "industrial_boiler": N_("sector", "Industrial boilers"),
        "sewage": N_("sector", "Sewage treatment"),
    },
    # emission sources of the concentration-limit table (allocation/params/*.json)
    "source": {
        "*": N_("source", "Every source"), "coal_power": N_("source", "Coal power"),
        "coal_power_existing": N_("source", "Coal power, existing units"),
        "coal_power_w_flame": N_("source", "Coal power, W-flame boilers"),
        "oil_power": N_("source", "Oil power"), "gas_power": N_("source", "Gas power"),
        "steel_sinter": N_("source", "Steel sintering and pelletising"),
        "steel_other": N_("source", "Steel, other major sources"),
        "cement_kiln": N_("source", "Cement kiln"),
        "cement_kiln_key_region": N_("source", "Cement kiln, key regions"),
        "cement_cooler": N_("source", "Cement clinker cooler"),
        "cement_other": N_("source", "Cement, other sources"),
        "coal_boiler": N_("source", "Coal-fired boiler"),
        "coal_boiler_existing": N_("source", "Coal-fired boiler, existing"),
        "oil_boiler": N_("source", "Oil-fired boiler"),
        "gas_boiler": N_("source", "Gas-fired boiler"),
        "chemicals_process_heater": N_("source", "Chemicals process heater"),
        "sewage_1a": N_("source", "Municipal sewage, grade 1A"), "paper": N_("source", "Paper"),
        "integrated_wastewater": N_("source", "Integrated wastewater"),
        # environmental-tax source kinds
        "combustion": N_("source", "Combustion"), "process": N_("source", "Process"),
        "municipal_sewage": N_("source", "Municipal sewage"),
        "municipal_waste": N_("source", "Municipal waste"),
        # who reported monitoring data
        "automatic": N_("source", "Automatic monitoring"), "bureau": N_("source", "Bureau"),
        "enterprise": N_("source", "Enterprise"),
        # paid-use bill sources
        "confirmation": N_("source", "Rights confirmation"),
        "reserve_release": N_("source", "Reserve release"),
    },
    "standard_kind": {
        "national": N_("standard_kind", "National standard"),
        "local": N_("standard_kind", "Local standard"),
        "ultra_low": N_("standard_kind", "Ultra-low emission"),
    },
    # ledger transaction types and the kinds of a permit's history
    "tx_type": {
        "issuance": N_("tx_type", "Issuance"), "confirmation": N_("tx_type", "Confirmation"),
        "verification": N_("tx_type", "Verified surplus"), "transfer": N_("tx_type", "Transfer"),
        "reserve_buyback": N_("tx_type", "Reserve buy-back"),
        "reserve_release": N_("tx_type", "Reserve release"), "recovery": N_("tx_type", "Recovery"),
        "surrender": N_("tx_type", "Surrender"), "cancellation": N_("tx_type", "Cancellation"),
        "deposit": N_("tx_type", "Deposit"), "withdrawal": N_("tx_type", "Withdrawal"),
        "reversal": N_("tx_type", "Reversal"),
        "verified_surplus": N_("tx_type", "Verified surplus"), "trade_in": N_("tx_type", "Bought"),
        "trade_out": N_("tx_type", "Sold"),
        "negotiated_transfer": N_("tx_type", "Negotiated transfer"),
        "indicator_share": N_("tx_type", "Indicator share"),
        "specification": N_("tx_type", "Specification"), "eia": N_("tx_type", "EIA approval"),
    },
    # ledger account kinds and the parties of a trade that are not enterprises
    "account": {
        "issuance": N_("account", "Issuance"), "reserve": N_("account", "Reserve"),
        "confirmed": N_("account", "Confirmed"), "tradable": N_("account", "Tradable"),
        "cash": N_("account", "Cash"), "settlement": N_("account", "Settlement"),
        "fees": N_("account", "Fees"), "surrender": N_("account", "Surrender"),
        "cancellation": N_("account", "Cancellation"), "RESERVE": N_("account", "Bureau reserve"),
        "BUREAU": N_("account", "Bureau"),
    },
    "market_state": {
        "open": N_("market_state", "Open"), "halted": N_("market_state", "Halted"),
        "closed": N_("market_state", "Closed"),
    },
    "status": {
        "open": N_("status", "Open"), "halted": N_("status", "Halted"),
        "closed": N_("status", "Closed"), "filled": N_("status", "Filled"),
        "partially_filled": N_("status", "Partly filled"), "cancelled": N_("status", "Cancelled"),
        "rejected": N_("status", "Rejected"), "replaced": N_("status", "Replaced"),
        "expired": N_("status", "Expired"), "valid": N_("status", "Valid"),
        "active": N_("status", "Active"), "inactive": N_("status", "Inactive"),
        "revoked": N_("status", "Revoked"), "ended": N_("status", "Ended"),
        "pending": N_("status", "Pending"), "executing": N_("status", "Executing"),
        "executed": N_("status", "Executed"), "failed": N_("status", "Failed"),
        "approved": N_("status", "Approved"), "draft": N_("status", "Draft"),
        "announced": N_("status", "Announced"), "cleared": N_("status", "Cleared"),
        "settled": N_("status", "Settled"), "proposed": N_("status", "Proposed"),
        "accepted": N_("status", "Accepted"), "withdrawn": N_("status", "Withdrawn"),
        "sold": N_("status", "Sold"), "won": N_("status", "Won"), "lost": N_("status", "Lost"),
        "unpaid": N_("status", "Unpaid"), "paid": N_("status", "Paid"),
        "overdue": N_("status", "Overdue"), "planned": N_("status", "Planned"),
        "priced": N_("status", "Priced"), "released": N_("status", "Released"),
        "infeasible": N_("status", "Infeasible"), "not_optimal": N_("status", "Not optimal"),
        "optimal": N_("status", "Optimal"), "applied": N_("status", "Applied"),
        "flagged": N_("status", "Flagged"), "held_back": N_("status", "Held back"),
        "bought_back": N_("status", "Bought back"), "recovered": N_("status", "Recovered"),
        "changed": N_("status", "Changed"), "skipped": N_("status", "Unchanged"),
        "registered": N_("status", "Registered"), "found": N_("status", "Found"),
        "sent": N_("status", "Sent"), "rectified": N_("status", "Rectified"),
        "verified": N_("status", "Verified"), "compliant": N_("status", "Compliant"),
        "violation": N_("status", "Violation"), "decided": N_("status", "Decided"),
        "transferred": N_("status", "Transferred"), "published": N_("status", "Published"),
        "corrected": N_("status", "Corrected"), "noticed": N_("status", "Notice given"),
        "hearing_requested": N_("status", "Hearing requested"), "heard": N_("status", "Heard"),
        "served": N_("status", "Served"), "lifted": N_("status", "Lifted"),
        "ok": N_("status", "OK"), "deviation": N_("status", "Deviation"),
        "no_monitoring_data": N_("status", "No monitoring data"),
        "created": N_("status", "Created"), "replayed": N_("status", "Replayed"),
        "voided": N_("status", "Voided"), "imported": N_("status", "Imported"),
        "partial": N_("status", "Partly imported"),
    },
    # the words of the order form (web/pages/order_entry.py TIFS)
    "order_type": {
        "gtc": N_("order_type", "Good till cancelled"),
        "ioc": N_("order_type", "Fill what you can now, cancel the rest"),
        "fok": N_("order_type", "Fill it all now or cancel it"),
        "GTC": N_("order_type", "Good till cancelled"),
        "IOC": N_("order_type", "Fill what you can now, cancel the rest"),
        "FOK": N_("order_type", "Fill it all now or cancel it"), "limit": N_("order_type", "Limit"),
        "market": N_("order_type", "Market"),
    },
    "side": {
        "buy": N_("side", "Buy"), "sell": N_("side", "Sell"),
    },
    "role": {
        "bureau_officer": N_("role", "Bureau officer"),
        "bureau_admin": N_("role", "Bureau administrator"),
        "trader": N_("role", "Enterprise trader"), "analyst": N_("role", "Analyst"),
        "approval": N_("role", "Approval department"),
        "monitoring": N_("role", "Monitoring department"),
        "enforcement": N_("role", "Enforcement department"), "city": N_("role", "City bureau"),
    },
    "audit": {
        "accept_transfer": N_("audit", "Accept a transfer"),
        "apply_standard": N_("audit", "Apply a standard"),
        "apportion_indicator": N_("audit", "Apportion an indicator"),
        "approve": N_("audit", "Approve"), "approve_transfer": N_("audit", "Approve a transfer"),
        "cancel_order": N_("audit", "Cancel an order"), "check_alerts": N_("audit", "Check alerts"),
        "check_reports": N_("audit", "Check reports"),
        "clue_rectify": N_("audit", "Rectify a clue"),
        "compute_permitted_quantities": N_("audit", "Compute permitted quantities"),
        "confirm_clue": N_("audit", "Confirm a clue"),
        "confirm_rights": N_("audit", "Confirm rights"),
        "correct_penalty": N_("audit", "Correct a penalty decision"),
        "create_auction": N_("audit", "Create an auction"),
        "create_listing": N_("audit", "Create a listing"),
        "create_reserve_listing": N_("audit", "List reserve rights"),
        "create_scenario": N_("audit", "Create a scenario"),
        "create_token": N_("audit", "Create a token"), "create_user": N_("audit", "Create a user"),
        "decide_penalty": N_("audit", "Decide a penalty"),
        # the administrative penalty procedure (web/api/penalty_cases.py)
        "penalty_notice": N_("audit", "Advance penalty notice"),
        "penalty_statement": N_("audit", "Statement and defence"),
        "penalty_hearing_request": N_("audit", "Hearing request"),
        "penalty_hearing_notice": N_("audit", "Hearing notice"),
        "penalty_hearing": N_("audit", "Hearing recorded"),
        "penalty_case_decision": N_("audit", "Penalty decision (procedure)"),
        "penalty_service": N_("audit", "Service of the decision"),
        "penalty_payment": N_("audit", "Fine payment recorded"),
        "decide_standard_flag": N_("audit", "Decide a standard flag"),
        "declare_alert": N_("audit", "Declare an alert"),
        "delete_scenario": N_("audit", "Delete a scenario"),
        "end_permit": N_("audit", "End a permit"),
        "expire_transfers": N_("audit", "Expire transfers"),
        "import_monitoring": N_("audit", "Import monitoring data"),
        "import_reports": N_("audit", "Import reports"),
        "ledger_transfers": N_("audit", "Ledger transfers"),
        "lift_alert": N_("audit", "Lift an alert"), "login": N_("audit", "Log in"),
        "logout": N_("audit", "Log out"), "missing_reports": N_("audit", "Missing reports"),
        "open_auction": N_("audit", "Open an auction"), "open_clue": N_("audit", "Open a clue"),
        "announce_auction": N_("audit", "Announce an auction"),
        "schedule_auction": N_("audit", "Schedule an auction"),
        "withdraw_bid": N_("audit", "Withdraw a bid"), "replace_bid": N_("audit", "Replace a bid"),
        "open_violation": N_("audit", "Open a violation"),
        "pay_paid_use_bill": N_("audit", "Pay a paid-use bill"),
        "permit_change": N_("audit", "Permit change"),
        "permit_import": N_("audit", "Permit import"),
        "permit_renewal": N_("audit", "Permit renewal"), "place_bid": N_("audit", "Place a bid"),
        "place_order": N_("audit", "Place an order"),
        "plan_reserve_release": N_("audit", "Plan a reserve release"),
        "price_reserve_plan": N_("audit", "Price a reserve plan"),
        "propose_transfer": N_("audit", "Propose a transfer"),
        "register_outlet": N_("audit", "Register an outlet"),
        "register_standard": N_("audit", "Register a standard"), "reject": N_("audit", "Reject"),
        "reject_transfer": N_("audit", "Reject a transfer"),
        "release_reserve": N_("audit", "Release reserve"),
        "release_reserve_plan": N_("audit", "Release a reserve plan"),
        "replace_order": N_("audit", "Replace an order"),
        "request_approval": N_("audit", "Request approval"),
        "request_reserve": N_("audit", "Request reserve rights"),
        "reverse_transfer": N_("audit", "Reverse a transfer"),
        "revoke_token": N_("audit", "Revoke a token"),
        "run_scenario": N_("audit", "Run a scenario"),
        "set_approval_policy": N_("audit", "Set the approval policy"),
        "set_emergency_measures": N_("audit", "Set emergency measures"),
        "set_market_state": N_("audit", "Set a market's state"),
        "set_outlet_source_kind": N_("audit", "Set an outlet's source kind"),
        "set_unit_kind": N_("audit", "Set a unit kind"),
        "set_user_active": N_("audit", "Activate or deactivate a user"),
        "set_user_scope": N_("audit", "Set a user's scope"),
        "submit_report": N_("audit", "Submit a report"),
        "take_listing": N_("audit", "Take a listing"),
        "transfer_violation": N_("audit", "Transfer a violation"),
        "true_up": N_("audit", "True-up"), "verify_surplus": N_("audit", "Verify surplus"),
        "violation_result": N_("audit", "Record a violation's result"),
        "void_monitoring_import": N_("audit", "Void a monitoring import"),
        "withdraw_listing": N_("audit", "Withdraw a listing"),
        "withdraw_penalty": N_("audit", "Withdraw a penalty decision"),
    },
    "clue_kind": {
        "exceedance": N_("clue_kind", "Exceedance"), "flat_line": N_("clue_kind", "Flat line"),
        "missing_data": N_("clue_kind", "Missing data"),
        "emission_power_mismatch": N_("clue_kind", "Emissions do not match power use"),
        "alert_breach": N_("clue_kind", "Alert measures breached"),
        "manual": N_("clue_kind", "Entered by hand"),
        "report_missing": N_("clue_kind", "Report missing"),
        "bad_clue": N_("clue_kind", "Clue in error"),
    },
    "clue_source": {
        "manual": N_("clue_source", "Entered by hand"),
    },
    "basis": {
        "specification": N_("basis", "Specification"), "eia": N_("basis", "EIA approval"),
        "indicator_share": N_("basis", "Indicator share"),
    },
    "clue_action": {
        "send": N_("clue_action", "Send"), "rectify": N_("clue_action", "Rectify"),
        "verify": N_("clue_action", "Verify"), "reject": N_("clue_action", "Reject"),
        "close": N_("clue_action", "Close"),
    },
    "flag_kind": {
        "price_deviation": N_("flag_kind", "Price deviation"),
        "self_dealing": N_("flag_kind", "Self-dealing"),
        "round_trip": N_("flag_kind", "Round trip"),
    },
    "auction_rule": {
        "uniform": N_("auction_rule", "Uniform price"),
        "pay_as_bid": N_("auction_rule", "Pay as bid"),
    },
    "objective": {
        "priority": N_("objective", "By priority"), "max_min": N_("objective", "Max-min fairness"),
    },
    "applicants": {
        "requests": N_("applicants", "Requests filed"),
        "headroom": N_("applicants", "Cap headroom"),
    },
    "decision": {
        "recover": N_("decision", "Recover"), "buy_back": N_("decision", "Buy back"),
    },
    "alert_level": {
        "yellow": N_("alert_level", "Yellow alert"), "orange": N_("alert_level", "Orange alert"),
        "red": N_("alert_level", "Red alert"),
    },
    "unit_kind": {
        "existing": N_("unit_kind", "Existing unit"), "new": N_("unit_kind", "New unit"),
        "expanded": N_("unit_kind", "Expanded unit"),
    },
    "medium": {
        "air": N_("medium", "Air"), "water": N_("medium", "Water"),
    },
    # form fields named beside their error
    "field": {
        "permit": N_("field", "Permit"), "market": N_("field", "Market"),
        "side": N_("field", "Side"), "qty": N_("field", "Quantity"),
        "qty_kg": N_("field", "Quantity"), "price": N_("field", "Price"),
        "year": N_("field", "Year"), "pollutant": N_("field", "Pollutant"),
        "name": N_("field", "Name"), "expires_days": N_("field", "Days valid"),
        "username": N_("field", "Username"), "display_name": N_("field", "Display name"),
        "role": N_("field", "Role"), "enterprise": N_("field", "Enterprise"),
        "password": N_("field", "Password"), "reason": N_("field", "Reason"),
        "file": N_("field", "File"), "amount": N_("field", "Amount"),
        "amount_fen": N_("field", "Amount"), "due": N_("field", "Due"), "note": N_("field", "Note"),
        "description": N_("field", "Description"), "level": N_("field", "Level"),
        "zones": N_("field", "Zones"), "first_day": N_("field", "First day"),
        "last_day": N_("field", "Last day"), "grade": N_("field", "Grade"),
        "number": N_("field", "Number"), "legal_basis": N_("field", "Legal basis"),
        "kind": N_("field", "Kind"), "quarter": N_("field", "Quarter"),
        "period": N_("field", "Period"), "offered": N_("field", "Offered"),
        "reserve_price": N_("field", "Reserve price"), "transfer": N_("field", "Transfer"),
        "listing": N_("field", "Listing"), "auction": N_("field", "Auction"),
        "bill": N_("field", "Bill"), "outlet": N_("field", "Outlet"), "hour": N_("field", "Hour"),
        "district": N_("field", "District"), "zone": N_("field", "Zone"),
        "sector": N_("field", "Sector"), "standard": N_("field", "Standard"),
        "effective": N_("field", "Effective"), "limit": N_("field", "Limit"),
        "department": N_("field", "Department"), "scope": N_("field", "Scope"),
        "indicators": N_("field", "Indicators"), "body": N_("field", "Request body"),
        "request": N_("field", "Request"),
    },
    "pollutant": {
        "SO2": N_("pollutant", "SO2"), "NOx": N_("pollutant", "NOx"), "COD": N_("pollutant", "COD"),
        "NH3-N": N_("pollutant", "NH3-N"), "VOCs": N_("pollutant", "VOCs"),
        "PM": N_("pollutant", "PM"),
    },
}
#: the approval requests' kinds are the ledger's transaction types, and so are their labels
LABELS["approval_kind"] = dict(LABELS["tx_type"])
#: kind → the msgctxt of its labels where it borrows another kind's
_CONTEXT = {"approval_kind": "tx_type"}


#: codes that are words of a sentence as well (open, new, buy ...): the crawl test looks for
#: them in Chinese pages only, where no English word should show
_SHARED_WORDS = frozenset({"*"})
#: kinds whose codes are not looked for as text: form field names, pollutant formulas
_NOT_CHECKED = frozenset({"field", "pollutant"})


def label(kind: str, code: Any, lang: str = "zh") -> str:
    """The label of `code` in `lang` ("zh" or "en"); an unknown code shows as it is, None as
    a dash."""
    if code is None or code == "":
        return "—"
    text = str(code)
    english = LABELS.get(kind, {}).get(text)
    if english is None:
        return text
    return english if lang == "en" else _chinese(kind, english)


def labels_of(kind: str, lang: str = "zh") -> Mapping[str, str]:
    """code → label of one kind, for a select's options."""
    table = LABELS.get(kind, {})
    if lang == "en":
        return dict(table)
    return {code: _chinese(kind, english) for code, english in table.items()}


def _chinese(kind: str, english: str) -> str:
    """The Chinese of a label (the catalogue's msgstr with the kind as msgctxt; the English
    where the catalogue has none, which `check` refuses)."""
    return str(translations().pgettext(_CONTEXT.get(kind, kind), english))


def all_codes() -> dict[str, set[str]]:
    """code → the kinds it belongs to (the crawl test's list of what must not show)."""
    out: dict[str, set[str]] = {}
    for kind, table in LABELS.items():
        if kind in _NOT_CHECKED:
            continue
        for code in table:
            if code not in _SHARED_WORDS:
                out.setdefault(code, set()).add(kind)
    return out


@pass_context
def template_label(ctx: Context, kind: str, code: Any) -> str:
    """`{{ label("sector", e.sector) }}` in a template: the label in the page's language."""
    return label(kind, code, str(ctx.get("lang") or "zh"))
