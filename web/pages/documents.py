"""The PDF documents as the pages link them (`/documents/…`): the same documents and access
rules as the API's (`web.api.documents`): a trader its own enterprise's, the bureau every
one (a district officer its district's), nobody else."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from identity.roles import Principal
from web.api import documents as docs
from web.auth import csrf_protect, require

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Id = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/documents/trades/{trade_id}.pdf")
def trade_confirmation(request: Request, trade_id: Id,
                       user: Principal = Depends(require("enterprise:read"))) -> Response:
    return docs.trade_pdf(request, user, trade_id)


@router.get("/documents/penalty-decision.pdf")
def penalty_decision(request: Request,
                     number: Annotated[str, Query(min_length=1, max_length=60)],
                     user: Principal = Depends(require("enterprise:read"))) -> Response:
    return docs.decision_pdf(request, user, number)


@router.get("/documents/bills/{bill_id}.pdf")
def paid_use_bill(request: Request, bill_id: Id,
                  user: Principal = Depends(require("enterprise:read"))) -> Response:
    return docs.bill_pdf(request, user, bill_id)
