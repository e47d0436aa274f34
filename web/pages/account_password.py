"""Changing one's own password (issue 18): a form with the current password and the new one
twice; the rules and what happens to other sessions and tokens are identity.account_service's.
Every logged-in user may change its own password; a bearer token may not (API: the same)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from identity import account_service as account
from identity.errors import PasswordRejected, WrongPassword
from identity.roles import Principal
from web.auth import csrf_protect, require_user
from web.errors import status_of
from web.i18n import translator
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
DONE = ("Password changed. Other sessions ended: {n}. API tokens are kept; review them under "
        "API tokens.")


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
            errors.add("old_password", _(WRONG))
            status = status_of(exc)
        except PasswordRejected as exc:
            errors.add(exc.field or "new_password", _(RULE_TEXT.get(exc.rule, exc.message)))
            status = status_of(exc)
        else:
            request.state.audit["detail"] = f"sessions revoked: {out.sessions_revoked}"
            return see_other("/account/password",
                             msg=_(DONE).format(n=out.sessions_revoked))
    return render(request, "account_password.html", status_code=status, errors=errors)
