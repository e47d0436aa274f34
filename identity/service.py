"""Identity use cases. Each runs in one unit of work (`with uow: ...; uow.commit()`).

Guarantees:
- passwords are verified against argon2id (or the demo's scrypt, upgraded on log-in); an
  unknown user costs the same hash verification, so timing does not reveal usernames;
- log-in is throttled per user and address, per address, and (slowing, not locking) per
  user, with counters locked while an attempt is claimed, so the limits hold under
  concurrency (`LoginLimits`, `login`);
- sessions and tokens are random 256-bit secrets stored only as SHA-256 digests; a revoked,
  expired or deactivated one authenticates nothing;
- an approval request runs its action at most once: a second officer claims it
  (pending → executing, committed), the caller runs the action, then records the outcome.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from identity import passwords
from identity.errors import (
    ApprovalNotFound,
    ApprovalNotPending,
    IdempotencyKeyReused,
    InvalidCredentials,
    NotAllowed,
    NotAuthenticated,
    ScopeNotForRole,
    SelfApproval,
    SessionExpired,
    TokenNotFound,
    TooManyAttempts,
    UnknownDistrict,
    UnknownTransactionType,
    UserExists,
    UserNotFound,
)
from identity.roles import BUREAU, Principal, Role, parse_department, parse_role
from identity.store import IdentityStore
from identity.tables import (
    ApiTokenRow,
    ApprovalPolicyRow,
    ApprovalRow,
    AuditRow,
    IdempotencyRow,
    LoginAttemptRow,
    SessionRow,
    UserRow,
)
from kernel.clock import system_clock
from kernel.errors import InvalidInput
from ledger.service import UoW
from ledger.transactions import TYPES
from notices import service as notify

TOKEN_PREFIX = "erts_"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


def _principal(u: UserRow, via: str, session_key: str | None = None) -> Principal:
    return Principal(u.username, u.display_name, Role(u.role), u.enterprise, via, session_key,
                     district=u.district, department=parse_department(u.department))


def _scope(store: IdentityStore, role: Role, district: str | None, department: str | None
           ) -> tuple[str | None, str | None]:
    """Validated (district, department) for a user of `role`: bureau users only."""
    district, dept = district or None, parse_department(department)
    if role not in BUREAU:
        if district is not None:
            raise ScopeNotForRole("only bureau users belong to a district", field="district")
        if dept is not None:
            raise ScopeNotForRole("only bureau users belong to a department",
                                  field="department")
    if district is not None and not store.district_exists(district):
        raise UnknownDistrict(f"no district {district}", field="district")
    return district, None if dept is None else dept.value


# users -------------------------------------------------------------------------------------

def create_user(uow: UoW, *, username: str, display_name: str, role: str, password: str,
                enterprise: str | None = None, password_hash: str | None = None,
                district: str | None = None, department: str | None = None) -> None:
    """Create a user. A trader must name its enterprise; other roles must not. Bureau users
    may name a district (None: the city) and a department (None: every department)."""
    r = parse_role(role)
    parse_department(department)
    if not username or len(username) > 40 or not username.replace("_", "").replace(
            "-", "").replace(".", "").isalnum():
        raise InvalidInput("username: 1-40 letters, digits, '.', '-' or '_'", field="username")
    if r == Role.TRADER and not enterprise:
        raise InvalidInput("a trader must belong to an enterprise", field="enterprise")
    if r != Role.TRADER and enterprise:
        raise InvalidInput("only traders belong to an enterprise", field="enterprise")
    if password_hash is None and len(password) < 4:
        raise InvalidInput("password: at least 4 characters", field="password")
    with uow:
        store = IdentityStore(uow.session)
        if store.user(username) is not None:
            raise UserExists(f"user {username} exists", field="username")
        dist, dept = _scope(store, r, district, department)
        ok = store.add_user(UserRow(
            username=username, display_name=display_name[:80], role=r.value,
            enterprise=enterprise, district=dist, department=dept,
            password_hash=password_hash or passwords.hash_password(password), active=True))
        if not ok:  # the enterprise foreign key refused it
            raise InvalidInput(f"no enterprise {enterprise}", field="enterprise")
        uow.commit()


def principal_of(uow: UoW, username: str, via: str = "token") -> Principal:
    """The principal of an active user (for tokens made by tools and tests)."""
    with uow:
        u = IdentityStore(uow.session).user(username)
        if u is None or not u.active:
            raise UserNotFound(f"no active user {username}", field="username")
        return _principal(u, via)


def _user_dict(u: UserRow) -> dict[str, Any]:
    return dict(username=u.username, display_name=u.display_name, role=u.role,
                enterprise=u.enterprise, active=u.active, district=u.district,
                department=u.department)


def list_users(uow: UoW, *, offset: int = 0, limit: int = 100) -> dict[str, Any]:
    with uow:
        rows, total = IdentityStore(uow.session).users(offset, limit)
        return dict(total=total, offset=offset, limit=limit, items=[_user_dict(u) for u in rows])


def set_user_scope(uow: UoW, *, username: str, district: str | None,
                   department: str | None) -> dict[str, Any]:
    """Move a bureau user to a district (None: the city) and a department (None: every
    department). Its sessions end, so the next request carries the new scope."""
    with uow:
        store = IdentityStore(uow.session)
        u = store.user(username)
        if u is None:
            raise UserNotFound(f"no user {username}", field="username")
        u.district, u.department = _scope(store, Role(u.role), district, department)
        store.revoke_sessions_of(username)
        uow.commit()
    forget_tokens()  # its tokens carry the scope: at once here, elsewhere within the bound
    return _user_dict(u)


def district_of_enterprise(uow: UoW, credit_code: str) -> str | None:
    """The enterprise's district, or None when there is no such enterprise."""
    with uow:
        return IdentityStore(uow.session).enterprise_district(credit_code)


def district_of_permit(uow: UoW, permit: str) -> str | None:
    """The district of the permit's enterprise, or None when there is no such permit."""
    with uow:
        return IdentityStore(uow.session).permit_district(permit)


def set_user_active(uow: UoW, *, username: str, active: bool) -> dict[str, Any]:
    """Deactivating a user also ends its sessions; its tokens stop working."""
    with uow:
        store = IdentityStore(uow.session)
        u = store.user(username)
        if u is None:
            raise UserNotFound(f"no user {username}", field="username")
        u.active = active
        if not active:
            store.revoke_sessions_of(username)
        uow.commit()
    forget_tokens()  # its tokens: at once here, elsewhere within TOKEN_CACHE_SECONDS
    return _user_dict(u)


# log-in and sessions -----------------------------------------------------------------------

@dataclass(frozen=True)
class LoginLimits:
    """The log-in throttle. Failures are counted in fixed windows of `window`, per counter:

    - `per_pair` failures for one user from one address: then that user is refused from that
      address until the window ends; from any other address it can still log in, so nobody
      can lock a user (the administrator included) out from everywhere;
    - `per_ip` failures from one address over every user (guessing across usernames): then
      that address is refused until the window ends;
    - `per_user` failures for one user from every address together (a guess spread over many
      addresses): past it the user is slowed, not locked: one attempt per `slow_interval`
      from any address the user has not logged in from within `known_for`; addresses it has
      logged in from are exempt and keep only the two limits above.
    """

    per_pair: int = 5
    per_ip: int = 20
    window: timedelta = timedelta(minutes=15)
    per_user: int = 30
    slow_interval: timedelta = timedelta(seconds=20)
    known_for: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Counter:
    """A log-in counter as read: failures since `window_start`, the last attempt claimed."""

    window_start: datetime
    failures: int
    last_at: datetime | None = None


def _seconds(d: timedelta) -> int:
    """Whole seconds to wait, rounded up, at least 1 (a Retry-After value)."""
    return max(1, -int(-d.total_seconds() // 1))


def throttle_wait(*, now: datetime, limits: LoginLimits, pair: Counter, ip: Counter,
                  user: Counter, known: bool) -> int | None:
    """Seconds until an attempt may be checked, or None: it may be checked now. Counters
    whose window has ended count as empty. Pure: the caller holds the rows locked."""
    waits: list[int] = []

    def current(c: Counter) -> int:
        return 0 if c.window_start <= now - limits.window else c.failures

    for c, limit in ((pair, limits.per_pair), (ip, limits.per_ip)):
        if current(c) >= limit:
            waits.append(_seconds(c.window_start + limits.window - now))
    if not known and current(user) >= limits.per_user and user.last_at is not None \
            and user.last_at + limits.slow_interval > now:
        waits.append(_seconds(user.last_at + limits.slow_interval - now))
    return max(waits) if waits else None


def login(uow: UoW, *, username: str, password: str, ip: str, user_agent: str | None,
          session_hours: float, limits: LoginLimits = LoginLimits(),
          now: datetime | None = None) -> tuple[str, Principal]:
    """Check the password and open a session. Returns the raw session id (for the cookie)
    and the principal.

    Two transactions, so that no lock is held while the password hash is checked:
    1. claim: lock the counters of (user, address), of the address and of the user (rows
       created on first use, locked in sorted order); refuse with TooManyAttempts (nothing
       written) when a limit of `LoginLimits` is reached, else count the attempt as a
       failure in all three and commit. Concurrent attempts are thus counted one after
       another: at most the limit are ever checked against the password, on PostgreSQL
       (row locks) as on SQLite (BEGIN IMMEDIATE).
    2. outcome: a wrong password leaves the claim counted and is recorded (committed)
       before InvalidCredentials is raised; a right one resets the (user, address) counter,
       marks that address as known for the user, takes the claim back from the address and
       user counters, and opens the session.
    A crash between the two leaves the attempt counted as a failure."""
    now = now or system_clock()
    username = username.strip()[:40]
    ip = (ip or "?")[:64]
    keys = {"pair": f"{ip}/{username}", "ip": ip, "user": username}
    with uow:
        store = IdentityStore(uow.session)
        rows = store.lock_counters(list(keys.items()), now)
        pair, by_ip, by_user = (rows[(scope, keys[scope])] for scope in ("pair", "ip", "user"))
        read = {scope: Counter(_aware(r.window_start) or now, r.failures, _aware(r.last_at))
                for scope, r in (("pair", pair), ("ip", by_ip), ("user", by_user))}
        seen = _aware(pair.last_success)
        wait = throttle_wait(now=now, limits=limits, pair=read["pair"], ip=read["ip"],
                             user=read["user"], known=seen is not None
                             and seen > now - limits.known_for)
        if wait is not None:  # leaving without commit: nothing of this attempt is kept
            raise TooManyAttempts("too many failed log-in attempts; try again later",
                                  retry_after=wait)
        for scope, r in (("pair", pair), ("ip", by_ip), ("user", by_user)):
            if read[scope].window_start <= now - limits.window:
                r.window_start, r.failures = now, 0
            r.failures += 1
            r.last_at = now
        claimed = {scope: r.window_start for scope, r in (("ip", by_ip), ("user", by_user))}
        # if this attempt fails, how long log-in is then refused (the last allowed attempt)
        locked_for = max([_seconds(_aware(r.window_start) + limits.window - now)  # type: ignore[operator]
                          for r, limit in ((pair, limits.per_pair), (by_ip, limits.per_ip))
                          if r.failures >= limit], default=None)
        u = store.user(username)
        stored_hash = u.password_hash if u else passwords.dummy_hash()
        uow.commit()
    ok = passwords.verify_password(stored_hash, password)
    with uow:
        store = IdentityStore(uow.session)
        u = store.user(username)
        ok = ok and u is not None and u.active and u.password_hash == stored_hash
        store.add(LoginAttemptRow(username=username, ip=ip, at=now, success=ok))
        if not ok or u is None:
            store.prune_attempts(now - 4 * limits.window)
            store.prune_counters(now - 4 * limits.window, now - limits.known_for)
            uow.commit()
            refused = InvalidCredentials("wrong username or password")
            refused.retry_after = locked_for
            raise refused
        store.record_login_success("pair", keys["pair"], now)
        for scope, started in claimed.items():
            store.undo_claim(scope, keys[scope], started)
        if passwords.needs_rehash(u.password_hash):
            u.password_hash = passwords.hash_password(password)
        raw = secrets.token_urlsafe(32)
        store.add(SessionRow(id_hash=digest(raw), username=u.username, created_at=now,
                             expires_at=now + timedelta(hours=session_hours), ip=ip,
                             user_agent=(user_agent or "")[:200], revoked=False))
        uow.commit()
        return raw, _principal(u, "session", raw)


def session_principal(uow: UoW, raw: str, now: datetime | None = None) -> Principal:
    now = now or system_clock()
    with uow:
        found = IdentityStore(uow.session).session_with_user(digest(raw))
        if found is None:
            raise NotAuthenticated("no such session; please log in")
        s, u = found
        if s.revoked or not u.active:
            raise NotAuthenticated("the session has ended; please log in")
        expires = _aware(s.expires_at)
        if expires is not None and expires <= now:
            raise SessionExpired("the session has expired; please log in again")
        return _principal(u, "session", raw)


def logout(uow: UoW, raw: str) -> None:
    with uow:
        IdentityStore(uow.session).revoke_session(digest(raw))
        uow.commit()


# API tokens --------------------------------------------------------------------------------

def _token_dict(t: ApiTokenRow) -> dict[str, Any]:
    return dict(id=t.id, username=t.username, name=t.name, prefix=t.prefix,
                created_at=_iso(t.created_at), expires_at=_iso(t.expires_at),
                revoked_at=_iso(t.revoked_at), active=t.revoked_at is None)


def _iso(dt: datetime | None) -> str | None:
    d = _aware(dt)
    return d.isoformat() if d else None


def create_token(uow: UoW, *, owner: Principal, name: str, expires_days: int | None = None,
                 now: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """A new bearer token for `owner`, acting with the owner's role and scope. The raw token
    is returned once and never stored."""
    now = now or system_clock()
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("name: 1-80 characters", field="name")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInput("expires_days: 1-3650", field="expires_days")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        store = IdentityStore(uow.session)
        row = ApiTokenRow(username=owner.username, name=name, prefix=raw[:9],
                          token_hash=digest(raw), created_at=now,
                          expires_at=now + timedelta(days=expires_days) if expires_days
                          else None, revoked_at=None)
        store.add(row)
        store.flush()
        out = _token_dict(row)
        uow.commit()
        return raw, out


#: how long a resolved API token is trusted without reading it again: a token revoked (or
#: its user deactivated or re-scoped) in another server process stops working within this
#: bound; in the process that made the change, at once (`forget_tokens`)
TOKEN_CACHE_SECONDS = 2.0
#: a cached token used when this share of its time is gone is marked due, and read again
#: ahead of time by `refresh_tokens` (every due token in one statement, off the request
#: path: the order lane runs it in the background), so that no request waits for its read;
#: the bound above holds whether or not the refresh came in time
REFRESH_SHARE = 0.5
#: digest -> (trusted until, on the monotonic clock; the token's expiry; its principal)
_TOKENS: dict[str, tuple[float, datetime | None, Principal]] = {}
_DUE: set[str] = set()
#: bumped by `forget_tokens`: a read that began before it is not cached
_GENERATION = [0]
_TOKENS_LOCK = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (a revocation, a user deactivated or re-scoped)."""
    with _TOKENS_LOCK:
        _TOKENS.clear()
        _DUE.clear()
        _GENERATION[0] += 1


def _plausible(raw: str) -> bool:
    """Could `raw` be one of our tokens (worth hashing and looking up)?"""
    return raw.startswith(TOKEN_PREFIX) and len(raw) <= 100


def cached_token_principal(raw: str) -> Principal | None:
    """The token's principal when the cache holds it still valid, else None (without reading
    the database: `token_principal` reads it and fills the cache). A hit in the second part
    of its time marks the token due for `refresh_tokens`."""
    if not _plausible(raw):
        return None
    key = digest(raw)
    with _TOKENS_LOCK:
        hit = _TOKENS.get(key)
    if hit is None:
        return None
    until, expires, principal = hit
    left = until - time.monotonic()
    if left > 0 and (expires is None or system_clock() < expires):
        if left < TOKEN_CACHE_SECONDS * (1 - REFRESH_SHARE):
            with _TOKENS_LOCK:
                _DUE.add(key)
        return principal
    return None


def tokens_due() -> bool:
    """Are cached tokens waiting to be read again (`refresh_tokens`)?"""
    return bool(_DUE)


def _cache(entries: dict[str, tuple[float, datetime | None, Principal]], gone: list[str],
           generation: int) -> None:
    """Cache what reads that began at `generation` found, unless the cache was forgotten
    since (a revocation in this process wins over a read that began before it)."""
    with _TOKENS_LOCK:
        if _GENERATION[0] != generation:
            return
        if len(_TOKENS) + len(entries) > 10_000:  # bounded: forget them all, read again
            _TOKENS.clear()
        _TOKENS.update(entries)
        for key in gone:
            _TOKENS.pop(key, None)


def token_principal(uow: UoW, raw: str, now: datetime | None = None) -> Principal:
    """The token's principal; cached per token digest for `TOKEN_CACHE_SECONDS` (not when
    `now` is given: a caller asking about another time reads the database)."""
    cacheable = now is None
    if cacheable:
        cached = cached_token_principal(raw)
        if cached is not None:
            return cached
    now = now or system_clock()
    if not _plausible(raw):
        raise NotAuthenticated("unknown API token")
    key = digest(raw)
    began, generation = time.monotonic(), _GENERATION[0]  # trusted from before the read
    with uow:
        found = IdentityStore(uow.session).token_with_user(key)
        if found is None:
            raise NotAuthenticated("unknown API token")
        valid = _valid(*found, now)
    if valid is None:
        raise NotAuthenticated("the API token is revoked or expired")
    principal, expires = valid
    if cacheable:
        _cache({key: (began + TOKEN_CACHE_SECONDS, expires, principal)}, [], generation)
    return principal


def refresh_tokens(uow: UoW) -> int:
    """Read again, in one statement, every cached token marked due (`cached_token_principal`)
    and trust each for `TOKEN_CACHE_SECONDS` more from the read; a token revoked, expired, or
    whose user is inactive or gone leaves the cache (its next use reads it, and is refused).
    Returns the number of tokens read."""
    with _TOKENS_LOCK:
        keys = sorted(_DUE)
        _DUE.clear()
        generation = _GENERATION[0]
    if keys:
        _read_tokens(uow, keys, generation)
    return len(keys)


def token_principals(uow: UoW, raws: Sequence[str]) -> dict[str, Principal | None]:
    """`token_principal` for many tokens in one statement (the order lane's tokens not
    cached, gathered): each raw token's principal, or None when it is unknown, revoked or
    expired or its user inactive. The valid ones are cached as `token_principal` caches
    them."""
    keys = {raw: digest(raw) for raw in raws if _plausible(raw)}
    valid = _read_tokens(uow, sorted(set(keys.values())), _GENERATION[0]) if keys else {}
    return {raw: valid.get(keys[raw]) if raw in keys else None for raw in raws}


def _read_tokens(uow: UoW, keys: Sequence[str], generation: int) -> dict[str, Principal]:
    """Read the tokens of these digests in one statement; cache the valid ones for
    `TOKEN_CACHE_SECONDS` from the read, drop the others from the cache (unless the cache
    was forgotten since `generation`). Returns the valid ones' principals by digest."""
    began, now = time.monotonic(), system_clock()
    with uow:
        found = IdentityStore(uow.session).tokens_with_users(keys)
        fresh: dict[str, tuple[float, datetime | None, Principal]] = {}
        for key, (t, u) in found.items():
            valid = _valid(t, u, now)
            if valid is not None:
                fresh[key] = (began + TOKEN_CACHE_SECONDS, valid[1], valid[0])
    _cache(fresh, [k for k in keys if k not in fresh], generation)
    return {key: entry[2] for key, entry in fresh.items()}


def _valid(t: ApiTokenRow, u: UserRow, now: datetime
           ) -> tuple[Principal, datetime | None] | None:
    """The token's principal and expiry, or None if it is revoked or expired or its user is
    inactive."""
    expires = _aware(t.expires_at)
    if t.revoked_at is not None or not u.active or (expires is not None and expires <= now):
        return None
    return _principal(u, "token"), expires


def list_tokens(uow: UoW, *, viewer: Principal, everyone: bool = False) -> list[dict[str, Any]]:
    if everyone and not viewer.can("token:revoke_any"):
        raise NotAllowed("only an administrator sees every token")
    with uow:
        rows = IdentityStore(uow.session).tokens(None if everyone else viewer.username)
        return [_token_dict(t) for t in rows]


def revoke_token(uow: UoW, *, viewer: Principal, token_id: int,
                 now: datetime | None = None) -> dict[str, Any]:
    """Revoke a token: one's own, or anyone's for an administrator. Another user's token is
    'not found' to everyone else."""
    now = now or system_clock()
    with uow:
        t = IdentityStore(uow.session).token(token_id)
        if t is None or (t.username != viewer.username and not viewer.can("token:revoke_any")):
            raise TokenNotFound(f"no token {token_id}", field="token_id")
        if t.revoked_at is None:
            t.revoked_at = now
        out = _token_dict(t)
        uow.commit()
    forget_tokens()  # at once here; other processes within TOKEN_CACHE_SECONDS
    return out


# audit -------------------------------------------------------------------------------------

def record_audit(uow: UoW, *, actor: str | None, role: str | None, via: str | None,
                 ip: str | None, method: str, path: str, action: str, target: str | None,
                 status: int, detail: str | None, now: datetime | None = None) -> None:
    now = now or system_clock()
    with uow:
        IdentityStore(uow.session).add(AuditRow(
            at=now, actor=actor, role=role, via=via, ip=(ip or "")[:64] or None, method=method,
            path=path[:300], action=action[:80], target=target[:120] if target else None,
            status=status, detail=detail[:2000] if detail else None))
        uow.commit()


def audit_page(uow: UoW, *, actor: str | None = None, action: str | None = None,
               offset: int = 0, limit: int = 50) -> dict[str, Any]:
    with uow:
        rows, total = IdentityStore(uow.session).audit_page(actor=actor, action=action,
                                                            offset=offset, limit=limit)
        return dict(total=total, offset=offset, limit=limit, items=[
            dict(id=r.id, at=_iso(r.at), actor=r.actor, role=r.role, via=r.via, ip=r.ip,
                 method=r.method, path=r.path, action=r.action, target=r.target,
                 status=r.status, detail=r.detail) for r in rows])


# second-officer approvals ------------------------------------------------------------------

#: bureau actions that move rights or money, by ledger transaction type: every type the
#: ledger's table marks `needs_approval` (confirmation, recovery, reserve release and buy-back,
#: issuance, cancellation, deposit, withdrawal, reversal), and negotiated transfers (not a
#: ledger type). Each has a policy row or its default; every path honours it (web.approvals).
APPROVABLE = ("confirmation", "recovery", "reserve_release", "reserve_buyback",
              "cancellation", "negotiated_transfer", "issuance", "deposit", "withdrawal",
              "reversal")


def _known_type(tx_type: str) -> str:
    if tx_type not in APPROVABLE:
        raise UnknownTransactionType(f"no approvable transaction type {tx_type!r}",
                                     field="tx_type")
    return tx_type


def _default_required(tx_type: str) -> bool:
    """The ledger's table says which types need a second officer by default; approving a
    negotiated transfer (not a ledger type) needs one officer unless configured."""
    t = TYPES.get(tx_type)
    return bool(t.needs_approval) if t is not None else False


def approval_policy(uow: UoW) -> list[dict[str, Any]]:
    with uow:
        rows = IdentityStore(uow.session).policies()
        out = []
        for t in APPROVABLE:
            r = rows.get(t)
            out.append(dict(tx_type=t, required=r.required if r else _default_required(t),
                            default=_default_required(t),
                            updated_by=r.updated_by if r else None,
                            updated_at=_iso(r.updated_at) if r else None))
        return out


def set_approval_policy(uow: UoW, *, tx_type: str, required: bool, actor: str,
                        now: datetime | None = None) -> dict[str, Any]:
    now = now or system_clock()
    _known_type(tx_type)
    with uow:
        store = IdentityStore(uow.session)
        r = store.policy(tx_type)
        if r is None:
            store.add(ApprovalPolicyRow(tx_type=tx_type, required=required, updated_by=actor,
                                        updated_at=now))
        else:
            r.required, r.updated_by, r.updated_at = required, actor, now
        uow.commit()
    return dict(tx_type=tx_type, required=required, default=_default_required(tx_type),
                updated_by=actor, updated_at=now.isoformat())


def approval_required(uow: UoW, tx_type: str) -> bool:
    with uow:
        r = IdentityStore(uow.session).policy(_known_type(tx_type))
        return r.required if r is not None else _default_required(tx_type)


def _approval_dict(r: ApprovalRow) -> dict[str, Any]:
    return dict(id=r.id, tx_type=r.tx_type, action=r.action, target=r.target,
                payload=json.loads(r.payload), summary=r.summary,
                requested_by=r.requested_by, requested_at=_iso(r.requested_at),
                status=r.status, decided_by=r.decided_by, decided_at=_iso(r.decided_at),
                result=r.result, preview=json.loads(r.preview) if r.preview else None,
                district=r.district)


def _deciding_district(store: IdentityStore, action: str, target: str,
                       payload: dict[str, Any]) -> str | None:
    """The district whose officers may see and decide the request besides the city's (None:
    the city's only), kept with it (`web.approvals.in_scope` and the district's list read
    it): a bulk confirmation is its filer's district's, or that of all its permits when they
    share one; a batch spanning districts is the city's. Any other request: its target
    permit's district."""
    if action != "confirm_permits":
        return store.permit_district(target)
    if payload.get("district"):
        return str(payload["district"])
    districts = store.permits_districts([str(p) for p in payload.get("permits") or []])
    return next(iter(districts)) if len(districts) == 1 else None


def request_approval(uow: UoW, *, tx_type: str, action: str, target: str,
                     payload: dict[str, Any], summary: str, requested_by: str,
                     now: datetime | None = None,
                     preview: dict[str, Any] | None = None) -> dict[str, Any]:
    """`preview`: the dry run's outcome, kept to show what is approved in words."""
    now = now or system_clock()
    with uow:
        store = IdentityStore(uow.session)
        row = ApprovalRow(tx_type=_known_type(tx_type), action=action[:40], target=target[:120],
                          payload=json.dumps(payload, sort_keys=True), summary=summary[:300],
                          requested_by=requested_by, requested_at=now, status="pending",
                          preview=None if preview is None
                          else json.dumps(preview, sort_keys=True, default=str),
                          district=_deciding_district(store, action[:40], target[:120],
                                                      payload))
        store.add(row)
        store.flush()
        notify.to_officers(uow, "approval_waiting", row.id, dict(action=row.action, by=requested_by,
                           target=row.target), exclude=requested_by, department="approval",
                           district=row.district, now=now)
        out = _approval_dict(row)
        uow.commit()
        return out


def claim_approval(uow: UoW, *, approval_id: int, approver: str,
                   now: datetime | None = None) -> dict[str, Any]:
    """The second officer approves: pending → executing, committed before the action runs."""
    now = now or system_clock()
    with uow:
        store = IdentityStore(uow.session)
        r = store.approval(approval_id, lock=True)
        if r is None:
            raise ApprovalNotFound(f"no approval request {approval_id}", field="approval_id")
        if r.status != "pending":
            raise ApprovalNotPending(f"approval request {approval_id} is {r.status}")
        if r.requested_by == approver:
            raise SelfApproval("a second officer, not the requester, must approve")
        r.status, r.decided_by, r.decided_at = "executing", approver, now
        out = _approval_dict(r)
        uow.commit()
        return out


def finish_approval(uow: UoW, *, approval_id: int, ok: bool, result: str) -> dict[str, Any]:
    with uow:
        r = IdentityStore(uow.session).approval(approval_id, lock=True)
        if r is None or r.status != "executing":
            raise ApprovalNotPending(f"approval request {approval_id} is not executing")
        r.status = "executed" if ok else "failed"
        r.result = result[:2000]
        out = _approval_dict(r)
        uow.commit()
        return out


def reject_approval(uow: UoW, *, approval_id: int, decider: str, reason: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """Reject (a second officer) or withdraw (the requester) a pending request."""
    now = now or system_clock()
    with uow:
        r = IdentityStore(uow.session).approval(approval_id, lock=True)
        if r is None:
            raise ApprovalNotFound(f"no approval request {approval_id}", field="approval_id")
        if r.status != "pending":
            raise ApprovalNotPending(f"approval request {approval_id} is {r.status}")
        r.status, r.decided_by, r.decided_at = "rejected", decider, now
        r.result = (reason or "rejected")[:2000]
        out = _approval_dict(r)
        uow.commit()
        return out


def approvals(uow: UoW, *, status: str | None = None, offset: int = 0, limit: int = 50,
              district: str | None = None) -> dict[str, Any]:
    with uow:
        rows, total = IdentityStore(uow.session).approvals(status, offset, limit, district)
        return dict(total=total, offset=offset, limit=limit,
                    items=[_approval_dict(r) for r in rows])


def approval(uow: UoW, approval_id: int) -> dict[str, Any]:
    with uow:
        r = IdentityStore(uow.session).approval(approval_id)
        if r is None:
            raise ApprovalNotFound(f"no approval request {approval_id}", field="approval_id")
        return _approval_dict(r)


# idempotency -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Replay:
    status: int
    content_type: str
    body: str


def begin_idempotent(uow: UoW, *, principal: str, key: str, request_hash: str,
                     now: datetime | None = None) -> Replay | None:
    """None: this request is the first with the key (a placeholder is committed). A Replay:
    the stored response of the same earlier request. Raises when the key was used for a
    different request or the first request is still running."""
    now = now or system_clock()
    with uow:
        store = IdentityStore(uow.session)
        row = store.idempotency(principal, key, lock=True)
        if row is None:
            if not store.claim_idempotency(IdempotencyRow(
                    principal=principal, key=key, request_hash=request_hash, status=None,
                    created_at=now)):
                raise IdempotencyKeyReused("a request with this Idempotency-Key is running")
            uow.commit()
            return None
        if row.request_hash != request_hash:
            raise IdempotencyKeyReused("this Idempotency-Key was used for another request")
        if row.status is None:
            raise IdempotencyKeyReused("a request with this Idempotency-Key is running")
        return Replay(row.status, row.content_type or "application/json", row.body or "")


def finish_idempotent(uow: UoW, *, principal: str, key: str, status: int, content_type: str,
                      body: str) -> None:
    with uow:
        row = IdentityStore(uow.session).idempotency(principal, key, lock=True)
        if row is not None:
            row.status, row.content_type, row.body = status, content_type[:80], body
        uow.commit()


def abandon_idempotent(uow: UoW, *, principal: str, key: str) -> None:
    """The first request failed with a 5xx: free the key so a retry runs again."""
    with uow:
        IdentityStore(uow.session).delete_idempotency(principal, key)
        uow.commit()
