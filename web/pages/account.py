"""Log-in, log-out, language, API tokens and (administrator) users."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from identity import service as identity
from identity.errors import InvalidCredentials, TooManyAttempts
from identity.roles import Department, Principal, Role
from kernel.errors import DomainError
from web.auth import (
    LANG_COOKIE,
    SESSION_COOKIE,
    client_address,
    cookie_args,
    csrf_protect,
    current_user,
    require,
    sign_session,
)
from web.errors import status_of
from web.messages import confirm, error_text, login_message
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Id = Annotated[int, Path(ge=1, le=2**53)]
Vintage = Annotated[int, Path(ge=1900, le=2200)]


def safe_next(url: str | None) -> str:
    """Only local paths: no open redirects."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return ""
    return url[:500]


def _home_of(user: Principal) -> str:
    """After log-in: the role's workbench (issue 18), at the home page."""
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str | None, Query(max_length=500)] = None,
               reason: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    return render(request, "login.html", next=safe_next(next), reason=reason)


@router.post("/login", response_model=None)
def login(request: Request, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
          ) -> RedirectResponse | HTMLResponse:
    s = request.app.state.settings
    errors = forms.FieldErrors()
    name = forms.text(username, "username", errors, max_len=40)
    forms.text(password, "password", errors, max_len=200)
    request.state.audit = {"action": "login", "target": name, "actor": name}
    status = 422
    if not errors:
        try:
            raw, user = identity.login(
                _p(request).uow(), username=name, password=password,
                ip=client_address(request.scope) or "?",
                user_agent=request.headers.get("user-agent"), session_hours=s.session_hours,
                limits=identity.LoginLimits(
                    per_pair=s.login_max_per_user_address, per_ip=s.login_max_per_ip,
                    window=timedelta(minutes=s.login_window_minutes),
                    per_user=s.login_max_per_user,
                    slow_interval=timedelta(seconds=s.login_slow_seconds)))
        except (InvalidCredentials, TooManyAttempts) as exc:
            errors.add("form", login_message(exc, lang_of(request)))
            status = status_of(exc)
            resp = render(request, "login.html", status_code=status, errors=errors,
                          form={"username": name}, next=safe_next(next), reason=None)
            if isinstance(exc, TooManyAttempts):
                resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        ok = RedirectResponse(safe_next(next) or _home_of(user), status_code=303)
        ok.set_cookie(SESSION_COOKIE, sign_session(request, raw),
                      max_age=int(s.session_hours * 3600), **cookie_args(request))
        return ok
    return render(request, "login.html", status_code=status, errors=errors,
                  form={"username": name}, next=safe_next(next), reason=None)


@router.post("/logout", response_model=None)
def logout(request: Request,
           user: Principal | None = Depends(current_user)) -> RedirectResponse:
    if user is not None and user.session_key:
        identity.logout(_p(request).uow(), user.session_key)
    audit(request, "logout")
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{code}")
def set_lang(request: Request, code: str,
             next: Annotated[str | None, Query(max_length=500)] = None) -> RedirectResponse:
    resp = RedirectResponse(safe_next(next) or "/", status_code=303)
    if code in ("zh", "en"):
        resp.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, **cookie_args(request))
    return resp


def _tokens_page(request: Request, user: Principal, status: int = 200, **ctx: object
                 ) -> HTMLResponse:
    everyone = user.can("token:revoke_any")
    return render(request, "tokens.html", status_code=status,
                  tokens=identity.list_tokens(_p(request).uow(), viewer=user,
                                              everyone=everyone), **ctx)


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens(request: Request, user: Principal = Depends(require("token:own"))) -> HTMLResponse:
    return _tokens_page(request, user)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, name: Annotated[str, Form()] = "",
                 expires_days: Annotated[str, Form()] = "",
                 user: Principal = Depends(require("token:own"))) -> HTMLResponse:
    errors = forms.FieldErrors()
    n = forms.text(name, "name", errors, max_len=80)
    days = forms.whole(expires_days, "expires_days", errors, lo=1, hi=3650, required=False)
    audit(request, "create_token", None, n)
    if errors:
        return _tokens_page(request, user, 422, errors=errors,
                            form=dict(name=name, expires_days=expires_days))
    raw, out = identity.create_token(_p(request).uow(), owner=user, name=n, expires_days=days)
    request.state.audit["target"] = str(out["id"])
    # shown once, in the response to the POST; never stored, never in a URL
    return _tokens_page(request, user, 201, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke", response_model=None)
def revoke_token(request: Request, token_id: Id,
                 user: Principal = Depends(require("token:own"))) -> RedirectResponse:
    audit(request, "revoke_token", str(token_id))
    identity.revoke_token(_p(request).uow(), viewer=user, token_id=token_id)
    return see_other("/account/tokens", msg=confirm("Token {id} revoked.", id=token_id))


def _scope_error(exc: DomainError, errors: forms.FieldErrors) -> None:
    if exc.field in ("district", "department"):
        errors.add(exc.field, error_text(exc))
    else:
        errors.from_domain(exc)


def _users_page(request: Request, page: int = 1, status: int = 200, **ctx: object
                ) -> HTMLResponse:
    size = 100
    res = identity.list_users(_p(request).uow(), offset=(page - 1) * size, limit=size)
    return render(request, "users.html", status_code=status, res=res, page=page,
                  pages=max(1, -(-res["total"] // size)), pager_base="?", **ctx)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1,
          user: Principal = Depends(require("user:manage"))) -> HTMLResponse:
    return _users_page(request, page)


@router.post("/admin/users", response_model=None)
def create_user(request: Request, username: Annotated[str, Form()] = "",
                display_name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                enterprise: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                district: Annotated[str, Form()] = "", department: Annotated[str, Form()] = "",
                user: Principal = Depends(require("user:manage"))
                ) -> RedirectResponse | HTMLResponse:
    form = dict(username=username, display_name=display_name, role=role, enterprise=enterprise,
                district=district, department=department)
    errors = forms.FieldErrors()
    u = forms.text(username, "username", errors, max_len=40)
    d = forms.text(display_name, "display_name", errors, max_len=80)
    forms.choice(role, "role", errors, tuple(r.value for r in Role))
    ent = forms.text(enterprise, "enterprise", errors, max_len=18, required=False) or None
    dist = forms.text(district, "district", errors, max_len=20, required=False) or None
    if department:
        forms.choice(department, "department", errors, tuple(d.value for d in Department))
    if len(password) < 8:
        errors.add("password", "at least 8 characters")
    audit(request, "create_user", u, f"role={role}")
    status = 422
    if not errors:
        try:
            identity.create_user(_p(request).uow(), username=u, display_name=d, role=role,
                                 password=password, enterprise=ent, district=dist,
                                 department=department or None)
        except DomainError as exc:
            _scope_error(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/admin/users", msg=confirm("User {user} created.", user=u))
    return _users_page(request, 1, status, errors=errors, form=form)


@router.post("/admin/users/{username}/active", response_model=None)
def set_active(request: Request, username: str, active: Annotated[str, Form()] = "",
               user: Principal = Depends(require("user:manage"))) -> RedirectResponse:
    audit(request, "set_user_active", username, f"active={active}")
    identity.set_user_active(_p(request).uow(), username=username, active=active == "true")
    done = "User {user} activated." if active == "true" else "User {user} deactivated."
    return see_other("/admin/users", msg=confirm(done, user=username))



@router.post("/admin/users/{username}/scope", response_model=None)
def set_scope(request: Request, username: str, district: Annotated[str, Form()] = "",
              department: Annotated[str, Form()] = "",
              user: Principal = Depends(require("user:manage"))
              ) -> RedirectResponse | HTMLResponse:
    """A bureau user's district (empty: the city) and department (empty: every one)."""
    audit(request, "set_user_scope", username, f"{district}/{department}")
    try:
        identity.set_user_scope(_p(request).uow(), username=username,
                                district=district.strip() or None,
                                department=department or None)
    except DomainError as exc:
        errors = forms.FieldErrors()
        _scope_error(exc, errors)
        return _users_page(request, 1, status_of(exc), errors=errors, form={})
    return see_other("/admin/users", msg=confirm(
        "Scope of {user}: {district}, {department}.", user=username,
        district=district or confirm("the city"),
        department=("role", department) if department else confirm("every department")))
