"""Each role's day in a real browser, in Chinese and in English (issue 18, "Done when"),
with a screenshot at each main step (`day-<role>-<lang>-NN-<step>.png`, CI artefacts).

- the trader: the workbench shows what is due (a paid-use bill the test arranged), an order
  placed on the order-entry page crosses a resting sell order the test arranged, and the
  trade's transaction confirmation (成交确认书) linked from the page is a PDF naming the
  trade (its first page is saved as a PNG beside the screenshots);
- the officer: confirms a district in bulk (every permit listed for it), a second officer
  approves the batch from the approvals list where it reads in words, then the penalty
  procedure runs to service on the pages: advance notice, the enterprise's statement (its
  own user, logged in), the decision and its service;
- the analyst: builds two scenarios and compares them.

Every page visited speaks the reader's language: its h1 and h2 headings (leaving out
identifiers in `<code>` and the names of the test's own enterprises, which are data) hold
Chinese in zh and none in en, and its visible text shows no raw enum code and no ISO
timestamp (the check of tests/web/test_page_language.py).

The live server is shared by every e2e test: each walk here makes its own zone, district,
enterprises, permits, market and users, named by role and language, so the walks pass in
any order and beside the other e2e tests.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.e2e.conftest import SCREENSHOTS, log_in, shot
from tests.e2e.test_bureau_analyst import _build
from tests.web.test_page_language import offenders

pytestmark = pytest.mark.e2e

LANGS = pytest.mark.parametrize("lang", ["zh", "en"])
YEAR = 2026
CJK = re.compile(r"[\u4e00-\u9fff]")
#: a digit per language in the test's credit codes (the code's alphabet has no Z, S, V)
LANG_DIGIT = {"zh": "1", "en": "2"}


def _set_lang(page: Any, live: Any, lang: str) -> None:
    page.context.add_cookies([{"name": "erts_lang", "value": lang, "url": live.url}])


def _log_in_as(page: Any, live: Any, username: str, lang: str) -> None:
    """A fresh session of `username` reading in `lang`."""
    page.context.clear_cookies()
    _set_lang(page, live, lang)
    log_in(page, username)
    assert (page.locator("html").get_attribute("lang") or "").startswith(lang)


def _headings(page: Any) -> list[str]:
    """The text of the page's h1 and h2 headings without the identifiers in `<code>`."""
    return list(page.evaluate("""() => [...document.querySelectorAll('h1, h2')].map(h => {
        const c = h.cloneNode(true);
        c.querySelectorAll('code').forEach(e => e.remove());
        return c.textContent.trim();
    })"""))


def _speaks(page: Any, lang: str, data: tuple[str, ...] = ()) -> None:
    """The page is in `lang`: headings (less `data`, names the test chose) in Chinese or in
    none of it; no raw enum code and no ISO timestamp shown as text."""
    checked = 0
    for h in _headings(page):
        for d in data:
            h = h.replace(d, "")
        h = re.sub(r"[\s#·:：()（）\d.,/-]+", " ", h).strip()
        if not h:
            continue  # a heading that is only data (a name, a number)
        checked += 1
        if lang == "zh":
            assert CJK.search(h), (page.url, h)
        else:
            assert not CJK.search(h), (page.url, h)
    assert checked, (page.url, _headings(page))
    codes, isos = offenders(page.content(), lang)
    assert not codes, (page.url, codes)
    assert not isos, (page.url, isos)


def _flash(page: Any) -> str:
    return str(page.locator("p.flash.ok").inner_text())


def _area(p: Any, tag: str) -> tuple[str, str]:
    """A zone and a district of the test's own, with the zone's SO2 indicator issued."""
    from allocation import service as alloc

    zone, district = f"DAY-{tag}", f"DAY{tag}"
    alloc.register_area(p.uow(), zones=[(zone, f"Day zone {tag}", "air")],
                        districts=[(district, f"日程区 {tag}", zone, "ZW1")])
    alloc.set_indicator(p.uow(), zone=zone, pollutant="SO2", year=YEAR, total_kg=50_000,
                        reserve_share_pct=10)
    alloc.issue_indicator(p.uow(), zone=zone, pollutant="SO2", year=YEAR, actor="e2e")
    return zone, district


def _enterprise(p: Any, code17: str, name: str, district: str, zone: str,
                spec_kg: int) -> tuple[str, str]:
    """An enterprise with one valid permit carrying an SO2 quantity in `zone` for YEAR."""
    from allocation import service as alloc
    from kernel.ids import make_credit_code

    code = make_credit_code(code17)
    alloc.register_enterprise(p.uow(), credit_code=code, name=name, sector="thermal_power",
                              district=district)
    permit = alloc.issue_permit(
        p.uow(), enterprise=code, site_seq=1, site_name=f"{name} 厂区", district=district,
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", YEAR, zone, spec_kg, spec_kg + 1000,
                                   spec_kg - 1000)])
    return code, permit


# ---------------------------------------------------------------------------- the trader

@LANGS
def test_trader_day_sees_what_is_due_trades_and_reads_the_confirmation(
        page: Any, live: Any, lang: str) -> None:
    import pypdfium2 as pdfium

    from allocation import paid_use_service as paid_use
    from allocation import service as alloc
    from identity import service as identity
    from kernel.quantities import yuan
    from tests.integration.paid_use_support import fund_and_pay
    from trading import service as trading

    p, n = live.platform, LANG_DIGIT[lang]
    zone, district = _area(p, f"T{lang.upper()}")
    buyer, pb = _enterprise(p, f"91500000DAYTA{n}001", f"日程买方 {lang}", district, zone,
                            4_000)
    seller, ps = _enterprise(p, f"91500000DAYTB{n}001", f"日程卖方 {lang}", district, zone,
                             4_000)
    user = f"day_trader_{lang}"  # before the bill: its notice reaches the enterprise's users
    identity.create_user(p.uow(), username=user, display_name=user, role="trader",
                         password="pw-" + user, enterprise=buyer)
    with p.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone=zone, vintage=YEAR)
        uow.commit()
    for permit in (pb, ps):
        alloc.confirm_rights(p.uow(), permit=permit, pollutant="SO2", year=YEAR,
                             actor="e2e")
    fund_and_pay(p, ps)  # the seller's rights become tradable once paid for
    alloc.verify_surplus(p.uow(), permit=ps, pollutant="SO2", year=YEAR, qty_kg=800,
                         actor="e2e")
    # the buyer's paid-use bill stays unpaid: the trader's workbench shows it as due
    bills = paid_use.list_bills(p.uow(), permit=pb, status="unpaid")["items"]
    assert len(bills) == 1
    owed = int(bills[0]["amount_fen"])
    alloc.deposit_cash(p.uow(), enterprise=buyer, amount_fen=500_000, actor="e2e",
                       reference=f"day-trader-{lang}")
    trading.place_order(p.uow(), trading.PlaceOrder(seller, ps, market, "sell", 500,
                                                    302_000),
                        permits=p.permits, actor="e2e")
    names = (f"日程买方 {lang}", f"日程卖方 {lang}")

    # 1. the workbench: what is due, the bill among it, in yuan
    _log_in_as(page, live, user, lang)
    due = page.locator("#todo-bills_to_pay")
    assert due.locator("b.count").inner_text() == "1"
    assert yuan(owed) in due.inner_text()
    assert "due" in (due.get_attribute("class") or "")
    assert due.locator("a").get_attribute("href") == f"/enterprises/{buyer}/bills"
    notice = page.locator("#recent-notices li").first  # the bill's notice, unread
    assert yuan(owed) in notice.inner_text()
    assert notice.locator("a").get_attribute("href") == f"/enterprises/{buyer}/bills"
    _speaks(page, lang)
    shot(page, f"day-trader-{lang}-01-workbench")

    # 2. the order-entry page of its enterprise, from the workbench
    page.click("p.lead a")
    page.wait_for_load_state()
    assert page.url.endswith(f"/enterprises/{buyer}")
    row = page.locator("#tradable-markets tr.position")
    assert row.count() == 1 and pb in row.inner_text()
    page.wait_for_selector("#depth")
    assert "3,020.00" in page.locator("#depth").inner_text()  # the resting ask
    page.select_option("#order-form select[name=permit]", pb)
    page.select_option("#order-form select[name=market]", market)
    page.select_option("#order-form select[name=side]", "buy")
    page.fill("#order-form input[name=qty]", "500")
    page.fill("#order-form input[name=price_yuan]", "3050.00")
    page.select_option("#order-form select[name=tif]", "gtc")
    _speaks(page, lang, names)
    shot(page, f"day-trader-{lang}-02-order-entry")
    page.click("#order-submit")
    page.wait_for_load_state()
    status = _flash(page)
    if lang == "zh":
        assert "已成交" in status and "0.500 吨" in status, status
    else:
        assert "Filled" in status and "0.500 t" in status, status
    trades = page.locator("#trades tbody tr")
    assert trades.count() == 1
    assert "3,020.00" in trades.inner_text()  # at the resting order's price
    _speaks(page, lang, names)
    shot(page, f"day-trader-{lang}-03-traded")

    # 3. the trade's confirmation, from its link on the page
    link = trades.locator("a.pdf")
    href = link.get_attribute("href") or ""
    m = re.fullmatch(r"/documents/trades/(.+)\.pdf", href)
    assert m, href
    trade_id = m.group(1)
    r = page.request.get(href)
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    data = r.body()
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(data)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert re.search(rf"交易编号\s*{re.escape(trade_id)}\s", text), text[:300]
    for expected in ("成交确认书", pb, ps, *names, "0.500 吨", "3,020.00 元/吨",
                     "1,510.00 元", "北京时间"):
        assert expected in text, (expected, text[:600])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(
        SCREENSHOTS / f"day-trader-{lang}-04-confirmation-pdf.png")


# ---------------------------------------------------------------------------- the officer

@LANGS
def test_officer_day_confirms_a_district_approves_and_runs_a_penalty_to_service(
        page: Any, live: Any, lang: str) -> None:
    from allocation import service as alloc
    from compliance.enforcement import disclosure_service as disclosure
    from compliance.enforcement import penalty_case_service as cases
    from identity import service as identity

    p, n = live.platform, LANG_DIGIT[lang]
    zone, district = _area(p, f"O{lang.upper()}")
    e1, p1 = _enterprise(p, f"91500000DAYQA{n}001", f"日程电厂甲 {lang}", district, zone,
                         5_000)
    e2, p2 = _enterprise(p, f"91500000DAYQB{n}001", f"日程电厂乙 {lang}", district, zone,
                         3_000)
    names = (f"日程电厂甲 {lang}", f"日程电厂乙 {lang}")
    identity.set_approval_policy(p.uow(), tx_type="confirmation", required=True, actor="e2e")
    second, ent_user = f"day_officer2_{lang}", f"day_ent_{lang}"
    identity.create_user(p.uow(), username=second, display_name=second,
                         role="bureau_officer", password="pw-" + second)
    identity.create_user(p.uow(), username=ent_user, display_name=ent_user, role="trader",
                         password="pw-" + ent_user, enterprise=e1)

    # 1. the district's permits waiting for confirmation, confirmed in one batch
    _log_in_as(page, live, "officer", lang)
    _speaks(page, lang)
    shot(page, f"day-officer-{lang}-01-workbench")
    page.click("#navg-permits summary")
    page.click("#nav-bulk-confirm")
    page.wait_for_load_state()
    page.fill("#queue-filter input[name=year]", str(YEAR))
    page.select_option("#queue-filter select[name=district]", district)
    page.click("#queue-filter button")
    page.wait_for_load_state()
    rows = page.locator("#queue tbody tr")
    assert rows.count() == 2, rows.all_inner_texts()
    assert p1 in rows.nth(0).inner_text() + rows.nth(1).inner_text()
    assert p2 in rows.nth(0).inner_text() + rows.nth(1).inner_text()
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-02-district-queue")
    page.click("#batch-listed")
    page.wait_for_load_state()
    m = re.search(r"#(\d+)", _flash(page))
    assert m, _flash(page)
    approval = m.group(1)
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-03-batch-pending")
    assert not alloc.permit_view(p.uow(), p1, events=0)["quantities"][0]["confirmed"]  # type: ignore[index]

    # 2. the second officer reads the batch in words and approves it from the list
    _log_in_as(page, live, second, lang)
    page.goto("/bureau/approvals?status=pending")
    row = page.locator(f"#approval-{approval}")
    words = row.locator(".approval-words").inner_text()
    for expected in (*names, p1, p2, str(YEAR)):
        assert expected in words, (expected, words)
    # the permitted quantities (the indicator shares, 4 t and 2 t) and their sum, in tonnes
    if lang == "zh":
        assert "二氧化硫 4.000 吨" in words and "二氧化硫 2.000 吨" in words, words
        assert "合计 6.000 吨" in words, words
    else:
        assert "SO2 4.000 t" in words and "SO2 2.000 t" in words, words
        assert "6.000 t in all" in words, words
        assert not CJK.search(words.replace(names[0], "").replace(names[1], "")), words
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-04-approval-in-words")
    row.locator("form[action$='/approve'] button").click()
    page.wait_for_load_state()
    assert f"#{approval}" in _flash(page), _flash(page)
    done = page.locator(f"#approval-{approval} .outcome").inner_text()
    assert second in done and ("批准并已执行" if lang == "zh" else "carried out") in done, done
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-05-approved")
    for permit in (p1, p2):
        q = alloc.permit_view(p.uow(), permit, events=0)["quantities"]
        assert all(x["confirmed"] for x in q if x["year"] == YEAR)  # type: ignore[attr-defined]

    # 3. the penalty procedure on a violation of the first plant, up to service
    v = disclosure.open_violation(p.uow(), permit=p1, kind="records_failure",
                                  occurred_on=f"{YEAR}-06-01",
                                  facts=f"环境管理台账缺失 {lang}", actor="e2e")
    notice_no, decision_no = f"渝环罚告〔{YEAR}〕日程{n}号", f"渝环罚〔{YEAR}〕日程{n}号"
    _log_in_as(page, live, "officer", lang)
    page.goto(f"/bureau/penalty-cases?violation={v['id']}")
    form = page.locator("#notice-form")
    assert form.locator("select[name=violation]").input_value() == str(v["id"])
    form.locator("input[name=number]").fill(notice_no)
    form.locator("input[name=proposed_yuan]").fill("10000")  # below the hearing threshold
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-06-notice-form")
    form.locator("button").click()
    page.wait_for_load_state()
    m = re.search(r"case=(\d+)", page.url)
    assert m, page.url
    case_id = int(m.group(1))
    assert cases.get_case(p.uow(), case_id=case_id)["status"] == "noticed"
    assert page.locator("#case-decision-form").count() == 0  # the statement period runs
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-07-noticed")

    # the enterprise's user sees the notice waiting on its workbench and states its case
    _log_in_as(page, live, ent_user, lang)
    todo = page.locator("#todo-penalty_notices")
    assert todo.locator("b.count").inner_text() == "1"
    todo.locator("a").click()
    page.wait_for_load_state()
    assert page.url.split("#")[0].endswith(f"/enterprises/{e1}/penalties")
    section = page.locator(f"#case-{case_id}")
    section.locator("textarea[name=statement]").fill(f"台账已补建 {lang}")
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-08-statement")
    section.locator("form.statement-form button").click()
    page.wait_for_load_state()
    assert f"台账已补建 {lang}" in page.locator(f"#case-{case_id}").inner_text()
    _speaks(page, lang, names)

    # the bureau decides (no hearing right, the statement is in) and serves the decision
    _log_in_as(page, live, "officer", lang)
    page.goto(f"/bureau/penalty-cases?case={case_id}")
    assert f"台账已补建 {lang}" in page.locator("#case").inner_text()
    dec = page.locator("#case-decision-form")
    dec.locator("input[name=number]").fill(decision_no)
    dec.locator("input[name=amount_yuan]").fill("8000")
    dec.locator("textarea[name=summary]").fill(f"未建立环境管理台账 {lang}")
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-09-decision-form")
    dec.locator("button").click()
    page.wait_for_load_state()
    assert cases.get_case(p.uow(), case_id=case_id)["status"] == "decided"
    service = page.locator("#service-form")
    service.locator("select[name=method]").select_option("direct")
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-10-decided")
    service.locator("button").click()
    page.wait_for_load_state()
    c = cases.get_case(p.uow(), case_id=case_id)
    assert c["status"] == "served" and c["amount_fen"] == 800_000
    served = page.locator("#case").inner_text()
    assert decision_no in served and "8,000.00" in served
    assert page.locator("#case a.pdf").get_attribute("href") is not None
    _speaks(page, lang, names)
    shot(page, f"day-officer-{lang}-11-served")
    # served: published on the public page
    page.goto("/public/penalties")
    assert decision_no in page.locator("main").inner_text()


# ---------------------------------------------------------------------------- the analyst

@LANGS
def test_analyst_day_compares_two_scenarios(page: Any, live: Any, lang: str) -> None:
    _set_lang(page, live, lang)
    log_in(page, "analyst")
    html_lang = page.locator("html").get_attribute("lang") or ""
    assert html_lang.startswith(lang), html_lang
    names = (f"day {lang} tighter", f"day {lang} baseline")
    _speaks(page, lang, names)
    shot(page, f"day-analyst-{lang}-01-workbench")
    a = _build(page, names[0], change_pct="-10", ultra_low=True, alert="orange")
    _speaks(page, lang, names)
    shot(page, f"day-analyst-{lang}-02-scenario")
    b = _build(page, names[1])
    page.goto("/analyst/compare")
    page.select_option("#compare-form select[name=a]", a)
    page.select_option("#compare-form select[name=b]", b)
    page.click("#compare-submit")
    page.wait_for_load_state()
    body = page.locator("main").inner_text() if page.locator("main").count() else \
        page.locator("body").inner_text()
    assert f"day {lang} tighter" in body and f"day {lang} baseline" in body  # both seen
    for section in ("by_zone", "by_sector", "by_pollutant"):
        assert page.locator(f"#chart-{section} svg rect.bar").count() >= 2, section
    _speaks(page, lang, names)
    shot(page, f"day-analyst-{lang}-03-compare")
