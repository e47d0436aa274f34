"""Changing one's own password (issue 18): a form with the current password and the new one
twice; the rules and what happens to other sessions and tokens are identity.account_service's.
Every logged-in user may change its own password (the API's route takes a bearer token too).
Wrong current passwords are limited like log-ins (identity.account_service): past the limit the
form says for how long and until when (Beijing time), and answers 429 with Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from identity import account_service as account
from identity.errors import PasswordRejected, TooManyAttempts, WrongPassword
from identity.roles import Principal
from kernel.beijing import beijing_time
from web.auth import csrf_protect, require_user
from web.errors import status_of
from web.i18n import N_, translator
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

#: PasswordRejected.rule → the text shown (English msgid, web/i18n_accounts.py)
RULE_TEXT = {"mismatch": "The two new passwords differ.",
             "too_short": "The new password needs at least 8 characters.",
             "too_long": "The new password may have at most 200 characters.",
             "unchanged": "The new password must differ from the current one."}
WRONG = "The current password is wrong."
#: wrong current passwords over the limit (identity.account_service): for how long, until when
WRONG_LOCKED = N_("The current password is wrong. Too many wrong attempts: changing the "
                  "password is refused for {wait}; try again after {at} (Beijing time).")
LOCKED = N_("Too many wrong current passwords. Please try again in {wait}, after {at} "
            "(Beijing time).")
DONE = ("Password changed. Other sessions ended: {n}. API tokens are kept; review them under "
        "API tokens.")


def refused_for(text: str, secs: int, lang: str, now: datetime | None = None) -> str:
    """`text` (a msgid with {wait} and {at}) in `lang`: the wait, and its end in Beijing
    time rounded up to the minute."""
    _ = translator(lang)
    wait = (_("{n} s").format(n=secs) if secs < 60
            else _("{n} min").format(n=-(-secs // 60)))
    until = (now or datetime.now(UTC)) + timedelta(seconds=secs)
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return _(text).format(wait=wait, at=beijing_time(until))


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, user: Principal = Depends(require_user)) -> HTMLResponse:
    return render(request, "account_password.html")


@router.post("/account/password", response_model=None)
def change_password(request: Request, old_password: Annotated[str, Form()] = "",
                    new_password: Annotated[str, Form()] = "",
                    new_password_again: Annotated[str, Form()] = "",
                    user: Principal = Depends(require_user)
                    ) -> RedirectResponse | HTMLResponse:
    _ = translator(lang_of(request))
    audit(request, "change_password", user.username)
    errors = forms.FieldErrors()
    for name, value in (("old_password", old_password), ("new_password", new_password),
                        ("new_password_again", new_password_again)):
        if not value:
            errors.add(name, _("Required."))
    status = 422
    if not errors:
        try:
            out = account.change_password(
                _p(request).uow(), username=user.username, old_password=old_password,
                new_password=new_password, new_password_again=new_password_again,
                session_key=user.session_key if user.via == "session" else None)
        except WrongPassword as exc:
            errors.add("old_password", _(WRONG) if not exc.retry_after else refused_for(
                WRONG_LOCKED, exc.retry_after, lang_of(request)))
            status = status_of(exc)
        except TooManyAttempts as exc:
            errors.add("old_password", refused_for(LOCKED, exc.retry_after, lang_of(request)))
            resp = render(request, "account_password.html", status_code=status_of(exc),
                          errors=errors)
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        except PasswordRejected as exc:
            errors.add(exc.field or "new_password", _(RULE_TEXT.get(exc.rule, exc.message)))
            status = status_of(exc)
        else:
            request.state.audit["detail"] = f"sessions revoked: {out.sessions_revoked}"
            return see_other("/account/password",
                             msg=_(DONE).format(n=out.sessions_revoked))
    return render(request, "account_password.html", status_code=status, errors=errors)
