"""Notifications and workbench items in words (issue 18): the text of each notification kind
in the reader's language, with amounts in yuan, quantities in tonnes and Beijing dates, the
page it leads to, and the unread count of the page header.

Texts are English msgids marked with `N_()`, so `python -m web.catalogue check` fails when one
lacks its Chinese in the catalogue (web/translations/zh/LC_MESSAGES/messages.po)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Request

from identity.roles import Principal
from kernel.pollutants import Pollutant
from notices import service as notices
from web.i18n import N_, plural_translator, translator
from web.pages.l10n import bjdate_text, bjtime_text, tonnes_text, yuan_text

#: kind → (text, text when a figure is missing); %-style fields from the params
TEXTS: dict[str, str] = {
    "clue_sent": N_("Problem clue No. %(ref)s was sent to you; rectify by %(due)s."),
    "penalty_notice": N_("Advance notice of an administrative penalty %(ref)s: %(amount)s yuan "
                         "proposed. You may state your case by %(due)s."),
    "penalty_decided": N_("Penalty decision %(ref)s was issued: %(amount)s yuan."),
    "penalty_hearing": N_("The hearing you requested on advance notice %(ref)s will be held on "
                          "%(due)s at %(place)s."),
    "transfer_proposed": N_("%(seller)s proposes a negotiated transfer to you: %(qty)s t of "
                            "%(market)s at %(price)s yuan/t."),
    "approval_waiting": N_("Approval request No. %(ref)s from %(by)s waits for a second officer "
                           "(%(target)s)."),
    "transfer_accepted": N_("A negotiated transfer of %(qty)s t of %(market)s at %(price)s yuan/t "
                            "(%(seller)s to %(buyer)s) was accepted and waits for the bureau's "
                            "approval."),
}
NO_DUE = N_("Problem clue No. %(ref)s was sent to you.")
SERVED = N_("Penalty decision %(ref)s was served on you: %(amount)s yuan, to be paid by %(due)s.")

#: workbench item → (label, link template with {e} = the enterprise)
ITEMS: dict[str, tuple[str, str]] = {
    "approvals_waiting": (N_("Approvals waiting for me"), "/bureau/approvals"),
    "permits_awaiting_confirmation": (N_("Permits awaiting confirmation"), "/bureau"),
    "transfers_awaiting_approval": (N_("Transfers awaiting approval"), "/bureau/transfers"),
    "clues_new": (N_("New problem clues to send"), "/bureau/clues"),
    "clues_rectified": (N_("Rectifications to verify"), "/bureau/clues"),
    "clues_overdue": (N_("Clues overdue"), "/bureau/clues"),
    "alerts_active": (N_("Heavy-pollution alerts active"), "/bureau/alerts"),
    "monitoring_imports_with_errors": (N_("Monitoring imports with errors (30 days)"),
                                       "/bureau/monitoring"),
    "permit_imports_with_errors": (N_("Permit imports with errors (30 days)"), "/bureau/permits"),
    "violations_open": (N_("Violations awaiting a decision"), "/bureau/penalties"),
    "bills_overdue": (N_("Paid-use bills overdue"), "/bureau/paid-use"),
    "bills_to_pay": (N_("Paid-use bills to pay"), "/enterprises/{e}/bills"),
    "clues_assigned": (N_("Problem clues to rectify"), "/enterprises/{e}/clues"),
    "transfers_proposed": (N_("Transfers proposed to you"), "/enterprises/{e}/transfers"),
    "reports_due": (N_("Execution reports overdue"), "/enterprises/{e}/reports"),
    "penalty_notices": (N_("Penalty procedures in progress"), "/enterprises/{e}/penalties"),
    "hearings_upcoming": (N_("Hearings notified to you"), "/enterprises/{e}/penalties"),
}


def _market(market: str, lang: str) -> str:
    """`SO2/ZA1/2026` → `二氧化硫 ZA1 2026` (a pollutant's name, never its code alone)."""
    parts = str(market).split("/")
    if len(parts) == 3:
        try:
            name = Pollutant(parts[0]).label_zh if lang == "zh" else parts[0]
        except ValueError:
            name = parts[0]
        return f"{name} {parts[1]} {parts[2]}"
    return str(market)


def text(n: dict[str, Any], lang: str) -> str:
    """The sentence of one notification (`notices.service.notice_dict`)."""
    tr = translator(lang)
    p = n.get("params") or {}
    fields = dict(ref=n["ref"], due=bjdate_text(p.get("due"), lang) or "—",
                  amount=yuan_text(p.get("amount_fen"), lang),
                  qty=tonnes_text(p.get("qty"), lang), price=yuan_text(p.get("price"), lang),
                  market=_market(p.get("market", ""), lang), seller=p.get("seller", ""),
                  count=p.get("count", ""), by=p.get("by", ""), target=p.get("target", ""),
                  buyer=p.get("buyer", ""), place=p.get("place", ""))
    template = TEXTS.get(n["kind"], n["kind"])
    if n["kind"] == "clue_sent" and not p.get("due"):
        template = NO_DUE
    if n["kind"] == "penalty_decided" and p.get("due"):
        template = SERVED
    if n["kind"] in ("bill_issued", "bill_due"):  # a plural message: one bill, or more
        return _bills(n["kind"], plural_translator(lang), p.get("count")) % fields
    return tr(template) % fields


def _bills(kind: str, ngettext: Callable[[str, str, int], str], count: Any) -> str:
    """The paid-use bills' notification by their count (the English singular for one)."""
    try:
        k = int(count)
    except (TypeError, ValueError):
        k = 0
    if kind == "bill_issued":
        return ngettext("%(count)s paid-use bill issued: %(amount)s yuan, due %(due)s.",
                        "%(count)s paid-use bills issued: %(amount)s yuan, due %(due)s.", k)
    return ngettext("%(count)s paid-use bill falls due on %(due)s: %(amount)s yuan.",
                    "%(count)s paid-use bills fall due on %(due)s: %(amount)s yuan.", k)


def link(n: dict[str, Any], routes: frozenset[str]) -> str:
    """Where a notification leads: the page of the thing it is about."""
    e = n.get("enterprise") or ""
    kind = n["kind"]
    if kind == "approval_waiting":
        return "/bureau/approvals"
    if kind == "transfer_accepted":
        return "/bureau/transfers"
    if kind == "clue_sent":
        return f"/enterprises/{e}/clues"
    if kind == "transfer_proposed":
        return f"/enterprises/{e}/transfers"
    if kind in ("bill_issued", "bill_due"):
        return f"/enterprises/{e}/bills"
    # the penalty procedure's page of the enterprise where the server has one
    if "/enterprises/{code}/penalties" in routes:
        return f"/enterprises/{e}/penalties"
    return "/public/penalties"


def item_link(key: str, enterprise: str | None, routes: frozenset[str]) -> str | None:
    target = ITEMS[key][1]
    if "{e}" in target:
        if target.replace("{e}", "{code}") not in routes:
            return None if key != "penalty_notices" else f"/enterprises/{enterprise}"
        return target.replace("{e}", enterprise or "")
    return target


def _paths(routes: Any, prefix: str = "") -> Iterator[str]:
    """The full path of every route, through the routers included in the app (FastAPI
    keeps an included router as one entry of `app.routes`, its routes inside it)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            ctx = getattr(r, "include_context", None)
            yield from _paths(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""))
        else:
            yield prefix + getattr(r, "path", "")


def route_paths(request: Request) -> frozenset[str]:
    cached = getattr(request.app.state, "page_paths", None)
    if cached is None:
        cached = frozenset(_paths(request.app.routes))
        request.app.state.page_paths = cached
    return cached  # type: ignore[no-any-return]


def unread_notices(request: Request, user: Principal | None) -> int:
    """The header's unread count (0 without a user; 0 if the database cannot answer, so
    that an error page still renders)."""
    if user is None:
        return 0
    try:
        return notices.unread_count(request.app.state.platform.read_uow(), user.username)
    except Exception:  # noqa: BLE001 - the header must never fail a page
        return 0


def when(n: dict[str, Any], lang: str) -> str:
    return bjtime_text(n.get("created_at"), lang)
