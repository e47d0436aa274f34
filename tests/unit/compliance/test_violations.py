"""The table of violation kinds (Regulation on Pollutant Discharge Permits, Order 736): each
article's range, the per-instance rule of Art. 37, the Chinese legal basis, the clue-kind
mapping and unknown kinds naming their field."""

from __future__ import annotations

import pytest

from compliance.alerting import clues as C
from compliance.enforcement import penalties as P
from compliance.enforcement import violations as V
from compliance.errors import BadViolation, PenaltyOutOfRange, UnknownViolationKind
from compliance.supervision.screening import KINDS

YUAN = 100


def _ok(code: str, yuan: int, instances: int = 1) -> bool:
    lo, hi = V.kind(code).range_fen(instances)
    try:
        P.check_amount(yuan * YUAN, lo, hi)
    except PenaltyOutOfRange:
        return False
    return True


def test_each_article_has_its_own_range() -> None:
    assert V.kind("no_valid_permit").range_fen() == (200_000 * YUAN, 1_000_000 * YUAN)
    assert V.kind("quantity_exceedance").range_fen() == (200_000 * YUAN, 1_000_000 * YUAN)
    assert V.kind("special_period_breach").range_fen() == (50_000 * YUAN, 200_000 * YUAN)
    assert V.kind("monitoring_failure").range_fen() == (20_000 * YUAN, 200_000 * YUAN)
    assert V.kind("report_missing").range_fen() == (5_000 * YUAN, 20_000 * YUAN)


def test_25000_yuan_refused_for_art34_accepted_for_art36() -> None:
    assert not _ok("concentration_exceedance", 25_000)
    assert not _ok("quantity_exceedance", 25_000)
    assert _ok("monitoring_failure", 25_000)


def test_15000_yuan_refused_for_art36_accepted_for_art37() -> None:
    assert not _ok("monitoring_failure", 15_000)
    assert _ok("report_missing", 15_000)
    assert _ok("records_failure", 15_000)


def test_art37_fines_per_instance() -> None:
    assert not _ok("report_untrue", 30_000)          # one instance: at most 20 000
    assert _ok("report_untrue", 30_000, instances=2)  # two: 10 000-40 000
    assert not _ok("report_untrue", 9_999, instances=2)
    with pytest.raises(BadViolation) as exc:
        V.kind("quantity_exceedance").range_fen(2)   # Art. 34 is not per instance
    assert exc.value.field == "instances"
    with pytest.raises(BadViolation):
        V.kind("report_missing").range_fen(0)


def test_out_of_range_message_is_in_yuan_details_in_fen() -> None:
    lo, hi = V.kind("quantity_exceedance").range_fen()
    with pytest.raises(PenaltyOutOfRange) as exc:
        P.check_amount(25_000 * YUAN, lo, hi, basis="Regulation Art. 34(1)")
    assert "200,000-1,000,000 yuan" in exc.value.message
    assert "25,000 yuan" in exc.value.message and "Art. 34(1)" in exc.value.message
    assert exc.value.details == {"min_fen": lo, "max_fen": hi}
    assert exc.value.field == "amount_fen"


def test_legal_basis_is_chinese_from_the_article() -> None:
    assert V.kind("quantity_exceedance").basis_zh == "《排污许可管理条例》第三十四条第一项"
    assert V.kind("no_valid_permit").basis_zh == "《排污许可管理条例》第三十三条"
    assert V.kind("special_period_breach").basis_zh.endswith("第三十五条第二项")
    assert V.kind("report_untrue").basis_zh.endswith("第三十七条第四项")
    k = V.kind("quantity_exceedance")
    assert (k.article, k.item, k.article_ref) == (34, 1, "34(1)")


@pytest.mark.parametrize("bad", ["speeding", "", None, 7, "QUANTITY_EXCEEDANCE"])
def test_unknown_kind_names_the_field(bad: object) -> None:
    with pytest.raises(UnknownViolationKind) as exc:
        V.kind(bad)
    assert exc.value.field == "kind" and exc.value.code == "unknown_violation_kind"
    with pytest.raises(UnknownViolationKind) as exc:
        V.kind(bad, field="violation_kind")
    assert exc.value.field == "violation_kind"


def test_required_kinds_exist_and_unconfirmed_ranges_are_marked() -> None:
    need = {"quantity_exceedance", "concentration_exceedance", "evading_supervision",
            "special_period_breach", "fugitive_emission", "monitoring_failure",
            "records_failure", "report_missing", "report_untrue", "no_valid_permit"}
    assert need <= set(V.codes())
    for k in V.kinds():
        assert 0 < k.min_fen < k.max_fen and k.source
        assert k.verify == (k.article in (35, 36, 37)), k.code


def test_every_clue_kind_maps_to_a_known_violation_kind() -> None:
    assert C.violation_kind_of("exceedance") == "concentration_exceedance"
    assert C.violation_kind_of("missing_data") == "monitoring_failure"
    assert C.violation_kind_of("alert_breach") == "special_period_breach"
    assert C.violation_kind_of("report_missing") == "report_missing"
    assert C.violation_kind_of("manual") is None
    for clue_kind in KINDS:
        code = C.violation_kind_of(clue_kind)
        assert code is not None and V.kind(code).code == code
