"""Pages speak the reader's language (issue 18, "One message catalogue").

The crawl: as every kind of user (anonymous, trader, bureau officer, administrator,
analyst, a district officer and a department officer) and in both languages (cookie
`erts_lang`), every GET page of the app's routes (derived from `app.routes`, with ids of the
demo municipality and of the objects the no-GET-writes walk adds) is fetched; its visible
text (outside tags' attributes, inputs, scripts and `<code>`) must show no raw code of the
enums people read (web/labels.py: sectors, sources, transaction types, statuses, order
types, sides, audit actions, roles, approval kinds ...) and no ISO timestamp
(`2026-11-20T04:00`): times are Beijing time, `2026-11-20 12:00`.

The message catalogue (web/messages.py): every error code of the platform has a Chinese and
an English message, and real refusals show on pages in Chinese with yuan and tonnes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kernel.errors import DomainError
from tests.web.conftest import login
from tests.web.test_no_get_writes import demo, get_routes, urls  # noqa: F401 (a fixture)
from web.labels import LABELS, all_codes, label
from web.messages import ERRORS, confirm, error_text

CRAWLERS = ["anonymous", "trader1", "officer", "admin", "analyst", "district_officer", "enforcer"]
#: pages that are not HTML for people, or that only redirect
NOT_PAGES = ("/api/", "/lang/", "/healthz", "/static", "/vendor", "/docs", "/redoc",
             "/openapi.json")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class _Visible(HTMLParser):
    """The text a person reads: character data outside scripts, styles, text areas,
    templates and code-like elements (`<code>`, `<kbd>`, `<samp>`, `<pre>`: identifiers
    shown as identifiers, e.g. the column names of an upload format)."""

    HIDDEN = frozenset({"script", "style", "textarea", "template", "code", "kbd", "samp",
                        "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_parts(html: str) -> list[str]:
    p = _Visible()
    p.feed(html)
    p.close()
    return p.parts


def visible_text(html: str) -> str:
    return "\n".join(visible_parts(html))


def _token(code: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9_\-/.])" + re.escape(code) + r"(?![A-Za-z0-9_\-/])")


#: the demo's analyst is called "analyst": a user name shows as it is
USERNAMES = frozenset({"analyst"})
#: codes no English sentence has (an underscore, or capitals: `coal_power`, `SURRENDER`,
#: `GTC`): looked for anywhere in the text, in both languages
ANYWHERE = {code: _token(code) for code in all_codes()
            if "_" in code or (code.isupper() and len(code) > 2)}
#: codes that are words (`open`, `paper`, `buy`): a raw code is the whole text of its
#: element (a cell, an option); looked for in Chinese pages, where no English word belongs
#: (in English pages the label is often the same word)
WORDS = frozenset(code for code in all_codes() if code not in ANYWHERE) - USERNAMES


def offenders(html: str, lang: str) -> tuple[list[str], list[str]]:
    """(codes, ISO timestamps) a page shows as text."""
    parts = visible_parts(html)
    text = "\n".join(parts)
    codes = [code for code, rx in ANYWHERE.items() if rx.search(text)]
    if lang == "zh":
        codes += sorted({p.strip() for p in parts} & WORDS)
    return codes, ISO_TIME.findall(text)


def test_visible_text_leaves_out_attributes_inputs_and_code() -> None:
    html = ('<p title="coal_power">火电 <code>flow_nm3_h</code></p>'
            '<input value="2026-11-20T04:00"><textarea>SURRENDER</textarea>'
            '<script>var s = "place_order";</script><td>GTC</td>')
    assert offenders(html, "zh") == (["GTC"], [])
    assert offenders("<td>2026-11-20T04:00:00+00:00 coal_power</td>", "en") == (
        ["coal_power"], ["2026-11-20T04:00"])
    # a lowercase code is a word of an English sentence, not of a Chinese one
    assert offenders("<td>open</td>", "en") == ([], [])
    assert offenders("<td>open</td>", "zh") == (["open"], [])
    # ... and only as the whole text of an element: "open" in a sentence is not a code
    assert offenders("<p>the market is open</p>", "zh") == ([], [])


def test_every_label_has_both_languages() -> None:
    for kind, table in LABELS.items():  # kind → code → English; the Chinese in the .po
        for code, en in table.items():
            zh = label(kind, code)
            assert zh and en, (kind, code)
            assert re.search(r"[\u4e00-\u9fff]", zh) or kind == "pollutant", (kind, code, zh)
    assert label("sector", "thermal_power") == "火电"
    assert label("sector", "thermal_power", "en") == "Thermal power"
    assert label("order_type", "gtc") == "撤单前一直有效"
    assert label("account", "RESERVE", "en") == "Bureau reserve"
    assert label("audit", "place_order") == "委托下单"
    assert label("sector", None) == "—"
    assert label("sector", "not_a_sector") == "not_a_sector"


@pytest.mark.db
def test_no_page_shows_a_code_or_an_iso_time(app: Any, demo: dict[str, Any]) -> None:  # noqa: F811
    routes = [(path, names) for path, names in get_routes(app)
              if not path.startswith(NOT_PAGES)]
    assert len(routes) > 30
    codes: dict[str, set[str]] = defaultdict(set)
    times: dict[str, set[str]] = defaultdict(set)
    pages = 0
    for who in CRAWLERS:
        for lang in ("zh", "en"):
            with TestClient(app) as c:
                if who != "anonymous":
                    login(c, who, "demo")
                c.cookies.set("erts_lang", lang)
                for path, names in routes:
                    for url in urls(path, names, demo):
                        r = c.get(url, follow_redirects=False)
                        assert r.status_code < 500, (who, url, r.status_code)
                        if r.status_code != 200 or "text/html" not in r.headers.get(
                                "content-type", ""):
                            continue
                        pages += 1
                        found, isos = offenders(r.text, lang)
                        for code in found:
                            codes[f"{lang} {code}"].add(f"{who} {path}")
                        for iso in isos:
                            times[f"{lang} {path}"].add(iso)
    assert pages > 200
    report = "\n".join(f"  {k}: {sorted(v)[:3]}" for k, v in sorted(codes.items()))
    assert not codes, f"raw codes shown as text ({len(codes)}):\n{report}"
    report = "\n".join(f"  {k}: {sorted(v)[:2]}" for k, v in sorted(times.items()))
    assert not times, f"ISO timestamps shown as text ({len(times)} pages):\n{report}"


# ---------------------------------------------------------------------- the catalogue

def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_error_code_has_a_chinese_and_an_english_message() -> None:
    import web.app  # noqa: F401  (imports every context, so every error class is defined)

    codes = {c.code for c in _subclasses(DomainError)}
    assert len(codes) > 150
    missing = sorted(c for c in codes if c not in ERRORS)
    assert missing == [], f"error codes without a message in web/messages.py: {missing}"
    for code, (zh, en) in ERRORS.items():
        assert re.search(r"[\u4e00-\u9fff]", zh), (code, zh)
        assert en and not re.search(r"[\u4e00-\u9fff]", en), (code, en)
        assert "fen" not in en.lower().split(), (code, en)


def test_messages_give_numbers_in_yuan_and_tonnes() -> None:
    from compliance.errors import PenaltyOutOfRange
    from trading.market import InsufficientTradable, OrderRejected

    e = OrderRejected("price_limit", "price 999900 is outside [252000, 468000]")
    assert error_text(e, "zh") == ("价格 9,999.00 元/吨超出当日涨跌幅限制"
                                   "（2,520.00–4,680.00 元/吨）。")
    assert "9,999.00 yuan/t" in error_text(e, "en")
    e2 = PenaltyOutOfRange("amount 100,000.00 yuan is outside the range (Art. 34): "
                           "200,000.00-1,000,000.00 yuan", field="amount_fen",
                           min_fen=20_000_000, max_fen=100_000_000)
    assert error_text(e2, "zh") == ("罚款金额 100,000.00 元超出法定幅度"
                                    "（200,000.00–1,000,000.00 元）。")
    e3 = InsufficientTradable("1500 kg asked, 1234 kg of tradable rights available")
    assert error_text(e3, "zh") == "申报卖出 1.500 吨，可交易排污权仅 1.234 吨。"
    cap = DomainError("confirming 2000 kg would bring P1 SO2 2026 to 11000 kg, above its cap "
                      "of 10000 kg")
    cap.code = "confirmation_above_cap"
    assert "可用上限余量 1.000 吨" in error_text(cap, "zh")
    # an unknown code still says something in Chinese, with the detail
    odd = DomainError("something new")
    odd.code = "brand_new_code"
    assert error_text(odd, "zh").startswith("请求被拒绝")
    assert error_text(odd, "en") == "something new"
    assert confirm("Token {id} revoked.", "zh", id=3) == "令牌 3 已吊销。"
    assert confirm("Bid {id} placed: {qty} t at {price} yuan/t.", "zh", id="b1",
                   qty_kg=1500, price_fen_t=300000) == "已出价 b1：1.500 吨，3,000.00 元/吨。"


# ---------------------------------------------------------------------- real refusals on pages

@pytest.mark.db
def test_page_errors_speak_chinese_in_tonnes_and_yuan(platform: Any, spine: dict[str, str],
                                                      browser: Any, one_officer: None) -> None:
    from allocation import paid_use_service as paid_use
    from kernel.quantities import yuan
    from tests.integration.spine import A

    ta = browser("trader_a")
    ta.get(f"/enterprises/{A}")
    r = ta.post(f"/enterprises/{A}/orders", data={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": "600",
        "price_yuan": "3000", "tif": "gtc"})
    assert r.status_code == 409
    assert "申报卖出 0.600 吨，可交易排污权仅 0.000 吨。" in r.text, visible_text(r.text)
    assert 'data-code="insufficient_tradable_rights"' in r.text  # the code stays, unread
    officer = browser("officer")
    officer.get("/bureau")
    r = officer.post("/bureau/confirmations", data={"permit": spine["A"], "pollutant": "SO2",
                                                    "year": "2026", "qty_kg": "999999"})
    assert r.status_code in (409, 422)
    text = visible_text(r.text)
    assert "超过许可排放量上限" in text and "可用上限余量" in text and " 吨" in text, text
    assert "999999" not in text and "999.999 吨" in text
    r = officer.post("/bureau/confirmations", data={"permit": spine["A"], "pollutant": "SO2",
                                                    "year": "2026", "qty_kg": ""},
                     follow_redirects=False)
    assert r.status_code == 303
    # the confirmation's paid-use bill, paid with 10 yuan of cash: the page says how much
    bills = paid_use.list_bills(platform.uow(), permit=spine["A"], status="unpaid")["items"]
    assert bills
    ta.get(f"/enterprises/{A}/bills")
    r = ta.post(f"/enterprises/{A}/bills/pay", data={"bill": str(bills[0]["id"])})
    assert r.status_code == 409
    text = visible_text(r.text)
    assert f"应缴 {yuan(bills[0]['amount_fen'])} 元" in text and "可用资金仅" in text, text
    assert str(bills[0]["amount_fen"]) not in text.replace(",", "")
    # the same refusal in English when the reader chose English
    ta.c.cookies.set("erts_lang", "en")
    r = ta.post(f"/enterprises/{A}/orders", data={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": "600",
        "price_yuan": "3000", "tif": "gtc"})
    assert "0.600 t offered, 0.000 t of tradable rights available." in r.text


@pytest.mark.db
def test_the_api_keeps_the_code_and_its_english(spine: dict[str, str], client: TestClient,
                                                auth: Any) -> None:
    r = client.post("/api/v1/orders", headers=auth("trader_a"), json={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": 600,
        "price": 300000})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "insufficient_tradable_rights"
    assert "kg" in body["detail"] and "吨" not in body["detail"]


def test_every_confirmation_has_chinese_with_the_same_values() -> None:
    from string import Formatter

    from web.messages import ZH

    def names(text: str) -> set[str]:
        return {f for _, f, _, _ in Formatter().parse(text) if f}

    for en, zh in ZH.items():
        assert re.search(r"[\u4e00-\u9fff]", zh), en
        assert names(en) == names(zh), (en, zh)
    order = "Order {order}: {status}, {filled} t filled."
    values = dict(order="ab12", status=("status", "filled"), filled_kg=600)
    assert confirm(order, "zh", **values) == "委托 ab12：已成交，成交 0.600 吨。"
    assert confirm(order, "en", **values) == "Order ab12: Filled, 0.600 t filled."
