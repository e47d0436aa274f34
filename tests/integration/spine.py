"""A tiny municipality for integration and web tests: one air zone, two enterprises."""

from __future__ import annotations

from datetime import UTC, date, datetime

from allocation import service as alloc
from kernel.ids import make_credit_code

A = make_credit_code("91500000AAAAAAAA1")
B = make_credit_code("91500000BBBBBBBB2")
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def build_spine(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    alloc.register_area(platform.uow(), zones=[("ZA1", "Air zone 1", "air"),
                                               ("ZW1", "Water zone 1", "water")],
                        districts=[("D01", "District 1", "ZA1", "ZW1")])
    codes = {}
    for tag, code, spec in (("A", A, 10_000), ("B", B, 8_000)):
        alloc.register_enterprise(platform.uow(), credit_code=code, name=f"Enterprise {tag}",
                                  sector="thermal_power", district="D01")
        codes[tag] = alloc.issue_permit(
            platform.uow(), enterprise=code, site_seq=1, site_name=f"Plant {tag}",
            district="D01", capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
            valid_to=date(2029, 12, 31), parameter_version="test",
            bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", spec, spec + 1000, spec - 2000)],
            now=NOW)
    alloc.set_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=2026,
                        total_kg=20_000, reserve_share_pct=10)
    alloc.issue_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=2026,
                          actor="bureau", now=NOW)
    alloc.deposit_cash(platform.uow(), enterprise=B, amount_fen=10_000_000, actor="bureau",
                       reference="B-initial", now=NOW)
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=1_000, actor="bureau",
                       reference="A-initial", now=NOW)
    return codes
