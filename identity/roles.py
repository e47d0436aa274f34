"""Roles and what each may do (pure). The web layer asks `allowed(role, permission)`; an
enterprise trader is further scoped to its own enterprise (object-level checks in web.auth).

Roles: bureau officer, bureau administrator (an officer who also manages users, tokens and
the approval policy), enterprise trader, analyst (read and scenarios). The public has no
role and no log-in: it sees disclosure pages only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from identity.errors import UnknownRole


class Role(StrEnum):
    OFFICER = "bureau_officer"
    ADMIN = "bureau_admin"
    TRADER = "trader"
    ANALYST = "analyst"

    @property
    def label_zh(self) -> str:
        return _ZH[self]


_ZH = {Role.OFFICER: "生态环境局经办人", Role.ADMIN: "生态环境局管理员",
       Role.TRADER: "企业交易员", Role.ANALYST: "分析员"}

BUREAU = frozenset({Role.OFFICER, Role.ADMIN})
_ALL = frozenset(Role)

#: permission → the roles that hold it. One table; tests walk it role by role.
PERMISSIONS: dict[str, frozenset[Role]] = {
    # registry-wide reads (search over all enterprises, the bureau's lists)
    "registry:read": BUREAU | {Role.ANALYST},
    # an enterprise's private data (holdings, cash, orders, trades, statements); a trader
    # holds it for its own enterprise only (see web.auth.ensure_enterprise_access)
    "enterprise:read": BUREAU | {Role.TRADER},
    "order:place": frozenset({Role.TRADER}),
    "rights:confirm": BUREAU,
    "rights:verify": BUREAU,
    "market:state": BUREAU,
    "ledger:read": BUREAU | {Role.ANALYST},
    # raw ledger operations (web/api/ledger.py): they bypass second-officer approval
    "ledger:write": frozenset({Role.ADMIN}),
    "audit:read": BUREAU,
    "approval:read": BUREAU,
    "approval:decide": BUREAU,
    "approval:policy": frozenset({Role.ADMIN}),
    "user:manage": frozenset({Role.ADMIN}),
    "token:own": _ALL,
    "token:revoke_any": frozenset({Role.ADMIN}),
}


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise UnknownRole(f"unknown role {text!r}", field="role") from None


def allowed(role: Role | str, permission: str) -> bool:
    return Role(role) in PERMISSIONS[permission]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. `via` is "session" or "token"; `enterprise` is set for traders only."""

    username: str
    display_name: str
    role: Role
    enterprise: str | None
    via: str
    session_key: str | None = None  # the raw session id (for the CSRF token); None for tokens

    @property
    def is_bureau(self) -> bool:
        return self.role in BUREAU

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)
