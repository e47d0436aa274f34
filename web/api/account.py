"""JSON API of account basics under /api/v1 (issue 18): a user changes its own password.
The rules, and what happens to the user's other sessions and tokens, are
identity.account_service's: other sessions are revoked, API tokens (this one included) kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from identity import account_service as account
from identity.roles import Principal
from web.api.common import Strict, errors
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.auth import csrf_protect, require_user

router = APIRouter(tags=["identity"], dependencies=[Depends(csrf_protect)])


class PasswordIn(Strict):
    old_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=400,
                              description=f"{account.MIN_LENGTH}-{account.MAX_LENGTH} "
                                          "characters, not the current password")
    new_password_again: str | None = Field(
        default=None, max_length=400, description="when given, must equal new_password")


class PasswordOut(BaseModel):
    username: str
    sessions_revoked: int = Field(description="the user's other log-in sessions ended")


@router.post("/account/password", response_model=PasswordOut,
             responses=errors(401, 403, 413, 415, 422, 429))
def change_password(request: Request, body: PasswordIn,
                    user: Principal = Depends(require_user)) -> dict[str, Any]:
    """Change the caller's password: `old_password` must be the current one (422
    `wrong_password`); a new one breaking a rule (length, the current one, the two entries
    differ) is 422 `password_rejected`. After 5 wrong current passwords within 15 minutes
    the change is refused until that window ends, the right password included: 429
    `too_many_attempts` with Retry-After (seconds)."""
    _audit(request, "change_password", user.username)
    out = account.change_password(
        _p(request).uow(), username=user.username, old_password=body.old_password,
        new_password=body.new_password, new_password_again=body.new_password_again,
        session_key=user.session_key if user.via == "session" else None)
    return {"username": out.username, "sessions_revoked": out.sessions_revoked}
