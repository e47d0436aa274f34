"""People read Beijing time: a record made at 2026-01-01T20:30Z is `2026-01-02 04:30` on every
page that shows it (enterprise page, market tape, public tape, permit history) and in the CSV
statement, labelled as Beijing time; the API keeps ISO 8601 with the offset."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B

pytestmark = pytest.mark.db

AT = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)
SHOWN = "2026-01-02 04:30"
#: the instant as UTC text, in the forms templates used to print it
UTC_FORMS = ("2026-01-01T20:30", "2026-01-01 20:30")


@pytest.fixture
def traded(platform, spine):  # type: ignore[no-untyped-def]
    """A's rights confirmed at AT; A sells 600 kg to B at AT."""
    from allocation import service as alloc
    from trading import service as trading

    trading.clear_book_cache()
    alloc.confirm_rights(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         actor="bureau", now=AT)
    alloc.confirm_rights(platform.uow(), permit=spine["B"], pollutant="SO2", year=2026,
                         actor="bureau", now=NOW)
    for p in (spine["A"], spine["B"]):
        fund_and_pay(platform, p, NOW)
    alloc.verify_surplus(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=3000, actor="bureau", now=NOW)
    price = 100_000
    for who, permit, side in ((A, spine["A"], "sell"), (B, spine["B"], "buy")):
        r = trading.place_order(platform.uow(), trading.PlaceOrder(
            who, permit, spine["market"], side, 600, price),
            permits=platform.permits, actor="t", now=AT)
    assert r.filled == 600
    return spine


def _shows_beijing(html: str) -> None:
    assert SHOWN in html
    for utc in UTC_FORMS:
        assert utc not in html


def test_pages_show_a_record_in_beijing_time(browser, client, traded) -> None:  # type: ignore[no-untyped-def]
    trader = browser("trader_a")
    page = trader.get(f"/enterprises/{A}")
    assert page.status_code == 200
    _shows_beijing(page.text)
    assert "时间（北京时间）" in page.text  # the column says which time it is
    # the trade (My trades) and the confirmation (permit history) both at 04:30 on the 2nd
    assert page.text.count(SHOWN) >= 2

    market = trader.get(f"/markets/{traded['market']}")
    assert market.status_code == 200
    _shows_beijing(market.text)

    public = client.get("/public/trades")
    assert public.status_code == 200
    _shows_beijing(public.text)

    en = browser("trader_a")
    en.get("/lang/en")
    page = en.get(f"/enterprises/{A}")
    _shows_beijing(page.text)
    assert "Time (Beijing time)" in page.text


def test_csv_statement_time_column_is_beijing_time(browser, auth, client, traded) -> None:  # type: ignore[no-untyped-def]
    r = browser("trader_a").get(f"/enterprises/{A}/statements/trades.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    col = next(i for i, h in enumerate(header) if "北京时间" in h)
    assert len(body) == 1 and body[0][col] == SHOWN
    side = header.index("方向")  # the side in words, as the pages say it
    assert body[0][side] in ("买入", "卖出"), body[0]

    # the API keeps ISO 8601 with the offset (on SQLite too, which stores it naive)
    api = client.get(f"/api/v1/enterprises/{A}/trades", headers=auth("trader_a"))
    assert api.status_code == 200, api.text
    at = api.json()["items"][0]["at"]
    assert at == "2026-01-01T20:30:00+00:00" and datetime.fromisoformat(at) == AT


def test_a_report_submitted_late_in_the_utc_day_is_dated_the_beijing_day(  # type: ignore[no-untyped-def]
        platform, spine, browser) -> None:
    """Submitted at 2027-01-01T20:30Z, i.e. 04:30 on 2 January in Beijing: its submission
    date is 2027-01-02 (it was 2027-01-01, the first ten characters of the UTC instant)."""
    from compliance.reporting import service as compliance
    from tests.report_fields import ANNUAL

    compliance.register_outlet(platform.uow(), permit=spine["A"], outlet="DA001", medium="air")
    compliance.submit_report(platform.uow(), permit=spine["A"], year=2026, period="Y",
                             lines=[{"outlet": "DA001", "pollutant": "SO2", "quantity": "90",
                                     "unit": "kg"}],
                             details=ANNUAL, actor="officer",
                             now=datetime(2027, 1, 1, 20, 30, tzinfo=UTC))
    page = browser("trader_a").get(f"/enterprises/{A}/reports")
    assert page.status_code == 200
    assert "2027-01-02" in page.text and "2027-01-01" not in page.text
