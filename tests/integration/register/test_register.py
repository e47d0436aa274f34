"""The permit register on the database (SQLite, and PostgreSQL with TEST_DATABASE_URL):
import of the sample file, idempotent re-import, a changed row as a permit change with its
history and the rights it moves, row errors with line numbers and nothing half-stored,
partial import, renewal window, revocation and an expired permit refused at order entry."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from allocation import register_service as reg
from allocation import service as alloc
from allocation.register import PermitFileRejected, RenewalAfterExpiry
from allocation.register_tables import (
    PermitContentRow,
    PermitImportRow,
    PermitLifeEventRow,
    PermitOutletRow,
)
from allocation.tables import EnterpriseRow, PermitEventRow, PermitQuantityRow, PermitRow
from kernel.errors import DomainError
from ledger.store import LedgerStore

pytestmark = pytest.mark.db

SAMPLE = Path(__file__).parents[2] / "data" / "permits-sample.csv"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
PA = "91500101MA5UAAAA1C001N"  # 重点, thermal power, 500101
PB = "91500115MA5UBBBB2E001R"
PD = "92500118MA5UDDDD48001Y"  # registration


def build_area(platform: Any) -> None:
    alloc.register_area(
        platform.uow(),
        zones=[("A-WK", "air WK", "air"), ("A-TC", "air TC", "air"), ("A-ZX", "air ZX", "air"),
               ("A-YX", "air YX", "air"), ("W-CJ", "water CJ", "water"),
               ("W-JL", "water JL", "water")],
        districts=[("500101", "万州区", "A-WK", "W-CJ"), ("500115", "长寿区", "A-TC", "W-CJ"),
                   ("500112", "渝北区", "A-ZX", "W-JL"), ("500118", "永川区", "A-YX", "W-CJ")])


def sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def do_import(platform: Any, text: str, name: str = "permits-sample.csv", **kw: Any
              ) -> dict[str, Any]:
    return reg.import_permits(platform.uow(), text=text, filename=name, actor="officer",
                              now=NOW, **kw)


def snapshot(platform: Any) -> dict[str, Any]:
    with platform.uow() as uow:
        s = uow.session
        return dict(
            permits=sorted(tuple(r) for r in s.execute(select(
                PermitRow.code, PermitRow.valid_from, PermitRow.valid_to, PermitRow.status))),
            quantities=sorted(tuple(r) for r in s.execute(select(
                PermitQuantityRow.permit, PermitQuantityRow.pollutant, PermitQuantityRow.year,
                PermitQuantityRow.permitted_kg, PermitQuantityRow.cap_kg))),
            outlets=s.scalar(select(func.count()).select_from(PermitOutletRow)),
            events=s.scalar(select(func.count()).select_from(PermitEventRow)),
            hashes=sorted(s.scalars(select(PermitContentRow.content_hash))),
            life=s.scalar(select(func.count()).select_from(PermitLifeEventRow)))


def quantity(platform: Any, permit: str, pol: str, year: int) -> PermitQuantityRow:
    with platform.uow() as uow:
        q = uow.session.get(PermitQuantityRow, (permit, pol, year))
        assert q is not None
        uow.session.expunge(q)
        return q


def balance(platform: Any, holder: str, kind: str, asset: str) -> int:
    with platform.uow() as uow:
        for a in LedgerStore(uow.session).accounts_of([holder]):
            if a.kind == kind and a.asset == asset:
                return int(a.balance)
    return 0


@pytest.fixture
def area(platform: Any) -> Any:
    build_area(platform)
    return platform


def test_import_sample(area: Any) -> None:
    out = do_import(area, sample())
    assert (out["status"], out["permits_new"], out["permits_changed"], out["rows"]) == (
        "imported", 4, 0, 11)
    assert out["errors"] == []
    # tonnes with 3 decimals are whole kg; quantities summed per permit, pollutant and year
    q = quantity(area, PA, "SO2", 2026)
    assert (q.permitted_kg, q.cap_kg, q.allocated_kg, q.binding, q.zone, q.eia_kg) == (
        420_500, 420_500, 420_500, "permit", "A-WK", 450_000)
    assert quantity(area, PB, "COD", 2030).permitted_kg == 30_001
    assert quantity(area, PB, "COD", 2030).zone == "W-CJ"
    view = reg.register_view(area.uow(), PA, today=date(2026, 6, 1))
    c = view["content"]
    assert (c["management_class"], c["industry_code"], c["eia_number"]) == (
        "key", "D4411", "渝环准〔2024〕12号")
    assert {n["period"]: n["limit_db"] for n in c["noise"]} == {"day": 65, "night": 55}
    assert [w["kind"] for w in c["solid_waste"]] == ["粉煤灰", "脱硫石膏"]
    assert {o["outlet_type"] for o in view["outlets"]} == {"main", "general", "fugitive"}
    assert view["life"][0]["kind"] == "issue" and view["life"][0]["actor"] == "officer"
    # a registration record carries no quantities
    d = reg.register_view(area.uow(), PD)
    assert d["content"]["management_class"] == "registration"
    with area.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PermitQuantityRow).where(
            PermitQuantityRow.permit == PD)) == 0
        e = uow.session.get(EnterpriseRow, PA[:18])
        assert e is not None and e.sector == "thermal_power" and e.district == "500101"
    assert reg.list_imports(area.uow())[0]["status"] == "imported"


def test_reimport_changes_nothing(area: Any) -> None:
    do_import(area, sample())
    before = snapshot(area)
    again = do_import(area, sample())
    assert (again["permits_new"], again["permits_changed"], again["permits_unchanged"]) == (
        0, 0, 4)
    assert snapshot(area) == before
    # row order does not matter either
    lines = sample().splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    assert do_import(area, shuffled)["permits_unchanged"] == 4
    assert snapshot(area) == before


def test_changed_row_is_a_change_with_history_and_moves_rights(area: Any) -> None:
    do_import(area, sample())
    alloc.set_indicator(area.uow(), zone="A-WK", pollutant="SO2", year=2026,
                        total_kg=2_000_000, reserve_share_pct=10)
    alloc.issue_indicator(area.uow(), zone="A-WK", pollutant="SO2", year=2026,
                          actor="bureau", now=NOW)
    alloc.confirm_rights(area.uow(), permit=PA, pollutant="SO2", year=2026, actor="bureau",
                         now=NOW)
    asset = "SO2/A-WK/2026"
    assert balance(area, PA, "confirmed", asset) == 420_500
    # the bureau lowers SO2 2026 of PA to 400.5 t and raises NOx 2027
    changed = sample().replace(
        "SO2,35,mg/m3,420.5,420.5", "SO2,35,mg/m3,400.5,420.5").replace(
        "NOx,50,mg/m3,600.75,600.75,600.75", "NOx,50,mg/m3,600.75,700,600.75")
    out = do_import(area, changed, "changed.csv")
    assert (out["permits_new"], out["permits_changed"], out["permits_unchanged"]) == (0, 1, 3)
    q = quantity(area, PA, "SO2", 2026)
    assert (q.permitted_kg, q.allocated_kg, q.cap_kg) == (400_500, 400_500, 400_500)
    assert quantity(area, PA, "NOx", 2027).permitted_kg == 700_000
    # the rights above the new limit went back to the reserve, in the same transaction
    assert balance(area, PA, "confirmed", asset) == 400_500
    assert balance(area, "BUREAU", "reserve", asset) == 2_000_000 - 400_500
    view = reg.register_view(area.uow(), PA)
    change = view["life"][0]
    assert (change["kind"], change["actor"], change["reason"]) == (
        "change", "officer", "import changed.csv")
    moved = {(m["pollutant"], m["year"]): m for m in change["detail"]["quantities"]}
    assert moved[("SO2", 2026)]["recovered_kg"] == 20_000
    assert moved[("NOx", 2027)] == dict(pollutant="NOx", year=2027, old_kg=600_750,
                                        new_kg=700_000, recovered_kg=0)
    hist = alloc.permit_view(area.uow(), PA)["history"]
    assert any(h["kind"] == "change" and h["qty_kg"] == -20_000 for h in hist)  # type: ignore[attr-defined, index]
    # and importing the changed file again changes nothing more
    assert do_import(area, changed, "changed.csv")["permits_changed"] == 0


def test_change_via_api_raises_quantity(area: Any) -> None:
    do_import(area, sample())
    out = reg.change_permit(area.uow(), permit=PA, actor="officer", reason="new unit",
                            quantities=[{"pollutant": "SO2", "year": 2027, "qty_kg": 500_000}],
                            now=NOW)
    assert out["moves"][0]["new_kg"] == 500_000
    assert quantity(area, PA, "SO2", 2027).permitted_kg == 500_000
    with pytest.raises(DomainError) as e:
        reg.change_permit(area.uow(), permit=PA, actor="officer", reason="x",
                          quantities=[{"pollutant": "SO2", "year": 2040, "qty_kg": 1}], now=NOW)
    assert e.value.field == "quantities[0].year"


BAD = {
    # line: (what to break, the field named)
    2: (("91500101MA5UAAAA1C001N", "91500101MA5UAAAA1C01N"), "permit_code"),
    3: (("91500101MA5UAAAA1C,", "91500101MA5UAAAA1D,"), "credit_code"),
    4: (("D4411", "D9999"), "industry_code"),
    7: ((",500115,", ",500999,"), "district"),
    8: (("30.001,30.001,30.001", "30.0001,30.001,30.001"), "quantity_2026_t"),
}


def _break(text: str) -> str:
    lines = text.splitlines()
    for line, ((old, new), _f) in BAD.items():
        assert old in lines[line - 1]
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines) + "\n"


def test_bad_rows_have_line_numbers_and_nothing_is_stored(area: Any) -> None:
    with pytest.raises(PermitFileRejected) as e:
        do_import(area, _break(sample()), "bad.csv")
    got = {(x["line"], x["field"]) for x in e.value.details["summary"]["errors"]}  # type: ignore[index]
    assert {(line, f) for line, (_c, f) in BAD.items()} <= got
    assert snapshot(area)["permits"] == []
    hist = reg.list_imports(area.uow())
    assert hist[0]["status"] == "rejected" and hist[0]["permits_new"] == 0
    assert any(x["line"] == 4 for x in hist[0]["errors"])


def test_wrong_unit_column_and_overlap(area: Any) -> None:
    with pytest.raises(PermitFileRejected) as e:
        do_import(area, sample().replace("quantity_2030_t", "quantity_2030_kg"))
    assert e.value.field == "quantity_2030_kg"
    do_import(area, sample())
    # another permit of PA's site (same credit code and sequence) overlapping in time
    other = PA[:21] + "X"
    rows = [ln for ln in sample().splitlines() if ln.startswith(PA)][:1]
    text = sample().splitlines()[0] + "\n" + rows[0].replace(PA, other) + "\n"
    with pytest.raises(PermitFileRejected) as e2:
        do_import(area, text, "overlap.csv")
    assert e2.value.details["summary"]["errors"][0]["code"] == "validity_overlap"  # type: ignore[index]
    # the next term of the same site does not overlap
    later = text.replace("2026-01-01,2030-12-31", "2031-01-01,2035-12-31").replace(
        "quantity_2026_t", "quantity_2031_t").replace("quantity_2027_t", "quantity_2032_t"
        ).replace("quantity_2028_t", "quantity_2033_t").replace(
        "quantity_2029_t", "quantity_2034_t").replace("quantity_2030_t", "quantity_2035_t")
    assert do_import(area, later, "next.csv")["permits_new"] == 1


def test_partial_imports_the_good_permits(area: Any) -> None:
    out = do_import(area, _break(sample()), "bad.csv", partial=True)
    assert out["status"] == "partial"
    # PA (lines 2-6) and PB (7-9) have errors; PC and PD import
    assert out["permits_new"] == 2 and out["permits_rejected"] >= 2
    codes = {p[0] for p in snapshot(area)["permits"]}
    assert codes == {"91500112MA5UCCCC3U001W", PD}


def test_dry_run_stores_nothing(area: Any) -> None:
    out = do_import(area, sample(), dry_run=True)
    assert out["permits_new"] == 4
    assert snapshot(area)["permits"] == []
    assert reg.list_imports(area.uow()) == []


def test_renewal_window(area: Any) -> None:
    do_import(area, sample())
    # on time: 60 days or more before 2030-12-31
    out = reg.renew_permit(area.uow(), permit=PA, applied_on=date(2030, 10, 1),
                           actor="officer", reason="application 2030-17", now=NOW)
    assert (out["late"], out["term_from"], out["valid_to"]) == (False, "2031-01-01",
                                                                "2035-12-31")
    assert quantity(area, PA, "SO2", 2035).permitted_kg == 420_500
    # late (within 60 days of expiry): granted and flagged
    late = reg.renew_permit(area.uow(), permit=PB, applied_on=date(2031, 2, 1),
                            actor="officer", reason="late application", now=NOW)
    assert late["late"] is True
    assert reg.register_view(area.uow(), PB)["content"]["renewal_late"] is True
    # after expiry: refused, nothing changes
    with pytest.raises(RenewalAfterExpiry) as e:
        reg.renew_permit(area.uow(), permit=PD, applied_on=date(2031, 1, 1),
                         actor="officer", reason="too late", now=NOW)
    assert e.value.field == "applied_on"
    # a term longer than 5 years is refused
    with pytest.raises(DomainError) as e2:
        reg.renew_permit(area.uow(), permit=PD, applied_on=date(2030, 1, 1),
                         valid_to=date(2036, 1, 1), actor="officer", reason="r", now=NOW)
    assert e2.value.code == "permit_term_too_long"


def test_expiring_list(area: Any) -> None:
    do_import(area, sample())
    assert reg.expiring_permits(area.uow(), today=date(2026, 6, 1)) == []
    soon = reg.expiring_permits(area.uow(), today=date(2030, 11, 15))
    assert {x["permit"] for x in soon} == {PA, "91500112MA5UCCCC3U001W", PD}
    assert all(x["days_left"] == 46 for x in soon)


def test_revoke_recovers_later_vintages(area: Any) -> None:
    do_import(area, sample())
    for year in (2026, 2027):
        alloc.set_indicator(area.uow(), zone="A-WK", pollutant="SO2", year=year,
                            total_kg=2_000_000, reserve_share_pct=10)
        alloc.issue_indicator(area.uow(), zone="A-WK", pollutant="SO2", year=year,
                              actor="bureau", now=NOW)
        alloc.confirm_rights(area.uow(), permit=PA, pollutant="SO2", year=year,
                             actor="bureau", now=NOW)
    out = reg.end_permit(area.uow(), permit=PA, step="revocation", actor="officer",
                         reason="decision 2026-3", on=date(2026, 6, 1), now=NOW)
    assert out["status"] == "revoked"
    assert out["recovered"] == [dict(pollutant="SO2", year=2027, qty_kg=420_500)]
    assert balance(area, PA, "confirmed", "SO2/A-WK/2027") == 0
    assert balance(area, PA, "confirmed", "SO2/A-WK/2026") == 420_500  # the year of the end
    assert quantity(area, PA, "SO2", 2027).permitted_kg == 0
    with pytest.raises(DomainError) as e:
        alloc.confirm_rights(area.uow(), permit=PA, pollutant="NOx", year=2026,
                             actor="bureau", now=NOW)
    assert e.value.code == "permit_revoked"
    with pytest.raises(DomainError) as e2:
        reg.end_permit(area.uow(), permit=PA, step="revocation", actor="o", reason="again",
                       now=NOW)
    assert e2.value.code == "permit_not_active"
    # a revoked permit is then cancelled (注销)
    assert reg.end_permit(area.uow(), permit=PA, step="cancellation", actor="o",
                          reason="after revocation", now=NOW)["status"] == "cancelled"
    assert [x["kind"] for x in reg.register_view(area.uow(), PA)["life"]][:3] == [
        "cancellation", "revocation", "issue"]


EXPIRED = ("permit_code,credit_code,enterprise_name,industry_code,management_class,district,"
           "valid_from,valid_to,outlet_id,outlet_type,pollutant,limit_concentration,limit_unit,"
           "quantity_2025_t\n"
           "{code},{credit},Expired Plant,D4411,key,D01,2021-01-01,2025-12-31,DA001,main,SO2,"
           "35,mg/m3,10\n")


def test_expired_permit_refused_at_order_entry(platform: Any) -> None:
    from kernel.ids import make_credit_code, make_permit_code
    from tests.integration.spine import build_spine
    from trading import service as trading

    build_spine(platform)
    with platform.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    credit = make_credit_code("91500000EEEEEEEE3")
    code = make_permit_code(credit, 1)
    do_import(platform, EXPIRED.format(code=code, credit=credit), "expired.csv")
    alloc.deposit_cash(platform.uow(), enterprise=credit, amount_fen=1_000_000,
                       actor="bureau", reference="E-initial", now=NOW)
    cmd = trading.PlaceOrder(credit, code, market, "buy", 100, 100_000)
    with pytest.raises(DomainError) as e:
        trading.place_order(platform.uow(), cmd, permits=platform.permits, actor="E", now=NOW)
    assert e.value.code == "permit_expired"
    assert reg.register_view(platform.uow(), code, today=NOW.date())["status"] == "expired"
    assert reg.register_view(platform.uow(), code, today=NOW.date())["stored_status"] == "valid"
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PermitImportRow)) == 1


def test_recomputation_leaves_imported_permits_alone(area: Any) -> None:
    do_import(area, sample())
    before = snapshot(area)
    with contextlib.suppress(DomainError):  # nothing to compute: only imported permits
        alloc.compute_permitted_quantities(area.uow(), actor="officer", years=[2026])
    assert snapshot(area)["quantities"] == before["quantities"]
