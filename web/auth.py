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
        ensure_enterprise_access(user, code)     # a trader sees its own enterprise only,
        ...                                      # a district officer its district's

    ensure_permit_access(user, permit)           # bureau routes taking a permit

Departments: `require(permission)` checks the role on every request and, on unsafe methods
(POST, PUT, DELETE, PATCH), the caller's department against identity.roles.DEPARTMENTS:
reads stay open to every bureau user, a write outside the department is 403.

Levels: a district officer (Principal.district set) sees the enterprises and permits of its
district only; any other answers exactly like a missing object (404). The district is looked
up through the platform the caller was resolved with, so call sites need not pass a unit of
work (they may, e.g. inside a service's own transaction).

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
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
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
           "require_role", "ensure_enterprise_access", "ensure_permit_access",
           "ensure_department", "district_scope", "csrf_token", "csrf_protect"]


class EnterpriseNotVisible(NotFound):
    """Another enterprise's object: answered exactly like a missing one."""

    code = "enterprise_not_found"


class PermitNotVisible(NotFound):
    """A permit of another district: answered exactly like a missing one."""

    code = "permit_not_found"


@dataclass(frozen=True, slots=True)
class Caller(Principal):
    """The principal as the web resolved it, with the platform its district look-ups use."""

    platform: Any = field(default=None, compare=False, repr=False)


def _as_caller(p: Principal | None, platform: Any) -> Principal | None:
    if p is None or p.district is None:
        return p
    return Caller(p.username, p.display_name, p.role, p.enterprise, p.via, p.session_key,
                  p.district, p.department, platform=platform)


def _lookup_uow(user: Principal, uow: Any) -> Any:
    if uow is not None:
        return uow
    platform = getattr(user, "platform", None)
    return None if platform is None else platform.read_uow()


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _platform(request: Request) -> Any:
    return request.app.state.platform


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it ("1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1"), with an
    IPv4-mapped IPv6 address as its IPv4 form; None when it is none of those."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def forwarded_client(peer: str | None, forwarded_for: list[str],
                     trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
                     ) -> str | None:
    """The client's address: the socket `peer`, unless the peer is a trusted proxy; then the
    X-Forwarded-For hops are read from the right (the nearest first), skipping trusted
    proxies, and the first untrusted one is the client. A hop that is not an address ends
    the walk at the last good one (what lies left of it was written by the client)."""
    if peer is None:
        return None
    addr = _address(peer)
    if addr is None:
        return peer
    client = addr
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    while any(client in net for net in trusted) and hops:
        hop = _address(hops.pop())
        if hop is None:
            break
        client = hop
    return str(client)


def client_address(scope: Any) -> str | None:
    """The client's address for a request (`request.scope` or an ASGI scope): the socket
    peer, or what trusted proxies (`Settings.trusted_proxies`, none by default) say in
    X-Forwarded-For. The one answer used by log-in throttling, sessions and the audit log;
    `erts serve` keeps uvicorn from rewriting the peer itself."""
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    trusted = getattr(settings, "trusted_proxy_networks", ())
    client = scope.get("client")
    peer = client[0] if client else None
    if not trusted:
        return peer
    forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ())
                 if k == b"x-forwarded-for"]
    return forwarded_client(peer, forwarded, trusted)


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
    principal = _as_caller(principal, platform)
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
    """Dependency: a logged-in caller whose role holds `permission` (identity.roles), and on
    unsafe methods whose department may exercise it."""

    def dependency(request: Request) -> Principal:
        user = require_user(request)
        if not user.can(permission, acting=False):
            raise NotAllowed(f"role {user.role.value} may not do this ({permission})")
        if request.method not in SAFE_METHODS and not user.can(permission):
            dept = user.department.value if user.department else ""
            raise NotAllowed(f"the {dept} department may not do this ({permission})")
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


def ensure_enterprise_access(user: Principal | None, credit_code: str, uow: Any = None
                             ) -> Principal:
    """Object-level check for anything that belongs to an enterprise: the city bureau sees
    every enterprise, a district officer those of its district, a trader only its own;
    everyone else gets 404 as if it did not exist."""
    if user is None:
        raise NotAuthenticated("log in to see an enterprise")
    if user.is_bureau:
        if user.district is None:
            return user
        lookup = _lookup_uow(user, uow)
        if lookup is not None and identity.district_of_enterprise(lookup, credit_code) \
                == user.district:
            return user
        raise EnterpriseNotVisible(f"no enterprise {credit_code}", field="credit_code")
    if user.role == Role.TRADER and user.enterprise == credit_code:
        return user
    raise EnterpriseNotVisible(f"no enterprise {credit_code}", field="credit_code")


def ensure_permit_access(user: Principal | None, permit: str, uow: Any = None) -> Principal:
    """Object-level check of bureau routes taking a permit: a district officer acts on the
    permits of its district's enterprises only (404 otherwise, as if missing). Other roles
    pass: their routes check the permit's enterprise themselves."""
    if user is None:
        raise NotAuthenticated("log in to act on a permit")
    if not user.is_bureau or user.district is None:
        return user
    lookup = _lookup_uow(user, uow)
    if lookup is not None and identity.district_of_permit(lookup, permit) == user.district:
        return user
    raise PermitNotVisible(f"no permit {permit}", field="permit")


def ensure_department(user: Principal, permission: str) -> Principal:
    """For routes shared by traders and the bureau: a bureau caller's department must hold
    `permission` (403 otherwise); other roles pass (their route checked them)."""
    if user.is_bureau and not user.can(permission):
        dept = user.department.value if user.department else ""
        raise NotAllowed(f"the {dept} department may not do this ({permission})")
    return user


def city_bureau(request: Request) -> None:
    """Dependency of the municipality-wide bureau actions (computations, apportionment,
    standards, the reserve's plans and releases, permit imports, the missing-report run):
    the city bureau's, not a district officer's (403)."""
    user, _ = _resolve(request)
    if user is not None and user.is_bureau and user.district is not None:
        raise NotAllowed("only the city bureau may do this: it concerns the whole "
                         "municipality")


def district_scope(request: Request) -> str | None:
    """The district a bureau list must be filtered to (a district officer's), or None."""
    user, _ = _resolve(request)
    return user.district if user is not None and user.is_bureau else None


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
