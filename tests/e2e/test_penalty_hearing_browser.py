"""The hearing notice in a real browser (penalty procedure follow-up), in Chinese and in
English, in the style of tests/e2e/test_role_days.py (a screenshot at each step,
`hearing-<lang>-NN-<step>.png`; every page speaks the reader's language):

1. an officer gives advance notice of a fine of 250 000 yuan (50 000 yuan or more gives the
   enterprise a hearing right, 较大数额罚款);
2. the enterprise's user, from its workbench, requests a hearing on its penalty page;
3. the officer fixes the hearing's day and place: a day less than 7 working days away is
   refused with the first lawful day named, the first lawful day (pre-filled) is accepted;
4. the enterprise's user sees the day and the place on its workbench (a to-do item linking
   to the case) and on its penalty page, and has an unread notice of it.

The walk makes its own zone, district, enterprise, permit and user (the live server is
shared by every e2e test)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_role_days import (
    LANG_DIGIT,
    LANGS,
    YEAR,
    _area,
    _enterprise,
    _flash,
    _log_in_as,
    _speaks,
)

pytestmark = pytest.mark.e2e
PLACE = {"zh": "生态环境局三楼听证室", "en": "Bureau hearing room 3"}


@LANGS
def test_hearing_requested_notified_and_seen_by_the_enterprise(page: Any, live: Any,
                                                               lang: str) -> None:
    from compliance.enforcement import disclosure_service as disclosure
    from compliance.enforcement import penalty_case_service as cases
    from compliance.enforcement import penalty_procedure as PP
    from identity import service as identity
    from kernel.clock import system_clock, trading_day

    p, n = live.platform, LANG_DIGIT[lang]
    zone, district = _area(p, f"H{lang.upper()}")
    name = f"听证电厂 {lang}"
    ent, permit = _enterprise(p, f"91500000DAYHA{n}001", name, district, zone, 5_000)
    user = f"hearing_ent_{lang}"
    identity.create_user(p.uow(), username=user, display_name=user, role="trader",
                         password="pw-" + user, enterprise=ent)
    v = disclosure.open_violation(p.uow(), permit=permit, kind="quantity_exceedance",
                                  occurred_on=f"{YEAR}-06-01", facts=f"超许可排放 {lang}",
                                  pollutant="SO2", exceedance_kg=4_000, actor="e2e")
    notice_no = f"渝环罚告〔{YEAR}〕听证{n}号"
    names = (name,)
    today = trading_day(system_clock())

    # 1. the officer's advance notice: 250 000 yuan, a hearing right
    _log_in_as(page, live, "officer", lang)
    page.goto(f"/bureau/penalty-cases?violation={v['id']}")
    form = page.locator("#notice-form")
    form.locator("input[name=number]").fill(notice_no)
    form.locator("input[name=proposed_yuan]").fill("250000")
    shot(page, f"hearing-{lang}-01-notice-form")
    form.locator("button").click()
    page.wait_for_load_state()
    m = re.search(r"case=(\d+)", page.url)
    assert m, page.url
    case_id = int(m.group(1))
    c = cases.get_case(p.uow(), case_id=case_id)
    assert c["status"] == "noticed" and c["hearing_right"] and c["proposed_fen"] == 25_000_000
    _speaks(page, lang, names)
    shot(page, f"hearing-{lang}-02-noticed")

    # 2. the enterprise requests a hearing from its penalty page, reached from the workbench
    _log_in_as(page, live, user, lang)
    page.locator("#todo-penalty_notices a").click()
    page.wait_for_load_state()
    section = page.locator(f"#case-{case_id}")
    button = section.locator("form.hearing-form button")
    assert c["hearing_due"] in button.inner_text()  # the request's last day
    _speaks(page, lang, names)
    shot(page, f"hearing-{lang}-03-request")
    button.click()
    page.wait_for_load_state()
    assert cases.get_case(p.uow(), case_id=case_id)["status"] == "hearing_requested"
    assert page.locator(f"#case-{case_id} form.hearing-form").count() == 0
    _speaks(page, lang, names)

    # 3. the officer fixes the day and place: too soon is refused, the first lawful day is not
    _log_in_as(page, live, "officer", lang)
    page.goto(f"/bureau/penalty-cases?case={case_id}")
    hn = page.locator("#hearing-notice-form")
    first = PP.earliest_hearing(today)
    assert first >= PP.add_working_days(today, 7)  # at least 7 working days later
    assert hn.locator("input[name=hearing_on]").input_value() == first.isoformat()  # pre-filled
    too_soon = first - timedelta(days=1)
    hn.locator("input[name=hearing_on]").fill(too_soon.isoformat())
    hn.locator("input[name=place]").fill(PLACE[lang])
    hn.locator("button").click()
    page.wait_for_load_state()
    err = page.locator("#hearing-notice-form").locator("xpath=..").inner_text()
    assert first.isoformat() in err, err  # the refusal names the first lawful day
    assert page.locator('[data-code="penalty_hearing_notice_too_short"]').count() == 1
    assert cases.get_case(p.uow(), case_id=case_id)["hearing_fixed_on"] is None
    shot(page, f"hearing-{lang}-04-too-soon")
    hn = page.locator("#hearing-notice-form")
    hn.locator("input[name=hearing_on]").fill(first.isoformat())
    hn.locator("input[name=place]").fill(PLACE[lang])
    hn.locator("button").click()
    page.wait_for_load_state()
    assert _flash(page)
    c = cases.get_case(p.uow(), case_id=case_id)
    assert (c["hearing_fixed_on"], c["hearing_place"], c["hearing_notified_on"]) == (
        first.isoformat(), PLACE[lang], today.isoformat())
    fixed = page.locator("#case .hearing-fixed").inner_text()
    assert first.isoformat() in fixed and PLACE[lang] in fixed
    _speaks(page, lang, names)
    shot(page, f"hearing-{lang}-05-notified")

    # 4. the enterprise sees the day and place: workbench to-do, penalty page, notice
    _log_in_as(page, live, user, lang)
    todo = page.locator("#todo-hearings_upcoming")
    assert todo.locator("b.count").inner_text() == "1"
    item = todo.inner_text()
    assert first.isoformat() in item and PLACE[lang] in item, item
    assert ("已通知的听证" if lang == "zh" else "Hearings notified to you") in item, item
    notice = page.locator("#recent-notices").inner_text()
    assert first.isoformat() in notice and PLACE[lang] in notice, notice
    _speaks(page, lang, names)
    shot(page, f"hearing-{lang}-06-workbench")
    todo.locator("a").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/enterprises/{ent}/penalties#case-{case_id}"), page.url
    fixed = page.locator(f"#case-{case_id} .hearing-fixed").inner_text()
    assert first.isoformat() in fixed and PLACE[lang] in fixed, fixed
    assert ("听证日期" if lang == "zh" else "Hearing on") in fixed, fixed
    _speaks(page, lang, names)
    shot(page, f"hearing-{lang}-07-penalty-page")
