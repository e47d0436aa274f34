"""PDF documents under /api/v1, with the access rules of the records they print:

- ``GET /trades/{trade_id}/confirmation.pdf``: the transaction confirmation (成交确认书) of
  a trade of any venue (order book, listing sale, negotiated transfer, auction award);
- ``GET /penalties/decision.pdf?number=…``: the administrative penalty decision;
- ``GET /paid-use/bills/{bill_id}/notice.pdf``: the paid-use bill.

A trader gets its own enterprise's documents only (another's answers 404 as if missing);
the city bureau every one, a district officer those of its district's enterprises (404
otherwise); analysts and the public none (403, 401). The pages serve the same documents
(`web.pages.documents`) through the functions here.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from compliance.enforcement import disclosure_service as disclosure
from compliance.errors import DecisionNotFound
from identity.roles import Principal
from kernel.errors import DomainError
from trading.confirmation import trade_confirmation
from trading.errors import TradeNotFound
from web import documents
from web.api.common import READ
from web.api.common import own_enterprise as _own
from web.api.common import platform as _p
from web.auth import csrf_protect, ensure_enterprise_access, require

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["documents"])
Id = Annotated[int, Path(ge=1, le=2**53)]
PDF = {200: {"content": {"application/pdf": {}}, "description": "the document (PDF, A4)"},
       **READ}


def pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


def _name(request: Request, code: str) -> str | None:
    try:
        return str(alloc.enterprise_view(_p(request).read_uow(), code)["name"])
    except DomainError:
        return None


def trade_pdf(request: Request, user: Principal, trade_id: int) -> Response:
    t = trade_confirmation(_p(request).read_uow(), trade_id, party=_own(user))
    if user.is_bureau and user.district is not None:
        # a district officer: a trade of one of its district's enterprises
        seen = False
        for code in (t["buyer"], t["seller"]):
            try:
                ensure_enterprise_access(user, code)
            except DomainError:
                continue
            seen = True
        if not seen:
            raise TradeNotFound(f"no trade {trade_id}", field="trade")
    names = {c: n for c in (t["buyer"], t["seller"]) if (n := _name(request, c))}
    return pdf_response(documents.trade_confirmation_pdf(t, names),
                        f"成交确认书-{trade_id}.pdf")


def decision_pdf(request: Request, user: Principal, number: str) -> Response:
    d = disclosure.penalty_decision(_p(request).read_uow(), number=number)
    own = _own(user)
    if own is not None and d["enterprise"] != own:
        raise DecisionNotFound(f"no penalty decision {number}", field="number")
    ensure_enterprise_access(user, d["enterprise"])
    return pdf_response(documents.penalty_decision_pdf(d), f"行政处罚决定书-{d['number']}.pdf")


def bill_pdf(request: Request, user: Principal, bill_id: int) -> Response:
    b: dict[str, Any] = paid_use.get_bill(_p(request).read_uow(), bill_id,
                                          enterprise=_own(user))
    ensure_enterprise_access(user, b["enterprise"])
    return pdf_response(documents.paid_use_bill_pdf(b, _name(request, b["enterprise"])),
                        f"有偿使用费缴款通知-{bill_id}.pdf")


@router.get("/trades/{trade_id}/confirmation.pdf", response_class=Response, responses=PDF)
def trade_confirmation_document(request: Request, trade_id: Id,
                                user: Principal = Depends(require("enterprise:read"))
                                ) -> Response:
    """The transaction confirmation of a trade the caller may see (PDF, A4, Chinese)."""
    return trade_pdf(request, user, trade_id)


@router.get("/penalties/decision.pdf", response_class=Response, responses=PDF)
def penalty_decision_document(request: Request,
                              number: Annotated[str, Query(min_length=1, max_length=60)],
                              user: Principal = Depends(require("enterprise:read"))
                              ) -> Response:
    """The administrative penalty decision `number` (PDF, A4, Chinese)."""
    return decision_pdf(request, user, number)


@router.get("/paid-use/bills/{bill_id}/notice.pdf", response_class=Response, responses=PDF)
def paid_use_bill_document(request: Request, bill_id: Id,
                           user: Principal = Depends(require("enterprise:read"))) -> Response:
    """The paid-use bill `bill_id` (PDF, A4, Chinese)."""
    return bill_pdf(request, user, bill_id)
