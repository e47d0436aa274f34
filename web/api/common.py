"""What every JSON router of /api/v1 shares: the error responses it documents, the platform,
the audit note of a state-changing request, a trader's enterprise scope, and `Strict`, the
base of every request model (defined with the input boundary in `web.api.models`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.wiring import Platform
from identity.roles import Principal, Role
from web.api.models import ErrorBody, Strict


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these status codes, each with the one error shape."""
    return {c: {"model": ErrorBody} for c in codes}


READ = errors(401, 403, 404, 422)
WRITE = errors(401, 403, 404, 409, 413, 415, 422)


def platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def audit(request: Request, action: str, target: str | None = None,
          detail: str | None = None) -> None:
    """What the audit middleware records for this request (who, when and where it adds)."""
    request.state.audit = {"action": action, "target": target, "detail": detail}


def own_enterprise(user: Principal) -> str | None:
    """The enterprise a caller is restricted to: None for the bureau and analysts."""
    return (user.enterprise or "") if user.role == Role.TRADER else None


__all__ = ["READ", "WRITE", "Strict", "audit", "errors", "own_enterprise", "platform"]
