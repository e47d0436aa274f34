"""The workbench by role (the home page after log-in) and the notification list (issue 18).

- `GET /` for a logged-in user (web.pages.routes.home): a bureau user's to-do list, an
  enterprise trader's, an analyst's scenarios; counts link to the page of the work, the
  newest unread notifications below.
- `GET /notifications`: the user's notifications, newest first (`?unread=1`: unread only).
- `POST /notifications/read`: mark read (`id` fields; none: all), then 303 back. GET never
  marks anything read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from compliance import workbench_service as wb
from identity.roles import Principal, Role
from notices import service as notices
from web.auth import csrf_protect, require_user
from web.notice_words import ITEMS, item_link, link, route_paths, text, when
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
SIZE = 30


def _decorate(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lang, routes = lang_of(request), route_paths(request)
    return [dict(n, text=text(n, lang), link=link(n, routes), when=when(n, lang))
            for n in items]


def workbench(request: Request, user: Principal) -> HTMLResponse:
    """The role's workbench (called by the home route for a logged-in user)."""
    p = _p(request)
    routes = route_paths(request)
    todo: list[dict[str, Any]] = []
    scenarios: dict[str, Any] | None = None
    if user.is_bureau:
        todo = wb.bureau_workbench(p.read_uow(), username=user.username,
                                   district=user.district)
        if user.district is not None:  # city-wide work a district officer does not do
            todo = [t for t in todo if t["key"] not in ("transfers_awaiting_approval",
                                                        "permit_imports_with_errors")]
    elif user.role == Role.TRADER and user.enterprise:
        todo = wb.enterprise_workbench(p.read_uow(), enterprise=user.enterprise)
    elif user.role == Role.ANALYST:
        scenarios = wb.analyst_workbench(p.read_uow(), username=user.username)
    for t in todo:
        t["label"] = ITEMS[t["key"]][0]
        t["link"] = item_link(t["key"], user.enterprise, routes)
        if t["key"] == "hearings_upcoming" and t["link"] and t.get("items"):
            t["link"] += f"#case-{t['items'][0]['case']}"  # the nearest hearing's case
    todo.sort(key=lambda t: (not t["count"], not t.get("urgent")))  # work waiting first
    recent = notices.notifications(p.read_uow(), user.username, unread_only=True, limit=5)
    return render(request, "workbench.html", todo=todo, scenarios=scenarios,
                  recent=_decorate(request, recent["items"]), unread_total=recent["total"])


@router.get("/notifications", response_class=HTMLResponse)
def notification_list(request: Request,
                      unread: Annotated[int, Query(ge=0, le=1)] = 0,
                      page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                      user: Principal = Depends(require_user)) -> HTMLResponse:
    res = notices.notifications(_p(request).read_uow(), user.username,
                                unread_only=bool(unread), offset=(page - 1) * SIZE,
                                limit=SIZE)
    return render(request, "notifications.html", res=res, unread_only=bool(unread),
                  items=_decorate(request, res["items"]), page=page,
                  pager_base="/notifications?unread=1&" if unread else "/notifications?",
                  pages=max(1, -(-int(res["total"]) // SIZE)))


@router.post("/notifications/read", response_model=None)
def notification_read(request: Request,
                      id: Annotated[list[int] | None, Form(max_length=200)] = None,  # noqa: A002
                      next: Annotated[str, Form(max_length=300)] = "/notifications",  # noqa: A002
                      user: Principal = Depends(require_user)) -> RedirectResponse:
    ids = [i for i in (id or []) if 1 <= i <= 2**53]
    audit(request, "read_notifications", user.username, f"{len(ids) or 'all'}")
    n = notices.mark_read(_p(request).uow(), user.username, ids or None)
    # back to the list (or the workbench); never to another site
    target = next if next in ("/", "/notifications", "/notifications?unread=1") \
        else "/notifications"
    from web.i18n import plural_translator

    ngettext = plural_translator(lang_of(request))
    return see_other(target, msg=ngettext("%(n)s notification marked read",
                                          "%(n)s notifications marked read", n) % {"n": n})
