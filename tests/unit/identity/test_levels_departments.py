"""Departments and levels of bureau users (identity.roles): the pure rules."""

from __future__ import annotations

import pytest

from identity.errors import UnknownDepartment
from identity.roles import (
    DEPARTMENTS,
    PERMISSIONS,
    Department,
    Principal,
    Role,
    allowed,
    parse_department,
)

A, M, E = Department.APPROVAL, Department.MONITORING, Department.ENFORCEMENT


def test_a_general_officer_acts_in_every_department() -> None:
    for permission, roles in PERMISSIONS.items():
        assert allowed(Role.OFFICER, permission) == (Role.OFFICER in roles)


@pytest.mark.parametrize(("permission", "departments"), [
    ("rights:confirm", {A}), ("rights:verify", {A}), ("permit:manage", {A}),
    ("approval:decide", {A}), ("monitoring:write", {M}), ("violation:open", {M, E}),
    ("penalty:decide", {E}),
])
def test_each_area_is_written_by_its_departments_only(permission: str,
                                                      departments: set[Department]) -> None:
    for d in Department:
        assert allowed(Role.OFFICER, permission, d) == (d in departments), (permission, d)
        assert allowed(Role.ADMIN, permission, d) == (d in departments)
        # reads stay open to every bureau user
        assert allowed(Role.OFFICER, permission, d, acting=False)


def test_permissions_outside_the_table_hold_for_every_department() -> None:
    for d in Department:
        for permission in ("market:state", "audit:read", "approval:read", "registry:read"):
            assert permission not in DEPARTMENTS
            assert allowed(Role.OFFICER, permission, d)
        assert allowed(Role.ADMIN, "user:manage", d)
    # a department never gives a role what the role lacks
    assert not allowed(Role.ANALYST, "rights:confirm", A, acting=False)
    assert not allowed(Role.TRADER, "penalty:decide", E)


def test_every_department_bound_permission_is_a_bureau_permission() -> None:
    for permission in DEPARTMENTS:
        assert PERMISSIONS[permission] <= {Role.OFFICER, Role.ADMIN}


def test_parse_department() -> None:
    assert parse_department(None) is None and parse_department("") is None
    assert parse_department("enforcement") is E
    with pytest.raises(UnknownDepartment) as exc:
        parse_department("finance")
    assert exc.value.field == "department" and exc.value.code == "unknown_department"


def test_principal_can_and_sees_district() -> None:
    monitor = Principal("m", "M", Role.OFFICER, None, "token", department=M)
    assert monitor.can("monitoring:write") and not monitor.can("rights:confirm")
    assert monitor.can("rights:confirm", acting=False)
    district = Principal("d", "D", Role.OFFICER, None, "token", district="500101")
    city = Principal("c", "C", Role.OFFICER, None, "token")
    trader = Principal("t", "T", Role.TRADER, "X", "token")
    assert district.sees_district("500101") and not district.sees_district("500102")
    assert city.sees_district("500102") and trader.sees_district("500102")
    assert Department.ENFORCEMENT.label_zh == "执法"
