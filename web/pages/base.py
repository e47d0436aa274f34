"""What every page module uses: the platform of the request and the audit note of a form
post (the API's own, `web.api.common`), and the redirect after a post (with its flash
message). Page modules import these from here, never from each other."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import RedirectResponse

from web.api.common import audit
from web.api.common import platform as _p


def see_other(url: str, *, msg: str | None = None) -> RedirectResponse:
    if msg:
        url += ("&" if "?" in url else "?") + f"msg={quote(msg)}"
    return RedirectResponse(url, status_code=303)


__all__ = ["_p", "audit", "see_other"]
