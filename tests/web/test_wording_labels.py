"""One word per code on the pages (issue 18 polish): a trade's side in "My trades" reads like the
side of an order ("Buy"/"Sell", 买入/卖出, web/labels.py), the filters' empty option reads
"All" (全部), and a pollutant is named by its label (二氧化硫 in Chinese, SO2 in English) in a
permit's quantity table, as in the order form, while every select still sends the code."""

from __future__ import annotations

import re

import pytest

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B

pytestmark = pytest.mark.db


def _table(html: str, table_id: str) -> str:
    m = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert m, table_id
    return m.group(0)


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


@pytest.fixture
def traded(platform, spine):  # type: ignore[no-untyped-def]
    """A sells 600 kg of SO2 to B; B's buy order rests partly open (so both tables have rows)."""
    from allocation import service as alloc
    from trading import service as trading

    trading.clear_book_cache()
    for p in (spine["A"], spine["B"]):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        fund_and_pay(platform, p, NOW)
    alloc.verify_surplus(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=3000, actor="bureau", now=NOW)
    trading.place_order(platform.uow(), trading.PlaceOrder(
        A, spine["A"], spine["market"], "sell", 600, 100_000), permits=platform.permits,
        actor="t", now=NOW)
    r = trading.place_order(platform.uow(), trading.PlaceOrder(
        B, spine["B"], spine["market"], "buy", 800, 100_000), permits=platform.permits,
        actor="t", now=NOW)
    assert r.filled == 600
    return spine


@pytest.mark.parametrize(("lang", "buy", "sell"), [("zh", "买入", "卖出"), ("en", "Buy", "Sell")])
def test_trade_side_reads_like_the_order_side(browser, traded, lang: str, buy: str,  # type: ignore[no-untyped-def]
                                              sell: str) -> None:
    for who, code, side in (("trader_b", B, buy), ("trader_a", A, sell)):
        b = browser(who)
        if lang == "en":
            b.get("/lang/en")
        page = b.get(f"/enterprises/{code}").text
        trades = _cells(_table(page, "trades"))
        orders = _cells(_table(page, "orders"))
        assert side in trades, trades
        assert side in orders, orders  # the same word in both tables
        assert "buy" not in trades and "sell" not in trades
        if lang == "en":  # the order form's side select: the same labels, the codes as values
            assert re.search(rf'<option value="buy"[^>]*>{buy}</option>', page)
            assert re.search(rf'<option value="sell"[^>]*>{sell}</option>', page)


@pytest.mark.parametrize(("lang", "word"), [("zh", "全部"), ("en", "All")])
def test_filters_empty_option_reads_all(browser, lang: str, word: str) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    if lang == "en":
        b.get("/lang/en")
    for url in ("/bureau/approvals", "/bureau/clues", "/bureau/paid-use"):
        page = b.get(url)
        assert page.status_code == 200, url
        empties = re.findall(r'<option value="">([^<]*)</option>', page.text)
        assert empties[0] == word, (url, empties)  # the filter comes first on these pages
        assert "all" not in empties, (url, empties)


@pytest.mark.parametrize(("lang", "shown", "hidden"), [("zh", "二氧化硫", "SO2"),
                                                       ("en", "SO2", "二氧化硫")])
def test_permit_quantities_name_the_pollutant_by_its_label(browser, client, traded,  # type: ignore[no-untyped-def]
                                                           lang: str, shown: str,
                                                           hidden: str) -> None:
    b = browser("trader_a")
    if lang == "en":
        b.get("/lang/en")
        client.get("/lang/en")
    for page in (b.get(f"/enterprises/{A}").text, client.get(f"/public/enterprises/{A}").text):
        m = re.search(r'<table class="grid quantities">.*?</table>', page, re.S)
        assert m, "no quantity table"
        cells = _cells(m.group(0))
        assert shown in cells, cells
        assert hidden not in cells, cells
    # the order form's market names the pollutant the same way
    page = b.get(f"/enterprises/{A}").text
    form = page[page.index('name="market"'):]
    assert re.search(rf"<option[^>]*>{shown} · ", form[:2000]), form[:600]
    # a pollutant select sends the code, shows the label
    bureau = browser("officer")
    if lang == "en":
        bureau.get("/lang/en")
    page = bureau.get("/bureau").text
    assert re.search(rf'<option value="SO2"[^>]*>{shown}</option>', page)
