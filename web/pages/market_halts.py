"""The bureau's market surveillance page: halting, resuming or closing a market states a
reason and is confirmed on the page (a confirm checkbox, so it works without JavaScript).

A form without the reason or without the confirmation re-renders the page with 422 and the
market's field errors, changing nothing. The reason goes to the market row (shown on the
market page, `trading.halts`) and to the audit log's detail. Routes live in
`web.pages.bureau`; this module holds what they do.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from identity.roles import Principal
from kernel.beijing import beijing_time
from kernel.errors import DomainError
from trading import halts
from trading import service as trading
from web.errors import status_of
from web.i18n import translator
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

#: what a bureau officer may do to a market in each state
ACTIONS = {"open": ("halted", "closed"), "halted": ("open", "closed"), "closed": ("open",)}


def markets_page(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    p = _p(request)
    rows = []
    for m in trading.list_markets(p.read_uow()):
        st = halts.market_state(p.read_uow(), str(m["id"]))
        rows.append(dict(m, state_reason=st["reason"], state_by=st["by"],
                         state_at_text=beijing_time(st["at"]),  # type: ignore[arg-type]
                         actions=ACTIONS.get(str(m["state"]), ())))
    ctx.setdefault("errors", {})
    ctx.setdefault("form", {})
    return render(request, "bureau_markets.html", status_code=status, markets=rows,
                  failed=ctx.pop("failed", None), **ctx)


def change_state(request: Request, user: Principal, market: str, *, state: str, reason: str,
                 confirm: str) -> RedirectResponse | HTMLResponse:
    errors = forms.FieldErrors()
    forms.choice(state, "state", errors, halts.STATES)
    why = forms.text(reason, "reason", errors, max_len=halts.REASON_MAX, required=False)
    if not why:
        errors.add("reason", "State the reason.")
    if confirm != "yes":
        errors.add("confirm", "Tick the box to confirm.")
    audit(request, "set_market_state", market, f"{state}: {why}")
    status = 422
    if not errors:
        try:
            halts.set_market_state(_p(request).uow(), market=market, state=state, reason=why,
                                   actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other(f"/markets/{market}", msg=translator(lang_of(request))(_DONE[state]))
    else:
        request.state.audit["detail"] = f"refused {state}: {why}"
    return markets_page(request, status, errors=errors, failed=market,
                        form=dict(state=state, reason=reason))


_DONE = {"halted": "Market halted", "open": "Market resumed", "closed": "Market closed"}


def state_note(request: Request, market: str) -> dict[str, object]:
    """For the market page: the state's reason, when (Beijing time) and by whom."""
    st = halts.market_state(_p(request).read_uow(), market)
    return dict(st, at_text=beijing_time(st["at"]))  # type: ignore[arg-type]
