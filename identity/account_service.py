"""Account use cases a user runs on itself: changing its password.

Rules (the platform's password rules, as for a new user at /admin/users): at least
`MIN_LENGTH` characters, at most `MAX_LENGTH`, not the current password; the current
password must be given. On success every other log-in session of the user is revoked (someone
who learnt the old password and logged in with it is logged out), the session that made the
change stays, and API tokens are kept: they are credentials made on purpose for programs,
listed at /account/tokens where the user revokes them one by one, and revoking them silently
would stop the enterprise's integrations with no warning. The confirmation says so."""

from __future__ import annotations

from dataclasses import dataclass

from identity import passwords
from identity.account_store import AccountStore
from identity.errors import NotAuthenticated, PasswordRejected, WrongPassword
from identity.service import digest
from ledger.service import UoW

MIN_LENGTH = 8
MAX_LENGTH = 200


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


def change_password(uow: UoW, *, username: str, old_password: str, new_password: str,
                    new_password_again: str | None = None,
                    session_key: str | None = None) -> PasswordChanged:
    """Change `username`'s password; `session_key` (the raw id of the session making the
    change, None for a bearer token) is the one session kept."""
    check_new_password(old_password, new_password, new_password_again)
    new_hash = passwords.hash_password(new_password)  # slow: before the transaction
    with uow:
        store = AccountStore(uow.session)
        u = store.user(username, lock=True)
        if u is None or not u.active:
            raise NotAuthenticated("the account is not active; please log in")
        if not passwords.verify_password(u.password_hash, old_password):
            raise WrongPassword("the current password is wrong", field="old_password")
        u.password_hash = new_hash
        revoked = store.revoke_other_sessions(
            username, None if session_key is None else digest(session_key))
        uow.commit()
    return PasswordChanged(username, revoked)
