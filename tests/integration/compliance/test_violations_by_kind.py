"""Violations by kind on a real database (SQLite and PostgreSQL): a violation opened by hand
carries its kind's article and range, and a decision is checked against it; the legal basis
is pre-filled in Chinese; hand-over to enforcement and its result; a problem clue confirmed
as a violation of the mapped kind, once; missing execution reports open clues; unknown kinds
are refused naming the field and store nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from compliance.alerting import clue_service as clues
from compliance.alerting.clue_store import ClueStore
from compliance.enforcement import disclosure_service as disclosure
from compliance.errors import (
    BadViolation,
    ClueAlreadyConfirmed,
    PenaltyOutOfRange,
    UnknownViolationKind,
    ViolationNotOpen,
    ViolationStepRefused,
)
from compliance.supervision.screening import Anomaly
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db
YUAN = 100
LATER = NOW + timedelta(days=30)


def _open(platform, permit: str, kind: str, **kw):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = dict(permit=permit, kind=kind, occurred_on="2026-05-20",
                                facts="inspection of 2026-05-20", actor="officer", now=NOW)
    return disclosure.open_violation(platform.uow(), **(args | kw))


def _decide(platform, vid: int, number: str, yuan: int):  # type: ignore[no-untyped-def]
    return disclosure.decide_penalty(platform.uow(), violation_id=vid, number=number,
                                     amount_fen=yuan * YUAN, decided_on="2026-06-20",
                                     summary="facts", actor="officer", now=LATER)


def test_decisions_are_checked_against_the_kinds_own_range(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    conc = _open(platform, codes["A"], "concentration_exceedance", pollutant="so2")
    mon = _open(platform, codes["A"], "monitoring_failure")
    rep = _open(platform, codes["B"], "report_missing")
    untrue = _open(platform, codes["B"], "report_untrue", instances=3)
    assert (conc["article"], conc["pollutant"], conc["penalty_min_fen"]) == (
        "34(1)", "SO2", 200_000 * YUAN)
    assert (mon["article"], mon["penalty_min_fen"], mon["penalty_max_fen"]) == (
        "36(2)", 20_000 * YUAN, 200_000 * YUAN)
    assert (untrue["penalty_min_fen"], untrue["penalty_max_fen"]) == (
        15_000 * YUAN, 60_000 * YUAN)
    with pytest.raises(PenaltyOutOfRange) as exc:
        _decide(platform, conc["id"], "R-1", 25_000)
    assert "200,000-1,000,000 yuan" in exc.value.message
    with pytest.raises(PenaltyOutOfRange):
        _decide(platform, mon["id"], "R-2", 15_000)
    assert disclosure.penalty_decisions(platform.uow())["total"] == 0
    d1 = _decide(platform, mon["id"], "R-2", 25_000)
    d2 = _decide(platform, rep["id"], "R-3", 15_000)
    assert d1["amount_fen"] == 25_000 * YUAN and d2["amount_fen"] == 15_000 * YUAN
    # the legal basis defaults to the kind's article, in Chinese
    assert d1["legal_basis"] == "《排污许可管理条例》第三十六条第二项"
    assert d2["legal_basis"] == "《排污许可管理条例》第三十七条第三项"
    assert _decide(platform, untrue["id"], "R-4", 50_000)["amount_fen"] == 50_000 * YUAN


def test_unknown_kind_and_bad_input_store_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    with pytest.raises(UnknownViolationKind) as exc:
        _open(platform, codes["A"], "speeding")
    assert exc.value.field == "kind"
    for kw, fld in ((dict(permit="nope"), "permit"), (dict(occurred_on="2026-07-01"),
                                                      "occurred_on"),
                    (dict(occurred_on="2020-12-31"), "occurred_on"),
                    (dict(facts="  "), "facts"), (dict(pollutant="XX"), "pollutant"),
                    (dict(instances=2), "instances")):
        with pytest.raises(BadViolation) as bad:
            _open(platform, **({"permit": codes["A"], "kind": "monitoring_failure"} | kw))
        assert bad.value.field == fld
    with pytest.raises(UnknownViolationKind):
        disclosure.violations(platform.uow(), kind="speeding")
    assert disclosure.violations(platform.uow(), status=None)["total"] == 0


def test_list_filters_by_kind(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _open(platform, codes["A"], "monitoring_failure")
    _open(platform, codes["B"], "fugitive_emission")
    got = disclosure.violations(platform.uow(), kind="fugitive_emission")
    assert [v["kind"] for v in got["items"]] == ["fugitive_emission"]
    assert got["items"][0]["legal_basis"].endswith("第三十五条第一项")


def test_transfer_then_result(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    v = _open(platform, codes["A"], "evading_supervision")
    with pytest.raises(ViolationStepRefused):   # a result needs a transfer first
        disclosure.record_result(platform.uow(), violation_id=v["id"], result="x",
                                 result_on="2026-05-30", actor="officer", now=NOW)
    with pytest.raises(BadViolation) as exc:
        disclosure.transfer_violation(platform.uow(), violation_id=v["id"], department=" ",
                                      transferred_on="2026-05-25", actor="officer", now=NOW)
    assert exc.value.field == "department"
    t = disclosure.transfer_violation(platform.uow(), violation_id=v["id"],
                                      department="市生态环境保护综合行政执法总队",
                                      transferred_on="2026-05-25", actor="officer", now=NOW)
    assert (t["status"], t["transferred_on"], t["transferred_by"]) == (
        "transferred", "2026-05-25", "officer")
    with pytest.raises(ViolationNotOpen):       # the enforcement body decides it
        _decide(platform, v["id"], "R-9", 300_000)
    with pytest.raises(ViolationStepRefused):   # transferred once
        disclosure.transfer_violation(platform.uow(), violation_id=v["id"], department="x",
                                      transferred_on="2026-05-26", actor="officer", now=NOW)
    with pytest.raises(BadViolation) as exc:    # not before the transfer
        disclosure.record_result(platform.uow(), violation_id=v["id"], result="fined",
                                 result_on="2026-05-24", actor="officer", now=NOW)
    assert exc.value.field == "result_on"
    r = disclosure.record_result(platform.uow(), violation_id=v["id"],
                                 result="罚款三十万元", result_on="2026-05-31",
                                 actor="chief", now=NOW)
    assert (r["result"], r["result_on"], r["result_by"]) == ("罚款三十万元", "2026-05-31",
                                                             "chief")
    with pytest.raises(ViolationStepRefused):
        disclosure.record_result(platform.uow(), violation_id=v["id"], result="again",
                                 result_on="2026-05-31", actor="chief", now=NOW)
    listed = disclosure.violations(platform.uow(), status="transferred")["items"]
    assert [x["id"] for x in listed] == [v["id"]]


def _clue(platform, permit: str, kind: str) -> int:  # type: ignore[no-untyped-def]
    uow = platform.uow()
    with uow:
        (cid,) = ClueStore(uow.session).open_from_anomalies(
            [Anomaly(permit=permit, outlet="", kind=kind, pollutant="SO2",
                     start=NOW - timedelta(days=3), end=NOW - timedelta(days=3),
                     evidence={"cap_kg": 10})], now=NOW, source="test")
        uow.commit()
    return int(cid)


def test_confirmed_clue_becomes_a_violation_of_the_mapped_kind_once(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    breach = _clue(platform, codes["A"], "alert_breach")
    v = clues.confirm_violation(platform.uow(), clue_id=breach, actor="officer", now=NOW)
    assert (v["kind"], v["article"], v["clue"], v["occurred_on"]) == (
        "special_period_breach", "35(2)", breach, "2026-05-29")
    assert v["penalty_min_fen"] == 50_000 * YUAN
    with pytest.raises(ClueAlreadyConfirmed):
        clues.confirm_violation(platform.uow(), clue_id=breach, actor="officer", now=NOW)
    history = clues.get_clue(platform.uow(), clue_id=breach, now=NOW)["history"]
    assert history[-1]["action"] == "confirm" and "35(2)" in history[-1]["note"]
    gap = _clue(platform, codes["B"], "missing_data")
    assert clues.confirm_violation(platform.uow(), clue_id=gap, actor="officer",
                                   now=NOW)["kind"] == "monitoring_failure"
    manual = clues.open_manual(platform.uow(), permit=codes["A"], description="complaint",
                               actor="officer", now=NOW)["id"]
    with pytest.raises(UnknownViolationKind) as exc:
        clues.confirm_violation(platform.uow(), clue_id=manual, actor="officer", now=NOW)
    assert exc.value.field == "kind"
    assert clues.confirm_violation(platform.uow(), clue_id=manual, kind="fugitive_emission",
                                   actor="officer", now=NOW)["kind"] == "fugitive_emission"
    assert disclosure.violations(platform.uow())["total"] == 3


def test_missing_reports_open_clues_after_the_due_date(platform) -> None:  # type: ignore[no-untyped-def]
    build_spine(platform)
    # permits valid from 2025-01-01; thermal power's annual report for 2025 was due in January
    out = clues.find_missing_reports(platform.uow(), year=2025, period="Y", actor="officer",
                                     now=NOW)
    assert out["missing"] == 2 and len(out["clues"]) == 2
    again = clues.find_missing_reports(platform.uow(), year=2025, period="Y",
                                       actor="officer", now=NOW)
    assert again["clues"] == []     # the open clues are not opened twice
    assert clues.find_missing_reports(platform.uow(), year=2026, period="Y",
                                      actor="officer", now=NOW)["missing"] == 0  # not due
    v = clues.confirm_violation(platform.uow(), clue_id=out["clues"][0], actor="officer",
                                now=NOW)
    assert (v["kind"], v["article"], v["penalty_max_fen"]) == (
        "report_missing", "37(3)", 20_000 * YUAN)



def test_a_filed_annual_report_covers_the_fourth_quarter(platform) -> None:  # type: ignore[no-untyped-def]
    """The clue run owes what the bureau's missing-report list owes: an annual report
    filed for the year covers its Q4 report."""
    from compliance.reporting import report_service
    from tests.integration.compliance.test_report_spec import ANNUAL, FILED, LINE, _world

    codes = _world(platform)

    def owed() -> set[tuple[str, int, str]]:
        return {(m.permit, m.year, m.period) for m in report_service.missing_reports(
            platform.uow(), on=NOW.date(), since=2025)}

    assert (codes["A"], 2025, "Q4") in owed()
    report_service.submit_report(platform.uow(), permit=codes["A"], year=2025, period="Y",
                                 lines=LINE, details=ANNUAL, actor="officer", now=FILED)
    assert (codes["A"], 2025, "Q4") not in owed()
    out = clues.find_missing_reports(platform.uow(), year=2025, period="Q4", actor="officer",
                                     now=NOW)
    permits = {clues.get_clue(platform.uow(), clue_id=i, now=NOW)["permit"]
               for i in out["clues"]}
    assert permits == {p for p, y, per in owed() if (y, per) == (2025, "Q4")}
    assert codes["A"] not in permits
