"""Bureau page of bulk rights confirmation: `/bureau/confirmations/queue` (issue 18).

The permits waiting for confirmation for a year, filtered by district, zone, sector and
state, each with its enterprise, district, zones and the pollutants (tonnes) still waiting;
checkboxes and one button confirm every waiting pollutant of the checked permits
(`POST /bureau/confirmations/batch`), another every permit listed on the page. One request,
one transaction; when the approval policy asks a second officer for confirmations, one
approval request for the whole batch, which a second officer approves as a whole on the
approvals page (its permits and pollutants listed in words). A refused batch (a permit not
waiting, outside the officer's district …) re-renders the page with a 4xx and a message
naming the permit; nothing is confirmed. Works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import bulk_confirmation as bulk
from identity import service as identity
from identity.roles import Principal
from kernel.errors import DomainError
from web import approval_words
from web.api.bulk_confirmation import run_batch, this_year
from web.auth import csrf_protect, require
from web.errors import status_of
from web.i18n import translator
from web.messages import error_text
from web.pages.base import _p, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Confirm = Depends(require("rights:confirm"))
Filter = Annotated[str | None, Query(max_length=30)]
SIZE = 100


def _page(request: Request, user: Principal, *, year: int, district: str | None,
          zone: str | None, sector: str | None, state: str | None, page: int,
          status: int = 200, error: str | None = None, checked: frozenset[str] = frozenset()
          ) -> HTMLResponse:
    p = _p(request)
    if user.is_bureau and user.district is not None:
        district = user.district
    st = state if state in bulk.STATES else None
    res = bulk.confirmation_queue(p.read_uow(), year=year, district=district, zone=zone,
                                  sector=sector, state=st, offset=(page - 1) * SIZE,
                                  limit=SIZE)
    query = {"year": year, "district": district or "", "zone": zone or "",
             "sector": sector or "", "state": st or ""}
    return render(request, "bulk_confirmation.html", status_code=status, res=res,
                  choices=bulk.queue_choices(p.read_uow()), query=query,
                  district_fixed=user.district if user.is_bureau else None,
                  needs_approval=identity.approval_required(p.read_uow(), "confirmation"),
                  page=page, pages=max(1, -(-int(res["total"]) // SIZE)),
                  pager_base="?" + urlencode(query) + "&", batch_error=error,
                  checked=checked)


@router.get("/bureau/confirmations/queue", response_class=HTMLResponse)
def queue(request: Request, year: Annotated[str | None, Query(max_length=4)] = None,
          district: Filter = None, zone: Filter = None, sector: Filter = None,
          state: Annotated[str | None, Query(max_length=10)] = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1,
          user: Principal = Confirm) -> HTMLResponse:
    y = int(year) if year and year.isdigit() and 2000 <= int(year) <= 2100 else this_year()
    return _page(request, user, year=y, district=district or None,
                 zone=zone or None, sector=sector or None, state=state or None, page=page)


@router.post("/bureau/confirmations/batch", response_model=None)
def batch(request: Request, year: Annotated[str, Form(max_length=4)] = "",
          permits: Annotated[list[str] | None, Form()] = None,
          listed: Annotated[list[str] | None, Form()] = None,
          scope: Annotated[str, Form(max_length=10)] = "checked",
          district: Annotated[str, Form(max_length=30)] = "",
          zone: Annotated[str, Form(max_length=30)] = "",
          sector: Annotated[str, Form(max_length=30)] = "",
          state: Annotated[str, Form(max_length=10)] = "",
          user: Principal = Confirm) -> RedirectResponse | HTMLResponse:
    y = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else this_year()
    codes = [c.strip() for c in ((listed if scope == "listed" else permits) or [])
             if c.strip()][:bulk.MAX_PERMITS]
    back: dict[str, Any] = dict(year=y, district=district or None, zone=zone or None,
                                sector=sector or None, state=state or None, page=1)
    if not codes:
        return _page(request, user, **back, status=422,
                     error=translator(lang_of(request))("Choose at least one permit."))
    try:
        outcome, result = run_batch(request, user, codes, y)
    except DomainError as exc:
        permit = exc.details.get("permit")
        text = str(error_text(exc))
        if permit and str(permit) not in text:
            text = f"{permit}: {text}"
        return _page(request, user, **back, status=status_of(exc), error=text,
                     checked=frozenset(codes))
    p = _p(request)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return see_other("/bureau/approvals?status=pending",
                         msg=approval_words.request_message(request, p, result))
    return see_other(f"/bureau/confirmations/queue?year={y}",
                     msg=approval_words.done_message(
                         request, p, "confirm_permits", dict(permits=codes, year=y), result))
