"""Documents (issue 18): the transaction confirmation, the penalty decision and the paid-use
bill as PDFs (rendered to PNG with pdfium and checked: A4, ink, the Chinese title and the
amount in yuan in the extracted text), each with the record's access rules; the Excel
export of the officer lists (openpyxl reads it back); the CSV statements in the reader's
language, in yuan and Beijing time."""

from __future__ import annotations

import csv
import io
from typing import Any

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from compliance.enforcement import disclosure_service as disclosure
from kernel.ids import make_credit_code
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B
from trading import service as trading
from web.exports import cell_value
from web.i18n import translator

pytestmark = pytest.mark.db
A4_PT = (595.28, 841.89)
NUMBER = "渝环罚〔2026〕9号"
_ = translator("zh")


@pytest.fixture
def world(platform, spine, one_officer) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One book trade (A sells 600 kg to B at 3 050 yuan/t), a published penalty decision
    on A (300 000 yuan) and A's paid paid-use bill, B's unpaid one."""
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    for p in (pa, pb):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             qty_kg=1000, actor="officer", now=NOW)
    bills = {b["enterprise"]: b["id"] for b in
             paid_use.list_bills(platform.uow(), limit=10)["items"]}
    fund_and_pay(platform, pa)
    alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=1000,
                         actor="t")
    trading.place_order(platform.uow(), trading.PlaceOrder(A, pa, market, "sell", 600,
                                                           305_000),
                        permits=platform.permits, actor="t")
    trading.place_order(platform.uow(), trading.PlaceOrder(B, pb, market, "buy", 600,
                                                           310_000),
                        permits=platform.permits, actor="t")
    trade = trading.trades_of(platform.uow(), A, 1)[0]
    v = disclosure.open_violation(platform.uow(), permit=pa, kind="quantity_exceedance",
                                  occurred_on="2026-06-01", facts="SO2 above the permit",
                                  pollutant="SO2", exceedance_kg=4_000, actor="officer",
                                  now=NOW)
    disclosure.decide_penalty(platform.uow(), violation_id=v["id"], number=NUMBER,
                              amount_fen=30_000_000, decided_on="2026-06-20",
                              summary="超过许可排放量排放二氧化硫", actor="officer")
    return dict(trade=trade["id"], bill_a=bills[A], bill_b=bills[B])


def check_pdf(data: bytes, *texts: str) -> str:
    """The PDF's first page is A4, renders to a PNG with ink, and its text holds `texts`."""
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    w, h = page.get_size()
    assert abs(w - A4_PT[0]) < 1 and abs(h - A4_PT[1]) < 1
    image = page.render(scale=1).to_pil().convert("L")
    png = io.BytesIO()
    image.save(png, format="PNG")
    assert png.getvalue().startswith(b"\x89PNG")
    dark = sum(image.histogram()[:128])
    assert dark > 2_000, "the page is blank"
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for t in texts:
        assert t in text, (t, text[:400])
    return text


def test_trade_confirmation_pdf_for_both_parties_and_the_bureau(world, browser, client,
                                                                auth) -> None:  # type: ignore[no-untyped-def]
    tid = world["trade"]
    for who in ("trader_a", "trader_b", "officer"):
        r = browser(who).get(f"/documents/trades/{tid}.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert "attachment" in r.headers["content-disposition"]
    text = check_pdf(r.content, "成交确认书", "1,830.00 元", "3,050.00 元/吨", "0.600 吨",
                     "二氧化硫", "Enterprise A", "Enterprise B", "北京时间")
    assert "账本分录" in text and ":rights-out" in text  # the ledger entry that moved it
    page = browser("trader_a").get(f"/enterprises/{A}").text
    assert f'href="/documents/trades/{tid}.pdf"' in page  # linked where the trade is shown
    api = client.get(f"/api/v1/trades/{tid}/confirmation.pdf", headers=auth("trader_a"))
    assert api.status_code == 200 and api.content.startswith(b"%PDF-")


def test_trade_confirmation_refused_to_others(world, platform, browser, client,
                                              auth) -> None:  # type: ignore[no-untyped-def]
    tid = world["trade"]
    from identity import service as identity

    c = make_credit_code("91500000CCCCCCCC3")
    alloc.register_enterprise(platform.uow(), credit_code=c, name="Enterprise C",
                              sector="steel", district="D01")
    identity.create_user(platform.uow(), username="trader_c", display_name="C",
                         role="trader", password="pw-trader_c-long", enterprise=c)
    r = client.get(f"/api/v1/trades/{tid}/confirmation.pdf", headers=auth("analyst"))
    assert r.status_code == 403
    r = client.get(f"/documents/trades/{tid}.pdf", follow_redirects=False)
    assert r.status_code in (303, 401) and not r.content.startswith(b"%PDF")  # to log-in
    token = identity.create_token(platform.uow(), owner=identity.principal_of(
        platform.uow(), "trader_c"), name="t")[0]
    r = client.get(f"/api/v1/trades/{tid}/confirmation.pdf",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404 and r.json()["error"] == "trade_not_found"
    r = client.get("/api/v1/trades/999999/confirmation.pdf", headers=auth("officer"))
    assert r.status_code == 404


def test_penalty_decision_pdf_own_enterprise_and_bureau_only(world, browser, client,
                                                             auth) -> None:  # type: ignore[no-untyped-def]
    url = "/documents/penalty-decision.pdf"
    r = browser("trader_a").get(url, params={"number": NUMBER})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    check_pdf(r.content, "行政处罚决定书", NUMBER, "300,000.00 元", "Enterprise A",
              "2026-06-20")
    assert browser("officer").get(url, params={"number": NUMBER}).status_code == 200
    r = client.get("/api/v1/penalties/decision.pdf", params={"number": NUMBER},
                   headers=auth("trader_b"))
    assert r.status_code == 404 and r.json()["error"] == "penalty_decision_not_found"
    r = client.get(url, params={"number": NUMBER}, follow_redirects=False)
    assert r.status_code in (303, 401) and not r.content.startswith(b"%PDF")


def test_paid_use_bill_pdf(world, browser, client, auth) -> None:  # type: ignore[no-untyped-def]
    r = browser("trader_b").get(f"/documents/bills/{world['bill_b']}.pdf")
    assert r.status_code == 200
    check_pdf(r.content, "排污权有偿使用费缴款通知", "976.00 元", "1.000 吨", "未缴")
    r = client.get(f"/api/v1/paid-use/bills/{world['bill_a']}/notice.pdf",
                   headers=auth("trader_a"))
    assert r.status_code == 200
    check_pdf(r.content, "缴款通知", "976.00 元", "已缴")
    r = client.get(f"/api/v1/paid-use/bills/{world['bill_a']}/notice.pdf",
                   headers=auth("trader_b"))
    assert r.status_code == 404 and r.json()["error"] == "bill_not_found"


def _sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_officer_lists_export_to_excel(world, browser) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    page = officer.get("/bureau/paid-use", params={"status": "unpaid"}).text
    assert 'href="/bureau/paid-use.xlsx?status=unpaid"' in page  # the page links its export
    assert f'href="/documents/bills/{world["bill_b"]}.pdf"' in page
    r = officer.get("/bureau/paid-use.xlsx", params={"status": "unpaid"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    (title, rows), = _sheets(r.content).items()
    assert title == _("Paid-use bills")
    head = rows[0]
    assert len(rows) == 2  # the page's filter: B's unpaid bill only
    bill = dict(zip(head, rows[1], strict=True))
    assert bill[_("Amount yuan")] == 976 and bill[_("Enterprise")] == B
    assert bill[_("Quantity t")] == 1 and bill[_("Status")] == _("unpaid") != "unpaid"
    sheets = _sheets(officer.get("/bureau/penalties.xlsx").content)
    decisions = sheets[_("Decisions")]
    assert decisions[0][0] == _("Decision number")
    row = next(r for r in decisions if NUMBER in r)
    assert 300000 in row and "2026-06-20" in row
    admin = browser("admin")
    for path in ("/enterprises", "/bureau/permits", "/bureau/approvals", "/bureau/audit",
                 "/bureau/clues", "/bureau/alerts", "/bureau/transfers", "/bureau/auctions",
                 "/bureau/reports/missing", "/bureau/monitoring", "/bureau/compliance",
                 "/bureau/markets", "/bureau/markets/flags", "/bureau/penalty-cases",
                 "/bureau/confirmations/queue", "/admin/users"):
        r = admin.get(path + ".xlsx")
        assert r.status_code == 200, (path, r.text[:300])
        assert all(rows for rows in _sheets(r.content).values())
    ents = _sheets(officer.get("/enterprises.xlsx", params={"q": "Enterprise B"}).content)
    (rows,) = ents.values()
    assert [r[1] for r in rows[1:]] == [B]


def test_every_declared_export_is_served(app) -> None:  # type: ignore[no-untyped-def]
    from web.pages.exports import EXPORT_PATHS

    served = {getattr(r, "path", "") for r in app.router.routes}
    assert {p + ".xlsx" for p in EXPORT_PATHS} <= served


def test_excel_exports_keep_the_pages_access(world, browser, client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/bureau/paid-use.xlsx", follow_redirects=False)
    assert r.status_code in (303, 401) and not r.content.startswith(b"PK")
    assert browser("trader_a").get("/bureau/paid-use.xlsx").status_code == 403
    assert browser("analyst").get("/bureau/audit.xlsx").status_code == 403


def test_excel_cells_are_inert_and_in_readers_units() -> None:
    assert str(cell_value("t", 1234, "zh")) == "1.234"
    assert str(cell_value("yuan", 97_600, "zh")) == "976.00"
    assert cell_value("time", "2026-01-02T16:30:00+00:00", "zh") == "2026-01-03 00:30"
    assert cell_value("pollutant", "SO2", "zh") == "二氧化硫"
    from web.exports import Column, Sheet, workbook

    data = workbook([(Sheet("Users", lambda c: [], (Column("Name", "n"),)),
                      [{"n": "=HYPERLINK(\"x\")"}])], "en")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None and ws["A2"].data_type == "s" and ws["A2"].value.startswith("=")


def test_csv_statements_in_chinese_yuan_and_beijing_time(world, browser) -> None:  # type: ignore[no-untyped-def]
    ta = browser("trader_a")
    r = ta.get(f"/enterprises/{A}/statements/trades.csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["成交编号", "时间（北京时间）", "市场", "方向"]
    assert rows[1][3] == "卖出" and rows[1][6] == "1,830.00" and len(rows[1][1]) == 16
    h = ta.get(f"/enterprises/{A}/statements/holdings.csv")
    hrows = list(csv.reader(io.StringIO(h.content.decode("utf-8-sig"))))
    assert hrows[0][-1] == "单位" and any(r[-1] == "元" for r in hrows[1:])
    assert any(r[1] == "可交易" for r in hrows[1:])
    ta.get("/lang/en")
    rows = list(csv.reader(io.StringIO(
        ta.get(f"/enterprises/{A}/statements/trades.csv").content.decode("utf-8-sig"))))
    assert rows[0][0] == "Trade ID" and rows[1][3] == "Sell"
