"""Errors of the identity context, each with a stable `code` and a `kind` that
`web/errors.py` maps to an HTTP status."""

from __future__ import annotations

from kernel.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


class NotAuthenticated(DomainError):
    """No valid credentials: no session, an expired session, or an unknown token."""

    code = "not_authenticated"
    kind = "unauthorized"


class SessionExpired(NotAuthenticated):
    code = "session_expired"


class InvalidCredentials(DomainError):
    """A wrong username or password. `retry_after` (seconds) is set when this failure used up
    the last attempt allowed, so the page can say at once until when log-in is refused."""

    code = "invalid_credentials"
    kind = "unauthorized"
    retry_after: int | None = None


class TooManyAttempts(DomainError):
    """Log-in attempts over the limit; `retry_after` is in seconds."""

    code = "too_many_attempts"
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotAllowed(Forbidden):
    """The caller's role may not do this."""

    code = "forbidden"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class UnknownRole(InvalidInput):
    code = "unknown_role"


class UnknownDepartment(InvalidInput):
    code = "unknown_department"


class UnknownDistrict(InvalidInput):
    code = "unknown_district"


class ScopeNotForRole(InvalidInput):
    """Only bureau users have a district and a department."""

    code = "scope_not_for_role"


class UserExists(Conflict):
    code = "user_exists"


class UserNotFound(NotFound):
    code = "user_not_found"


class TokenNotFound(NotFound):
    code = "token_not_found"


class ApprovalNotFound(NotFound):
    code = "approval_not_found"


class ApprovalNotPending(Conflict):
    code = "approval_not_pending"


class SelfApproval(Forbidden):
    """The second officer must be another person than the one who asked."""

    code = "self_approval"


class UnknownTransactionType(InvalidInput):
    code = "unknown_transaction_type"


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was used before for a different request, or is still running."""

    code = "idempotency_key_reused"


class WrongPassword(InvalidInput):
    """Changing the password: the current password given is not the user's. `retry_after`
    (seconds) is set when this wrong attempt used up the allowance (see
    identity.account_service)."""

    code = "wrong_password"
    retry_after: int | None = None


class PasswordRejected(InvalidInput):
    """Changing the password: the new one breaks a rule (length, the same as the old one,
    the two entries differ); `rule` says which: too_short, too_long, unchanged, mismatch."""

    code = "password_rejected"

    def __init__(self, message: str, *, rule: str, field: str | None = "new_password"
                 ) -> None:
        super().__init__(message, field=field, rule=rule)
        self.rule = rule
