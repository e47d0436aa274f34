"""The penalty decision PDF (行政处罚决定书) states the payment terms in Chinese: the fine is paid
within 15 days of service (Administrative Penalty Law Art. 67(3)) and, late, a surcharge of
3 % of the fine a day is added, never more than the fine (Art. 72(1)(1)), the rule the
procedure's pages apply (`compliance.enforcement.penalty_procedure.surcharge_fen`)."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest

from tests.integration.spine import NOW

pytestmark = pytest.mark.db

NUMBER = "渝环罚〔2026〕31号"


def _text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(data)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    return re.sub(r"\s+", "", text)  # lines wrap anywhere in Chinese


@pytest.fixture
def decided(platform, spine) -> str:  # type: ignore[no-untyped-def]
    from compliance.enforcement import disclosure_service as disclosure

    v = disclosure.open_violation(platform.uow(), permit=spine["A"], kind="quantity_exceedance",
                                  occurred_on="2026-06-01", facts="SO2 above the permit",
                                  pollutant="SO2", exceedance_kg=4_000, actor="officer",
                                  now=NOW)
    disclosure.decide_penalty(platform.uow(), violation_id=v["id"], number=NUMBER,
                              amount_fen=25_000_000, decided_on="2026-06-20",
                              summary="超过许可排放量排放二氧化硫", actor="officer")
    return NUMBER


def test_decision_pdf_states_the_payment_period_and_the_surcharge(browser, decided) -> None:  # type: ignore[no-untyped-def]
    r = browser("trader_a").get("/documents/penalty-decision.pdf", params={"number": decided})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _text(r.content)
    assert "250,000.00元" in text
    # the payment period, from service, with its article
    assert "自收到本决定书之日起十五日内缴纳罚款" in text
    assert "第六十七条第三款" in text
    # the surcharge rule: 3 % of the fine a day, capped at the fine, with its article
    assert "每日按罚款数额的百分之三加处罚款" in text
    assert "加处罚款的数额不得超出罚款的数额" in text
    assert "第七十二条第一款第一项" in text
    # the review and litigation periods stay after the payment terms
    assert text.index("第七十二条") < text.index("申请行政复议")


def test_the_pdf_terms_match_the_procedure() -> None:
    """The rule the PDF states is the one the procedure computes: 3 % a day, at most the fine,
    counted from the day after the 15-day period."""
    from datetime import date

    from compliance.enforcement import penalty_procedure as pp

    fine = 25_000_000
    due = pp.payment_due(date(2026, 7, 1))
    assert due == date(2026, 7, 16)  # 15 days from service
    assert pp.surcharge_fen(fine, due, due) == 0
    day = date.fromordinal(due.toordinal() + 1)
    assert pp.surcharge_fen(fine, due, day) == fine * 3 // 100
    late = date.fromordinal(due.toordinal() + 40)
    assert pp.surcharge_fen(fine, due, late) == fine
