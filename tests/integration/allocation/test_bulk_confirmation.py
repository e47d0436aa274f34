"""Bulk confirmation (issue 18): the queue of permits waiting for confirmation, filtered by
district, zone, sector and state; every waiting pollutant of chosen permits confirmed in one
transaction; a permit not waiting, outside the district, or changed since the request
refuses the whole batch with an error naming it, and nothing is confirmed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from allocation import bulk_confirmation as bulk
from allocation import service as alloc
from kernel.errors import DomainError
from kernel.ids import make_credit_code
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db
C = make_credit_code("91500000CCCCCCCC3")


def build(platform: Any) -> dict[str, str]:
    """The spine (A, B: thermal power, district D01, SO2 in ZA1) and C (`add_c`)."""
    codes = build_spine(platform)
    codes["C"] = add_c(platform)
    return codes


def add_c(platform: Any) -> str:
    """Enterprise C: steel in district D02, its permit with SO2 and NOx in zone ZA2 (2026),
    the zone's indicators issued. Returns the permit code."""
    alloc.register_area(platform.uow(), zones=[("ZA2", "Air zone 2", "air"),
                                               ("ZW2", "Water zone 2", "water")],
                        districts=[("D02", "District 2", "ZA2", "ZW2")])
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="steel", district="D02")
    code = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Works C", district="D02",
        capacity=100, capacity_unit="t", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA2", 5_000, 6_000, 4_000),
               alloc.QuantityBasis("NOx", 2026, "ZA2", 7_000, 9_000, 6_000)], now=NOW)
    for pol in ("SO2", "NOx"):
        alloc.set_indicator(platform.uow(), zone="ZA2", pollutant=pol, year=2026,
                            total_kg=50_000, reserve_share_pct=10)
        alloc.issue_indicator(platform.uow(), zone="ZA2", pollutant=pol, year=2026,
                              actor="bureau", now=NOW)
    return code


def _queue(platform: Any, **kw: Any) -> list[str]:
    return [i["code"] for i in bulk.confirmation_queue(platform.uow(), year=2026, now=NOW,
                                                       **kw)["items"]]


def _confirmed(platform: Any, code: str) -> dict[str, bool]:
    view = alloc.permit_view(platform.uow(), code, events=0)
    return {q["pollutant"]: q["confirmed"] for q in view["quantities"]}  # type: ignore[attr-defined]


def test_queue_filters_and_states(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build(platform)
    a, b, c = codes["A"], codes["B"], codes["C"]
    assert _queue(platform) == sorted([a, b, c])
    assert _queue(platform, district="D02") == [c]
    assert _queue(platform, zone="ZA1") == sorted([a, b])
    assert _queue(platform, sector="steel") == [c]
    assert _queue(platform, sector="cement") == []
    assert _queue(platform, state="waiting") == sorted([a, b, c])
    item = bulk.confirmation_queue(platform.uow(), year=2026, district="D02", now=NOW)["items"][0]
    assert item["enterprise_name"] == "Enterprise C" and item["district_name"] == "District 2"
    assert item["waiting"] == ["NOx", "SO2"] and item["state"] == "waiting"
    assert item["waiting_kg"] == 4_000 + 6_000
    # one pollutant of C confirmed: C is partly confirmed, still waits
    alloc.confirm_rights(platform.uow(), permit=c, pollutant="SO2", year=2026, actor="o",
                         now=NOW)
    assert _queue(platform, state="partial") == [c]
    assert _queue(platform, state="waiting") == sorted([a, b])
    assert c in _queue(platform)
    # another year: nothing waits (the permits have no 2027 quantities)
    assert bulk.confirmation_queue(platform.uow(), year=2027, now=NOW)["total"] == 0
    with pytest.raises(DomainError) as e:
        bulk.confirmation_queue(platform.uow(), year=2026, state="nonsense")
    assert e.value.code == "invalid_input"


def test_confirm_every_waiting_pollutant_in_one_go(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build(platform)
    a, c = codes["A"], codes["C"]
    out = bulk.confirm_permits(platform.uow(), permits=[a, c], year=2026, actor="officer",
                               now=NOW)
    assert [(r["permit"], r["pollutant"], r["qty_kg"]) for r in out] == [
        (a, "SO2", 8_000), (c, "NOx", 6_000), (c, "SO2", 4_000)]
    assert {r["enterprise_name"] for r in out} == {"Enterprise A", "Enterprise C"}
    assert all(r["permitted_before_kg"] == r["permitted_after_kg"] for r in out)
    assert _confirmed(platform, a) == {"SO2": True}
    assert _confirmed(platform, c) == {"NOx": True, "SO2": True}
    assert _queue(platform) == [codes["B"]]
    assert sorted(_queue(platform, state="confirmed")) == sorted([a, c])
    # the history of each permit has its confirmation, as confirm_rights writes it
    hist = alloc.permit_view(platform.uow(), c)["history"]
    assert sorted((h["pollutant"], h["kind"], h["qty_kg"]) for h in hist  # type: ignore[attr-defined]
                  if h["kind"] == "confirmation") == [("NOx", "confirmation", 6_000),
                                                      ("SO2", "confirmation", 4_000)]


@pytest.mark.parametrize("case", ["not_waiting", "missing", "other_district", "changed",
                                  "empty"])
def test_a_bad_permit_refuses_the_whole_batch(platform, case) -> None:  # type: ignore[no-untyped-def]
    codes = build(platform)
    a, b, c = codes["A"], codes["B"], codes["C"]
    kw: dict[str, Any] = {}
    if case == "not_waiting":
        alloc.confirm_rights(platform.uow(), permit=b, pollutant="SO2", year=2026,
                             actor="o", now=NOW)
        permits, bad, code = [a, b], b, "permit_not_awaiting_confirmation"
    elif case == "missing":
        permits, bad, code = [a, "91500000XXXXXXXXXX009Z"], "91500000XXXXXXXXXX009Z", \
            "permit_not_found"
    elif case == "other_district":
        permits, bad, code = [a, c], c, "permit_not_found"
        kw["district"] = "D01"
    elif case == "changed":
        permits, bad, code = [a, c], c, "confirmation_batch_changed"
        kw["expected"] = {a: {"SO2": 8_000}, c: {"SO2": 4_000}}  # NOx waits too
    else:
        permits, bad, code = [], None, "invalid_input"
    with pytest.raises(DomainError) as e:
        bulk.confirm_permits(platform.uow(), permits=permits, year=2026, actor="officer",
                             now=NOW, **kw)
    assert e.value.code == code
    if bad is not None:
        assert bad in e.value.message and e.value.details["permit"] == bad
        assert e.value.field == f"permits[{permits.index(bad)}]"
    # nothing confirmed, not even the good permit before the bad one
    assert _confirmed(platform, a) == {"SO2": False}
    assert _confirmed(platform, c) == {"NOx": False, "SO2": False}


def test_expected_quantities_are_what_is_confirmed(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build(platform)
    c = codes["C"]
    out = bulk.confirm_permits(platform.uow(), permits=[c], year=2026, actor="o+p", now=NOW,
                               expected={c: {"SO2": 3_000, "NOx": 6_000}}, district="D02")
    assert {(r["pollutant"], r["qty_kg"]) for r in out} == {("SO2", 3_000), ("NOx", 6_000)}
    assert bulk.expected_of(out) == {c: {"NOx": 6_000, "SO2": 3_000}}


def test_purchase_only_units_are_not_in_the_queue(platform) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from allocation.tables import PermitRow

    codes = build(platform)
    with platform.uow() as uow:
        uow.session.execute(update(PermitRow).where(PermitRow.code == codes["B"])
                            .values(unit_kind="new"))
        uow.commit()
    assert codes["B"] not in _queue(platform)
    with pytest.raises(DomainError) as e:
        bulk.confirm_permits(platform.uow(), permits=[codes["B"]], year=2026, actor="o",
                             now=NOW)
    assert e.value.code == "permit_not_awaiting_confirmation"
    assert codes["B"] in e.value.message
