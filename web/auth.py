"""Authentication and authorization for pages and the API: the one place that says who is
calling and whether they may.

How to protect a route (pages and API alike):

    from web.auth import current_user, require, require_role, ensure_enterprise_access

    @router.get("/things")                       # anyone, logged in or not
    def things(user: Principal | None = Depends(current_user)): ...

    @router.post("/bureau/things")               # a permission from identity.roles.PERMISSIONS
    def make(user: Principal = Depends(require("rights:confirm"))): ...

    @router.get("/x")                            # or roles by name
    def x(user: Principal = Depends(require_role(Role.ANALYST, *BUREAU))): ...

    @router.get("/enterprises/{code}/bids")      # object level: every route taking an id
    def bids(code: str, user: Principal = Depends(require("enterprise:read"))):
        ensure_enterprise_access(user, code)     # a trader sees its own enterprise only
        ...

Credentials: `Authorization: Bearer erts_…` (API tokens), or the `erts_session` cookie
(signed, HttpOnly, SameSite=Lax, Secure outside development) holding a server-side session
id. Unauthenticated: API 401 (`WWW-Authenticate: Bearer`), pages 303 to /login. Forbidden
role: 403 `forbidden`. Another enterprise's object: 404, the same as a missing one.

CSRF: every unsafe request authenticated by a cookie (and the anonymous log-in form) must
carry the token from `csrf_token(request)` as the form field `csrf_token` or the
`X-CSRF-Token` header; pages get it as `csrf` in every template. Bearer requests carry no
cookie and need none. Routers install `csrf_protect` once as a router dependency.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from identity import service as identity
from identity.errors import CsrfFailed, NotAllowed, NotAuthenticated
from identity.roles import BUREAU, Principal, Role
from kernel.errors import DomainError, NotFound

SESSION_COOKIE = "erts_session"
ANON_COOKIE = "erts_anon"
LANG_COOKIE = "erts_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

__all__ = ["BUREAU", "Principal", "Role", "current_user", "require_user", "require",
           "require_role", "ensure_enterprise_access", "csrf_token", "csrf_protect"]


class EnterpriseNotVisible(NotFound):
    """Another enterprise's object: answered exactly like a missing one."""

    code = "enterprise_not_found"


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _platform(request: Request) -> Any:
    return request.app.state.platform


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_settings(request).secret_key, salt="erts.session")


def sign_session(request: Request, raw: str) -> str:
    return _serializer(request).dumps(raw)


def _unsign_session(request: Request, value: str) -> str | None:
    max_age = int(_settings(request).session_hours * 3600)
    try:
        raw = _serializer(request).loads(value, max_age=max_age)
    except BadSignature:
        return None
    return raw if isinstance(raw, str) else None


def _resolve(request: Request) -> tuple[Principal | None, DomainError | None]:
    """The caller, or None; and why not when credentials were sent but failed. Cached."""
    state = request.state
    if hasattr(state, "auth"):
        return state.auth  # type: ignore[no-any-return]
    principal: Principal | None = None
    error: DomainError | None = None
    header = request.headers.get("authorization", "")
    platform = _platform(request)
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            error = NotAuthenticated("use 'Authorization: Bearer <token>'")
        else:
            try:
                principal = identity.token_principal(platform.read_uow(), raw.strip())
            except NotAuthenticated as exc:
                error = exc
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            raw_sid = _unsign_session(request, cookie)
            if raw_sid is None:
                from identity.errors import SessionExpired

                error = SessionExpired("the session has expired; please log in again")
            else:
                try:
                    principal = identity.session_principal(platform.read_uow(), raw_sid)
                except NotAuthenticated as exc:
                    error = exc
    state.auth = (principal, error)
    state.principal = principal  # read by the audit middleware
    return principal, error


def current_user(request: Request) -> Principal | None:
    """The caller or None (anonymous, or credentials that failed: public pages still work)."""
    principal, error = _resolve(request)
    if error is not None and request.headers.get("authorization"):
        raise error  # a bad bearer token is an error even on public routes
    return principal


def require_user(request: Request) -> Principal:
    principal, error = _resolve(request)
    if principal is None:
        raise error or NotAuthenticated("log in, or send 'Authorization: Bearer <token>'")
    return principal


def require(permission: str) -> Callable[[Request], Principal]:
    """Dependency: a logged-in caller whose role holds `permission` (identity.roles)."""

    def dependency(request: Request) -> Principal:
        user = require_user(request)
        if not user.can(permission):
            raise NotAllowed(f"role {user.role.value} may not do this ({permission})")
        return user

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency


def require_role(*roles: Role) -> Callable[[Request], Principal]:
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        user = require_user(request)
        if user.role not in allowed:
            raise NotAllowed(f"role {user.role.value} may not do this")
        return user

    return dependency


def ensure_enterprise_access(user: Principal | None, credit_code: str) -> Principal:
    """Object-level check for anything that belongs to an enterprise: the bureau sees every
    enterprise, a trader only its own; everyone else gets 404 as if it did not exist."""
    if user is None:
        raise NotAuthenticated("log in to see an enterprise")
    if user.is_bureau:
        return user
    if user.role == Role.TRADER and user.enterprise == credit_code:
        return user
    raise EnterpriseNotVisible(f"no enterprise {credit_code}", field="credit_code")


# CSRF --------------------------------------------------------------------------------------

def _csrf_for(request: Request, key: str) -> str:
    secret = _settings(request).secret_key.encode()
    return hmac.new(secret, f"csrf:{key}".encode(), hashlib.sha256).hexdigest()


def anon_key(request: Request) -> str:
    """The anonymous CSRF nonce (cookie), created on first use; see `set_anon_cookie`."""
    key = request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon", None)
    if not key:
        key = secrets.token_urlsafe(24)
        request.state.new_anon = key
    return str(key)


def csrf_token(request: Request) -> str:
    principal, _ = _resolve(request)
    if principal is not None and principal.session_key:
        return _csrf_for(request, principal.session_key)
    return _csrf_for(request, anon_key(request))


async def csrf_protect(request: Request) -> None:
    """Router dependency: unsafe methods authenticated by cookie must carry the token."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization"):
        return  # bearer clients send no ambient credentials
    principal, error = _resolve(request)
    if principal is None and error is not None:
        raise error  # an expired session: log in again first
    if principal is None and request.url.path.startswith("/api/"):
        return  # no ambient credentials to abuse: the route's auth answers 401
    if principal is not None and principal.session_key:
        expected = _csrf_for(request, principal.session_key)
    else:
        nonce = request.cookies.get(ANON_COOKIE)
        if not nonce:
            raise CsrfFailed("missing CSRF cookie; reload the form and try again")
        expected = _csrf_for(request, nonce)
    sent = request.headers.get("x-csrf-token")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfFailed("the form's CSRF token is missing or wrong; reload and try again")


def cookie_args(request: Request) -> dict[str, Any]:
    return dict(httponly=True, samesite="lax", secure=_settings(request).secure_cookies,
                path="/")
