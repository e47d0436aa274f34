"""What every page module uses: the platform of the request, the audit note of a form post,
and the redirect after a post (with its flash message). A leaf module, so that page modules
never import each other for these."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.wiring import Platform


def _p(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def see_other(url: str, *, msg: str | None = None) -> RedirectResponse:
    if msg:
        url += ("&" if "?" in url else "?") + f"msg={quote(msg)}"
    return RedirectResponse(url, status_code=303)


def audit(request: Request, action: str, target: str | None = None,
          detail: str | None = None) -> None:
    request.state.audit = {"action": action, "target": target, "detail": detail}
