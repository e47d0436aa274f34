"""The environmental protection tax as the law computes it: smoke dust 2.18 vs general dust 4,
the top-3 / top-5 rules, Art. 13 reductions (75 % and 50 %), the Art. 12 sewage exemption,
pollutants without an equivalent value listed, the due date, and bad input naming the field.
The figures are those of docs/tax.md's worked examples (docs/examples/*.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import (
    BadTaxInput,
    MonthOutsideQuarter,
    RateOutOfBounds,
    UnknownSourceKind,
    UnknownTaxPollutant,
)
from compliance.reporting.tax import compute_json, due_date
from compliance.reporting.tax_parameters import VERSIONS
from kernel.errors import DomainError

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"


def _load(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _lines(out: dict[str, Any]) -> dict[tuple[str, int | None, str], dict[str, Any]]:
    return {(ln["outlet"], ln["month"], ln["pollutant"]): ln for ln in out["lines"]}


def test_annex_values_the_issue_names() -> None:
    v = {c: str(p.value_kg) for c, p in VERSIONS["2018.1"].pollutants.items()}
    assert (v["SO2"], v["NOx"], v["smoke_dust"], v["general_dust"]) == ("0.95", "0.95",
                                                                         "2.18", "4")
    assert (v["COD"], v["NH3-N"], v["SS"], v["TP"], v["petroleum"], v["BOD5"]) == (
        "1", "0.8", "4", "0.25", "0.1", "0.5")
    assert "TN" not in v and "VOCs" not in v


def test_industrial_example() -> None:
    out = compute_json(_load("tax-return.json"))
    ln = _lines(out)
    # 75 %: SO2 at 21 of 35 mg/m3 (ratio 0.6): 950/0.95 = 1000 eq × 240 × 75 % = 180 000 fen
    so2 = ln[("DA001", 1, "SO2")]
    assert (so2["equivalents"], so2["payable_pct"], so2["concentration_ratio"],
            so2["reason"], so2["tax_fen"]) == ("1000.0000", 75, "0.6000", "art13_75", 180_000)
    # 50 %: boiler PM is smoke dust (2.18): 218 kg = 100 eq; 5 of 10 mg/m3 → 12 000 fen
    pm = ln[("DA001", 1, "PM")]
    assert (pm["taxed_as"], pm["equivalent_value_kg"], pm["equivalents"], pm["payable_pct"],
            pm["tax_fen"]) == ("smoke_dust", "2.18", "100.0000", 50, 12_000)
    # the same 218 kg at a process outlet is general dust (4): 54.5 eq × 240 = 13 080 fen
    dust = ln[("DA002", 1, "PM")]
    assert (dust["taxed_as"], dust["equivalents"], dust["tax_fen"],
            dust["reason"]) == ("general_dust", "54.5000", 13_080,
                                "no_concentration_no_reduction")
    # NOx 40 of 50 (0.8): full rate; CO (10 eq) is fourth: not taxed (top 3)
    assert ln[("DA001", 1, "NOx")]["tax_fen"] == 480_000
    co = ln[("DA001", 1, "CO")]
    assert (co["rank"], co["status"], co["reason"], co["tax_fen"]) == (
        4, "not_taxed", "beyond_top_n", 0)
    assert ln[("DA001", 1, "VOCs")]["reason"] == "no_equivalent_value"
    # February: the average is low but one reading exceeded the standard: no reduction
    feb = ln[("DA001", 2, "SO2")]
    assert (feb["reason"], feb["payable_pct"], feb["tax_fen"]) == ("exceeds_standard", 100,
                                                                   240_000)
    # water: BOD5 gives way to COD (one of three); other class top 3: COD, SS, TP;
    # the first-class Cd is counted apart (top 5); TN has no equivalent value
    w = {p: (x["status"], x["reason"], x["tax_fen"]) for (o, _m, p), x in ln.items()
         if o == "DW001"}
    assert w == {"COD": ("taxed", "no_concentration_no_reduction", 300_000),
                 "SS": ("taxed", "no_concentration_no_reduction", 150_000),
                 "TP": ("taxed", "no_concentration_no_reduction", 60_000),
                 "Cd": ("taxed", "no_concentration_no_reduction", 60_000),
                 "NH3-N": ("not_taxed", "beyond_top_n", 0),
                 "petroleum": ("not_taxed", "beyond_top_n", 0),
                 "BOD5": ("not_taxed", "one_of_cod_bod5_toc", 0),
                 "TN": ("not_taxed", "no_equivalent_value", 0)}
    assert out["months"] == [{"month": 1, "tax_fen": 685_080}, {"month": 2, "tax_fen": 240_000},
                             {"month": 3, "tax_fen": 570_000}]
    assert out["total_fen"] == 1_495_080 == sum(x["tax_fen"] for x in out["lines"])
    assert out["due_date"] == "2026-04-15"


def test_sewage_example() -> None:
    out = compute_json(_load("tax-return-sewage.json"))
    ln = _lines(out)
    assert (ln[("DW001", 4, "COD")]["status"], ln[("DW001", 4, "COD")]["tax_fen"]) == (
        "exempt", 0)
    # NH3-N over its standard: taxed in full, 4000/0.8 = 5000 eq × 300
    assert (ln[("DW001", 4, "NH3-N")]["reason"], ln[("DW001", 4, "NH3-N")]["tax_fen"]) == (
        "exceeds_standard", 1_500_000)
    # no concentration: the exemption is not claimed
    assert (ln[("DW001", 4, "SS")]["reason"], ln[("DW001", 4, "SS")]["tax_fen"]) == (
        "no_concentration_exemption_not_claimed", 750_000)
    assert ln[("DW001", 4, "TP")]["reason"] == "beyond_top_n"
    # May: one reading of 55 over the standard of 50: no exemption
    assert ln[("DW001", 5, "COD")]["tax_fen"] == 9_000_000
    assert out["total_fen"] == 11_250_000 and out["due_date"] == "2026-07-15"


def _one(conc: str, limit: str = "100", peak: str | None = None, kind: str = "process"
         ) -> dict[str, Any]:
    fig: dict[str, Any] = {"pollutant": "SO2", "kg": 95, "concentration": conc, "limit": limit}
    if peak is not None:
        fig["max_reading"] = peak
    return compute_json({"year": 2026, "quarter": 4, "outlets": [{
        "outlet": "DA001", "medium": "air", "source_kind": kind,
        "months": [{"month": 11, "pollutants": [fig]}]}]})["lines"][0]  # type: ignore[index,no-any-return]


@pytest.mark.parametrize(("conc", "pct"), [("70", 75), ("70.0001", 100), ("50", 50),
                                           ("50.01", 75), ("0", 50), ("100", 100)])
def test_reduction_thresholds(conc: str, pct: int) -> None:
    # 95 kg SO2 = 100 eq × 240 fen = 24 000 fen at full rate
    ln = _one(conc)
    assert ln["payable_pct"] == pct and ln["tax_fen"] == 24_000 * pct // 100


def test_exceedance_and_municipal_waste() -> None:
    assert _one("101")["reason"] == "exceeds_standard"
    assert _one("40", peak="100")["payable_pct"] == 50  # a reading at the standard is within
    assert _one("40", peak="100.5")["payable_pct"] == 100
    assert _one("40", kind="municipal_waste")["status"] == "exempt"
    assert _one("40", kind="municipal_sewage")["payable_pct"] == 50  # air: no exemption


def test_due_dates() -> None:
    assert [due_date(2026, q).isoformat() for q in (1, 2, 3, 4)] == [
        "2026-04-15", "2026-07-15", "2026-10-15", "2027-01-15"]


def _bad(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_load("tax-return.json"))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


P0 = ["outlets", 0, "months", 0, "pollutants", 0]


@pytest.mark.parametrize(("path", "value", "error", "field"), [
    (P0 + ["pollutant"], "XYZ", UnknownTaxPollutant,
     "outlets[0].months[0].pollutants[0].pollutant"),
    (P0 + ["pollutant"], "COD", BadTaxInput, "outlets[0].months[0].pollutants[0].pollutant"),
    (P0 + ["kg"], -1, BadTaxInput, "outlets[0].months[0].pollutants[0].kg"),
    (P0 + ["kg"], 1.5, BadTaxInput, "outlets[0].months[0].pollutants[0].kg"),
    (P0 + ["concentration"], "-0.1", BadTaxInput,
     "outlets[0].months[0].pollutants[0].concentration"),
    (P0 + ["max_reading"], "-3", BadTaxInput, "outlets[0].months[0].pollutants[0].max_reading"),
    (P0 + ["limit"], KeyError, BadTaxInput, "outlets[0].months[0].pollutants[0].limit"),
    (P0 + ["concentraton"], "1", BadTaxInput, "outlets[0].months[0].pollutants[0].concentraton"),
    (["outlets", 0, "source_kind"], "boiler", UnknownSourceKind, "outlets[0].source_kind"),
    (["outlets", 0, "months", 1, "month"], 4, MonthOutsideQuarter, "outlets[0].months[1].month"),
    (["outlets", 0, "months", 1, "month"], 1, BadTaxInput, "outlets[0].months[1].month"),
    (["outlets", 1, "outlet"], "DA001", BadTaxInput, "outlets[1].outlet"),
    (["rates_fen"], {"air": 1300}, RateOutOfBounds, "rates_fen.air"),
    (["rates_fen"], {"water": 100}, RateOutOfBounds, "rates_fen.water"),
    (["province"], "XX", RateOutOfBounds, "province"),
    (["quarter"], 5, BadTaxInput, "quarter"),
    (["year"], 2017, BadTaxInput, "year"),
])
def test_bad_input_names_the_field(path: list[Any], value: Any, error: type[DomainError],
                                   field: str) -> None:
    with pytest.raises(error) as e:
        compute_json(_bad(path, value))
    assert e.value.field == field


def test_not_an_object() -> None:
    cases: list[object] = [[], "x", None, {"year": 2026}]
    for data in cases:
        with pytest.raises(BadTaxInput):
            compute_json(data)


def test_rate_within_band_may_be_given() -> None:
    out = compute_json(_bad(["rates_fen"], {"air": 1200}))
    assert out["rates_fen"] == {"air": 1200, "water": 300}
    assert _lines(out)[("DA002", 1, "PM")]["tax_fen"] == 65_400  # 54.5 eq × 1 200
