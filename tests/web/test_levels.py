"""Levels (city, district bureaus) and departments (approval, monitoring, enforcement):
user management, object-level district checks, district-filtered lists, the hand-over of a
violation from monitoring to enforcement (issue 17)."""

from __future__ import annotations

import pytest

from kernel.clock import system_clock
from tests.day import TODAY as DAY
from tests.day import pinned_clock  # noqa: F401 (autouse: one Beijing day)
from tests.integration.spine import A, B

pytestmark = pytest.mark.db

TODAY = DAY.isoformat()
#: username -> (district, department)
SCOPED = {"d01": ("D01", None), "d02": ("D02", None), "monitor": (None, "monitoring"),
          "enforcer": (None, "enforcement"), "d01_enf": ("D01", "enforcement")}


@pytest.fixture
def who(platform, spine, tokens):  # type: ignore[no-untyped-def]
    """who(name) → bearer headers, for conftest's users and those of SCOPED."""
    from allocation import service as alloc
    from identity import service as identity
    from tests.web.conftest import password_hash

    alloc.register_area(platform.uow(), zones=[], districts=[("D02", "District 2", "ZA1",
                                                              "ZW1")])
    for name, (district, department) in SCOPED.items():
        identity.create_user(platform.uow(), username=name, display_name=name,
                             role="bureau_officer", password="", district=district,
                             department=department, password_hash=password_hash(name))
        owner = identity.principal_of(platform.uow(), name)
        tokens[name] = identity.create_token(platform.uow(), owner=owner, name="t")[0]
    return lambda name: {"Authorization": f"Bearer {tokens[name]}"}


def test_user_management_sets_and_validates_level_and_department(client, who) -> None:  # type: ignore[no-untyped-def]
    admin = who("admin")
    base = {"username": "newbie", "display_name": "N", "role": "bureau_officer",
            "password": "long-enough-pw"}
    r = client.post("/api/v1/users", headers=admin, json=base | {"district": "D99"})
    assert r.status_code == 422 and r.json()["field"] == "district"
    assert r.json()["error"] == "unknown_district"
    r = client.post("/api/v1/users", headers=admin, json=base | {"department": "finance"})
    assert r.status_code == 422 and "department" in r.text
    r = client.post("/api/v1/users", headers=admin, json=base | {
        "username": "t9", "role": "trader", "enterprise": A, "district": "D01"})
    assert r.status_code == 422 and r.json()["field"] == "district"
    assert r.json()["error"] == "scope_not_for_role"
    r = client.post("/api/v1/users", headers=admin, json=base | {
        "username": "a9", "role": "analyst", "department": "monitoring"})
    assert r.status_code == 422 and r.json()["field"] == "department"
    r = client.post("/api/v1/users", headers=admin,
                    json=base | {"district": "D02", "department": "monitoring"})
    assert r.status_code == 201, r.text
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).json()["items"]}
    assert (users["newbie"]["district"], users["newbie"]["department"]) == ("D02", "monitoring")
    assert users["officer"]["district"] is None and users["officer"]["department"] is None
    r = client.post("/api/v1/users/newbie/scope", headers=admin,
                    json={"district": None, "department": "enforcement"})
    assert r.status_code == 200 and r.json()["department"] == "enforcement"
    assert r.json()["district"] is None
    r = client.post("/api/v1/users/newbie/scope", headers=admin, json={"district": "NOPE"})
    assert r.status_code == 422 and r.json()["field"] == "district"
    r = client.post("/api/v1/users/analyst/scope", headers=admin, json={"district": "D01"})
    assert r.status_code == 422 and r.json()["error"] == "scope_not_for_role"
    r = client.post("/api/v1/users/newbie/scope", headers=who("officer"), json={})
    assert r.status_code == 403


def test_users_page_sets_level_and_department(browser, who) -> None:  # type: ignore[no-untyped-def]
    b = browser("admin")
    page = b.get("/admin/users")
    assert page.status_code == 200 and 'name="department"' in page.text
    r = b.post("/admin/users", data={"username": "p1", "display_name": "P", "role":
                                     "bureau_officer", "password": "long-enough-pw",
                                     "district": "D99"})
    assert r.status_code == 422 and "unknown_district" in r.text
    r = b.post("/admin/users", data={"username": "p1", "display_name": "P", "role":
                                     "bureau_officer", "password": "long-enough-pw",
                                     "district": "D01", "department": "enforcement"},
               follow_redirects=False)
    assert r.status_code == 303
    b.get("/admin/users")
    r = b.post("/admin/users/p1/scope", data={"district": "", "department": "approval"},
               follow_redirects=False)
    assert r.status_code == 303
    page = b.get("/admin/users")
    row = page.text.split("<td>p1</td>", 1)[1].split("</tr>", 1)[0]
    assert 'value="approval" selected' in row and 'value=""' in row


def test_a_district_officer_sees_and_acts_on_its_district_only(client, who, spine,  # type: ignore[no-untyped-def]
                                                               one_officer) -> None:
    pa = spine["A"]
    confirm = {"pollutant": "SO2", "year": 2026, "qty_kg": 100}
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=who("d02"), json=confirm)
    assert r.status_code == 404 and r.json()["error"] == "permit_not_found"
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=who("d01"), json=confirm)
    assert r.status_code == 201, r.text
    r = client.get(f"/api/v1/enterprises/{A}", headers=who("d02"))
    assert r.status_code == 404 and r.json()["error"] == "enterprise_not_found"
    assert client.get(f"/api/v1/enterprises/{A}", headers=who("d01")).status_code == 200
    r = client.post("/api/v1/permits/" + pa + "/revocations", headers=who("d02"),
                    json={"reason": "r"})
    assert r.status_code == 404
    r = client.post("/api/v1/alerts/measures", headers=who("d02"),
                    json={"permit": pa, "grade": "B"})
    assert r.status_code == 404
    r = client.post("/api/v1/penalties/violations", headers=who("d02"), json={
        "permit": pa, "kind": "monitoring_failure", "occurred_on": TODAY, "facts": "f"})
    assert r.status_code == 404
    # a missing permit and another district's answer alike
    r = client.post("/api/v1/permits/NOPE/confirmations", headers=who("d02"), json=confirm)
    assert r.status_code == 404 and r.json()["error"] == "permit_not_found"


def test_district_lists_leave_other_districts_out(client, who, spine, browser) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    r = client.post("/api/v1/penalties/violations", headers=who("officer"), json={
        "permit": pa, "kind": "monitoring_failure", "occurred_on": TODAY, "facts": "f"})
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    for name, sees in (("officer", True), ("d01", True), ("d02", False)):
        v = client.get("/api/v1/penalties/violations", headers=who(name))
        assert v.status_code == 200 and (vid in {i["id"] for i in v.json()["items"]}) == sees
        t = client.get("/api/v1/compliance/true-ups?year=2026", headers=who(name))
        assert t.status_code == 200
        assert (pa in {i["permit"] for i in t.json()["items"]}) == sees, name
    # the d02 officer cannot act on the violation either
    r = client.post(f"/api/v1/penalties/violations/{vid}/transfer", headers=who("d02"),
                    json={"department": "执法总队", "transferred_on": TODAY})
    assert r.status_code == 404
    city = browser("officer").get("/enterprises").text
    assert A in city and B in city
    d02 = browser("d02")  # a district officer logs in like everyone else
    page = d02.get("/enterprises?district=D01")
    assert page.status_code == 200 and A not in page.text and B not in page.text
    link = f"?violation={vid}#decide-form"
    assert link in browser("d01").get("/bureau/penalties").text
    page = d02.get("/bureau/penalties")
    assert page.status_code == 200 and link not in page.text
    assert d02.get(f"/enterprises/{A}").status_code == 404
    d01 = browser("d01").get("/enterprises").text
    assert A in d01 and B in d01


def test_hand_over_from_monitoring_to_enforcement(client, who, spine) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    body = {"permit": pa, "kind": "monitoring_failure", "occurred_on": TODAY, "facts": "f"}
    # approval work is not the monitoring or enforcement department's
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=who("monitor"),
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 1})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=who("enforcer"),
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 1})
    assert r.status_code == 403
    # monitoring finds it and hands it over; it may not decide
    r = client.post("/api/v1/penalties/violations", headers=who("monitor"), json=body)
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    r = client.post("/api/v1/penalties", headers=who("monitor"), json={
        "violation": vid, "number": "H-1", "amount_fen": 2_500_000, "decided_on": TODAY,
        "summary": "s"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/penalties/violations/{vid}/transfer", headers=who("monitor"),
                    json={"department": "enforcement", "transferred_on": TODAY})
    assert r.status_code == 201 and r.json()["status"] == "transferred"
    # enforcement sees the hand-over and records the result; monitoring may not
    handed = client.get("/api/v1/penalties/violations?status=transferred",
                        headers=who("enforcer")).json()["items"]
    assert vid in {v["id"] for v in handed}
    r = client.post(f"/api/v1/penalties/violations/{vid}/result", headers=who("monitor"),
                    json={"result": "done", "result_on": TODAY})
    assert r.status_code == 403
    r = client.post(f"/api/v1/penalties/violations/{vid}/result", headers=who("d01_enf"),
                    json={"result": "已处罚", "result_on": TODAY})
    assert r.status_code == 201 and r.json()["result"] == "已处罚"
    # reads stay open to every department
    for name in ("monitor", "enforcer"):
        assert client.get("/api/v1/compliance/true-ups?year=2026",
                          headers=who(name)).status_code == 200
    # monitoring imports: a bureau officer outside monitoring may not import
    r = client.post("/api/v1/monitoring/imports", headers=who("enforcer"),
                    json={"csv": "permit\n", "partial": True})
    assert r.status_code == 403


def test_scope_change_ends_sessions(platform, who) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity
    from identity.errors import NotAuthenticated

    raw, _ = identity.login(platform.uow(), username="d02", password="pw-d02", ip="1.1.1.1",
                            user_agent=None, session_hours=1)
    assert identity.session_principal(platform.uow(), raw).district == "D02"
    identity.set_user_scope(platform.uow(), username="d02", district="D01", department=None)
    with pytest.raises(NotAuthenticated):
        identity.session_principal(platform.uow(), raw)
    assert identity.principal_of(platform.uow(), "d02").district == "D01"


def test_migration_0023_down_and_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, inspect

    from app.migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    cols = {c["name"] for c in inspect(create_engine(url)).get_columns("app_user")}
    assert {"district", "department"} <= cols
    downgrade(url, "0022")
    cols = {c["name"] for c in inspect(create_engine(url)).get_columns("app_user")}
    assert not {"district", "department"} & cols
    upgrade(url)


def test_a_district_officer_decides_only_its_districts_approvals(client, who, spine) -> None:  # type: ignore[no-untyped-def]
    """A's permit is in D01: the D02 officer neither sees nor decides its confirmation
    request (404, as if missing); the D01 officer approves it."""
    r = client.post(f"/api/v1/permits/{spine['A']}/confirmations", headers=who("officer"),
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 1000})
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    for path in (f"/api/v1/approvals/{aid}/approve", f"/api/v1/approvals/{aid}/reject"):
        r = client.post(path, headers=who("d02"), json={} if "reject" in path else None)
        assert (r.status_code, r.json()["error"]) == (404, "approval_not_found"), r.text
    assert client.get(f"/api/v1/approvals/{aid}", headers=who("d02")).status_code == 404
    assert client.get(f"/api/v1/approvals/{aid}", headers=who("officer")).json()[
        "status"] == "pending"  # nothing was decided
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=who("d01"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text


def test_a_district_officer_acts_only_on_its_districts_clues(client, who, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/clues", headers=who("officer"),
                    json={"permit": spine["A"], "description": "a complaint"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert client.get(f"/api/v1/clues/detail?clue={cid}", headers=who("d02")).status_code \
        == 404
    r = client.post("/api/v1/clues/actions", headers=who("d02"),
                    json={"clue": cid, "action": "send", "due": "2099-01-01", "note": "fix"})
    assert (r.status_code, r.json()["error"]) == (404, "clue_not_found")
    assert client.get(f"/api/v1/clues/detail?clue={cid}", headers=who("d01")).status_code \
        == 200
    r = client.post("/api/v1/penalties/violations/from-clue", headers=who("d02"),
                    json={"clue": cid, "kind": "records_failure", "facts": "f"})
    assert (r.status_code, r.json()["error"]) == (404, "clue_not_found"), r.text
    r = client.post("/api/v1/reserve/requests", headers=who("d02"),
                    json={"permit": spine["A"], "pollutant": "SO2", "year": 2026,
                          "qty_kg": 100})
    assert (r.status_code, r.json()["error"]) == (404, "permit_not_found"), r.text
    r = client.post("/api/v1/clues/actions", headers=who("d01"),
                    json={"clue": cid, "action": "send", "due": "2099-01-01", "note": "fix"})
    assert r.status_code == 200, r.text


def test_municipality_wide_actions_are_the_city_bureaus(client, who) -> None:  # type: ignore[no-untyped-def]
    """A district officer may not run what concerns the whole municipality; the city's
    officers may (here they answer with the rules' own 4xx, not 403)."""
    calls = [("/api/v1/reserve/plans", {"year": 2026}),
             ("/api/v1/allocation/computations", {}),
             ("/api/v1/penalties/missing-reports", {"year": 2025, "period": "Y"}),
             ("/api/v1/permit-imports", {"csv": "permit_code\n"})]
    for path, body in calls:
        r = client.post(path, headers=who("d01"), json=body)
        assert r.status_code == 403, (path, r.text)
        r = client.post(path, headers=who("officer"), json=body)
        assert r.status_code != 403, (path, r.text)


def test_a_district_officers_lists_and_imports_keep_to_its_district(client, who, spine,
                                                                    platform) -> None:  # type: ignore[no-untyped-def]
    from compliance.enforcement import disclosure_service as disclosure
    from compliance.enforcement.disclosure_store import DisclosureStore
    from compliance.reporting import service as compliance

    r = client.post(f"/api/v1/permits/{spine['A']}/confirmations", headers=who("officer"),
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 1000})
    assert r.status_code == 202
    listed = client.get("/api/v1/approvals", headers=who("d02")).json()
    assert listed["total"] == 0 and listed["items"] == []
    assert client.get("/api/v1/approvals", headers=who("d01")).json()["total"] == 1
    with platform.uow() as uow:
        disclosure.new_violation(DisclosureStore(uow.session), permit=spine["A"],
                                 kind="records_failure", occurred_on="2026-05-01",
                                 facts="no ledger", actor="officer", now=system_clock())
        uow.commit()
    assert compliance.violation_list(platform.uow(), district="D02")["total"] == 0
    assert client.get("/api/v1/compliance/violations", headers=who("d02")).json()[
        "total"] == 0
    assert client.get("/api/v1/compliance/violations", headers=who("d01")).json()[
        "total"] == 1
    # monitoring data of another district's permit is an unknown permit to a D02 officer
    compliance.register_outlet(platform.uow(), permit=spine["A"], outlet="DA001",
                               medium="air")
    csv = ("permit,outlet,hour,flow_nm3_h,SO2_mg_m3,o2_pct\n"
           f"{spine['A']},DA001,2026-05-01 00:00,1000,10,6\n")
    r = client.post("/api/v1/monitoring/imports", headers=who("d02"), json={"csv": csv})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "permit", r.text
    r = client.post("/api/v1/monitoring/imports", headers=who("d01"), json={"csv": csv})
    assert r.status_code == 201, r.text
