"""What every page module uses: the platform of the request and the audit note of a form
post (the API's own, `web.api.common`), and the redirect after a post (with its flash
message). Page modules import these from here, never from each other."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from web import flash
from web.api.common import audit
from web.api.common import platform as _p


def see_other(url: str, *, msg: str | None = None, err: str | None = None
              ) -> RedirectResponse:
    """A 303 to `url`; `msg` (a confirmation) or `err` is held server-side for this browser
    and shown once on its next page (web.flash), never put in the URL."""
    if msg:
        flash.push(None, "msg", msg)
    if err:
        flash.push(None, "err", err)
    return RedirectResponse(url, status_code=303)


__all__ = ["_p", "audit", "see_other"]
