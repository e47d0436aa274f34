"""Account use cases a user runs on itself: changing its password.

Rules (the platform's password rules, as for a new user at /admin/users): at least
`MIN_LENGTH` characters, at most `MAX_LENGTH`, not the current password; the current
password must be given. On success every other log-in session of the user is revoked (someone
who learnt the old password and logged in with it is logged out), the session that made the
change stays, and API tokens are kept: they are credentials made on purpose for programs,
listed at /account/tokens where the user revokes them one by one, and revoking them silently
would stop the enterprise's integrations with no warning. The confirmation says so.

Guessing: a wrong current password counts against the user (a `login_throttle` row of scope
"pwd", keyed by the username, the log-in counters' table and windows). After
`LoginLimits.per_pair` wrong ones within `LoginLimits.window` the change is refused
(`TooManyAttempts`, with the seconds to wait) until the window ends, the right password
included, so a stale or stolen session cannot try passwords without limit where log-in would
refuse it. The wrong attempt that reaches the limit says for how long (`retry_after`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from identity import passwords
from identity.account_store import AccountStore
from identity.errors import NotAuthenticated, PasswordRejected, TooManyAttempts, WrongPassword
from identity.service import LoginLimits, digest
from identity.store import IdentityStore
from kernel.clock import system_clock
from ledger.service import UoW

MIN_LENGTH = 8
MAX_LENGTH = 200
THROTTLE_SCOPE = "pwd"  # login_throttle rows of wrong current passwords, keyed by username


@dataclass(frozen=True)
class PasswordChanged:
    username: str
    sessions_revoked: int


def check_new_password(old: str, new: str, again: str | None) -> None:
    """The rules of a new password (pure): PasswordRejected with the broken rule."""
    if again is not None and new != again:
        raise PasswordRejected("the two new passwords differ", rule="mismatch",
                               field="new_password_again")
    if len(new) < MIN_LENGTH:
        raise PasswordRejected(f"the new password needs at least {MIN_LENGTH} characters",
                               rule="too_short")
    if len(new) > MAX_LENGTH:
        raise PasswordRejected(f"the new password may have at most {MAX_LENGTH} characters",
                               rule="too_long")
    if new == old:
        raise PasswordRejected("the new password is the current one", rule="unchanged")


def _wait(start: datetime, limits: LoginLimits, now: datetime) -> int:
    """Whole seconds until the counter's window ends, at least 1."""
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return max(1, -int(-(start + limits.window - now).total_seconds() // 1))


def change_password(uow: UoW, *, username: str, old_password: str, new_password: str,
                    new_password_again: str | None = None,
                    session_key: str | None = None, limits: LoginLimits = LoginLimits(),
                    now: datetime | None = None) -> PasswordChanged:
    """Change `username`'s password; `session_key` (the raw id of the session making the
    change, None for a bearer token) is the one session kept. Wrong current passwords are
    counted and limited (see the module's docstring)."""
    check_new_password(old_password, new_password, new_password_again)
    now = now or system_clock()
    new_hash = passwords.hash_password(new_password)  # slow: before the transaction
    with uow:
        store = AccountStore(uow.session)
        key = (THROTTLE_SCOPE, username)
        counter = IdentityStore(uow.session).lock_counters([key], now)[key]
        start = counter.window_start
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        if start <= now - limits.window:
            counter.window_start, counter.failures = now, 0
            start = now
        if counter.failures >= limits.per_pair:  # leaving without commit: nothing kept
            raise TooManyAttempts("too many wrong current passwords; try again later",
                                  retry_after=_wait(start, limits, now))
        u = store.user(username, lock=True)
        if u is None or not u.active:
            raise NotAuthenticated("the account is not active; please log in")
        if not passwords.verify_password(u.password_hash, old_password):
            failures = counter.failures + 1
            counter.failures, counter.last_at = failures, now
            uow.commit()  # the wrong attempt counts
            wrong = WrongPassword("the current password is wrong", field="old_password")
            if failures >= limits.per_pair:
                wrong.retry_after = _wait(start, limits, now)
            raise wrong
        counter.failures = 0
        u.password_hash = new_hash
        revoked = store.revoke_other_sessions(
            username, None if session_key is None else digest(session_key))
        uow.commit()
    return PasswordChanged(username, revoked)
