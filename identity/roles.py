"""Roles and what each may do (pure). The web layer asks `allowed(role, permission)`; an
enterprise trader is further scoped to its own enterprise (object-level checks in web.auth).

Roles: bureau officer, bureau administrator (an officer who also manages users, tokens and
the approval policy), enterprise trader, analyst (read and scenarios). The public has no
role and no log-in: it sees disclosure pages only.

Levels and departments (bureau users only): `district` None is the city bureau (sees every
enterprise), a district code scopes the user to the enterprises and permits of that district
(object level, web.auth). `department` None is a general officer who acts in every area; a
department (approval, monitoring, enforcement: the seed's joint review and hand-over) may
exercise only the write permissions `DEPARTMENTS` gives it. Reads stay open to every bureau
user: `allowed(..., acting=False)` skips the department check.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from identity.errors import UnknownDepartment, UnknownRole


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
    # area permissions of bureau routes (reads open to every bureau user, writes by the
    # departments in DEPARTMENTS): allocation, reserve and standards; monitoring imports,
    # report checks, alerts and clues; violations opened and handed over; penalty decisions
    "permit:manage": BUREAU,
    "monitoring:write": BUREAU,
    "violation:open": BUREAU,
    "penalty:decide": BUREAU,
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


class Department(StrEnum):
    APPROVAL = "approval"
    MONITORING = "monitoring"
    ENFORCEMENT = "enforcement"

    @property
    def label_zh(self) -> str:
        return _DEPT_ZH[self]


_DEPT_ZH = {Department.APPROVAL: "审批", Department.MONITORING: "监测",
            Department.ENFORCEMENT: "执法"}

#: permission → the departments that may exercise it. A permission absent here (reads,
#: market operation, administration, the trader's own) holds for every department.
DEPARTMENTS: dict[str, frozenset[Department]] = {
    "rights:confirm": frozenset({Department.APPROVAL}),
    "rights:verify": frozenset({Department.APPROVAL}),
    "permit:manage": frozenset({Department.APPROVAL}),
    "approval:decide": frozenset({Department.APPROVAL}),
    "monitoring:write": frozenset({Department.MONITORING}),
    # monitoring finds and hands over, enforcement investigates: both open violations
    "violation:open": frozenset({Department.MONITORING, Department.ENFORCEMENT}),
    "penalty:decide": frozenset({Department.ENFORCEMENT}),
}


def parse_department(text: str | None) -> Department | None:
    if text is None or text == "":
        return None
    try:
        return Department(text)
    except ValueError:
        raise UnknownDepartment(f"unknown department {text!r}", field="department") from None


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise UnknownRole(f"unknown role {text!r}", field="role") from None


def allowed(role: Role | str, permission: str, department: Department | str | None = None,
            *, acting: bool = True) -> bool:
    """May `role` (in `department`, None = every department) hold `permission`? With
    `acting` False (a read) only the role counts."""
    if Role(role) not in PERMISSIONS[permission]:
        return False
    if not acting or department is None or permission not in DEPARTMENTS:
        return True
    return Department(department) in DEPARTMENTS[permission]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. `via` is "session" or "token"; `enterprise` is set for traders only,
    `district` and `department` for bureau users only (None: the city, every department)."""

    username: str
    display_name: str
    role: Role
    enterprise: str | None
    via: str
    session_key: str | None = None  # the raw session id (for the CSRF token); None for tokens
    district: str | None = None
    department: Department | None = None

    @property
    def is_bureau(self) -> bool:
        return self.role in BUREAU

    def can(self, permission: str, *, acting: bool = True) -> bool:
        return allowed(self.role, permission, self.department, acting=acting)

    def sees_district(self, district: str | None) -> bool:
        """Object level: the city and non-bureau roles are not district-scoped here."""
        return self.district is None or not self.is_bureau or self.district == district
