"""JSON API of in-app notifications and the workbench under /api/v1 (issue 18).

- ``GET /notifications``: the caller's notifications, newest first (``unread=true``: unread
  only), with ``unread`` (the count) and per item ``kind``, ``ref``, ``params`` (amounts in
  fen, quantities in kg, prices in fen per tonne, dates ISO) and ``text`` (the sentence in
  the caller's language, as the pages show it).
- ``POST /notifications/read``: mark the caller's notifications read (``ids``; omitted or
  null: all); another user's ids are ignored. Answers ``{"marked": n, "unread": m}``.
- ``GET /workbench``: the caller's to-do counts (bureau, enterprise) or scenarios (analyst).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from compliance import workbench_service as wb
from identity.roles import Principal, Role
from notices import service as notices
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.auth import csrf_protect, require_user
from web.notice_words import text
from web.pages.render import lang_of

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["notifications"])


class ReadIn(Strict):
    ids: list[Annotated[int, Field(ge=1, le=2**53)]] | None = Field(
        default=None, max_length=1000, description="notification ids; null: all")


@router.get("/notifications", responses=READ)
def list_notifications(request: Request, unread: bool = False,
                       offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
                       limit: Annotated[int, Query(ge=1, le=notices.MAX_LIMIT)] = 50,
                       user: Principal = Depends(require_user)) -> dict[str, Any]:
    """The caller's notifications, newest first."""
    res = notices.notifications(_p(request).read_uow(), user.username, unread_only=unread,
                                offset=offset, limit=limit)
    lang = lang_of(request)
    res["items"] = [dict(n, text=text(n, lang)) for n in res["items"]]
    return res


@router.post("/notifications/read", responses=WRITE)
def read_notifications(request: Request, body: ReadIn | None = None,
                       user: Principal = Depends(require_user)) -> dict[str, int]:
    """Mark notifications read; no body or ``ids`` null marks all."""
    ids = body.ids if body is not None else None
    _audit(request, "read_notifications", user.username, f"{len(ids) if ids else 'all'}")
    p = _p(request)
    n = notices.mark_read(p.uow(), user.username, ids)
    return {"marked": n, "unread": notices.unread_count(p.read_uow(), user.username)}


@router.get("/workbench", responses=READ)
def workbench(request: Request, user: Principal = Depends(require_user)) -> dict[str, Any]:
    """What waits for the caller: counts by item key (see docs), or an analyst's scenarios."""
    p = _p(request)
    out: dict[str, Any] = {"role": user.role.value, "items": [], "scenarios": None}
    if user.is_bureau:
        out["items"] = wb.bureau_workbench(p.read_uow(), username=user.username,
                                           district=user.district)
    elif user.role == Role.TRADER and user.enterprise:
        out["items"] = wb.enterprise_workbench(p.read_uow(), enterprise=user.enterprise)
    elif user.role == Role.ANALYST:
        out["scenarios"] = wb.analyst_workbench(p.read_uow(), username=user.username)
    out["unread"] = notices.unread_count(p.read_uow(), user.username)
    return out
