"""Approvals in words (issue 18): a second officer reads what a request asks (enterprise,
permit, pollutant, year, tonnes, before → after), who asked and when (Beijing time), decides
from the list, and reads the outcome as a sentence, never JSON. Every approvable action has
its own words."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from web import approvals
from web.approval_words import Names, Speaker
from web.i18n import translator

A_PERMIT = "91500000AAAAAAAA1Y001U"

#: one request per approvable action, as its route files it (payload) with its dry run
SAMPLES: dict[str, dict[str, Any]] = {
    "confirm_rights": dict(payload=dict(permit=A_PERMIT, pollutant="SO2", year=2026,
                                        qty_kg=None),
                           preview=dict(qty_kg=8_000, permitted_before_kg=8_000,
                                        permitted_after_kg=8_000)),
    "confirm_permits": dict(payload=dict(permits=[A_PERMIT], year=2026), preview=dict(
        items=[dict(permit=A_PERMIT, enterprise_name="Enterprise A", pollutant="NOx",
                    qty_kg=1_500, permitted_before_kg=1_500, permitted_after_kg=1_500)])),
    "permit_change": dict(payload=dict(permit=A_PERMIT, reason="capacity cut", quantities=[
        dict(pollutant="SO2", year=2026, qty_kg=7_000)]), preview=dict(moves=[
            dict(pollutant="SO2", year=2026, old_kg=8_000, new_kg=7_000)])),
    "end_permit": dict(payload=dict(permit=A_PERMIT, step="revocation", reason="closed",
                                    on="2026-12-31"),
                       preview=dict(recovered=[dict(pollutant="SO2", year=2027,
                                                    qty_kg=8_000)])),
    "open_auction": dict(payload=dict(auction="AU-1"), preview=dict(
        market="SO2/ZA1/2026", offered=2_000, reserve_price=976_00)),
    "schedule_auction": dict(payload=dict(auction="AU-2", announce_at=None,
                                          open_at="2026-12-07T01:00:00+00:00",
                                          close_at="2026-12-07T03:00:00+00:00"),
                             preview=dict(market="SO2/ZA1/2026", offered=2_000,
                                          reserve_price=976_00)),
    "create_reserve_listing": dict(payload=dict(market="SO2/ZA1/2026", qty=1_000,
                                                price=3_000_00)),
    "approve_transfer": dict(payload=dict(transfer="NT-1"), preview=dict(
        market="SO2/ZA1/2026", seller="91500000AAAAAAAA1Y", buyer="91500000BBBBBBBB2X",
        qty=500, price=3_100_00)),
    "release_reserve_plan": dict(payload=dict(plan=3), preview=dict(released_kg=2_000)),
    "decide_standard_flag": dict(payload=dict(flag=4, decision="buy_back", price=1_200_00),
                                 preview=dict(permit=A_PERMIT, pollutant="SO2", year=2027,
                                              moved_kg=900, permitted_after_kg=7_100)),
    "ledger_transfers": dict(payload=dict(transfers=[dict(type="deposit", amount=1)],
                                          initiator="bureau")),
    "reverse_transfer": dict(payload=dict(transfer_id="confirm:x", id="rev-1", amount=0)),
    "set_approval_policy": dict(payload=dict(tx_type="confirmation", required=False)),
}


def _speaker(lang: str) -> Speaker:
    return Speaker(translator(lang), lang, Names(
        permits={A_PERMIT: "Enterprise A"},
        enterprises={"91500000AAAAAAAA1Y": "Enterprise A", "91500000BBBBBBBB2X": "Enterprise B"}))


def _request(action: str, status: str = "pending") -> dict[str, Any]:
    return dict(id=7, tx_type="confirmation", action=action, target=A_PERMIT,
                requested_by="officer", requested_at="2026-12-05T16:30:00+00:00",
                status=status, decided_by=None, decided_at=None, result=None,
                **SAMPLES[action])


def test_every_approvable_action_has_its_own_words(app) -> None:  # type: ignore[no-untyped-def]
    assert set(SAMPLES) == set(approvals.EXECUTORS)  # a new action needs its words here
    for lang in ("zh", "en"):
        s = _speaker(lang)
        texts = {a: s.asked(_request(a)).text for a in SAMPLES}
        assert len(set(texts.values())) == len(texts), texts
        for action, text in texts.items():
            assert "{" not in text and "}" not in text, (action, text)
            assert not re.search(r"\b(None|_kg|fen)\b", text), (action, text)
    zh = _speaker("zh")
    words = zh.words(_request("confirm_rights"))
    assert words.text == ("officer 于 2026-12-06 00:30（北京时间）申请：确认Enterprise A（许可证 "
                          f"{A_PERMIT}） 2026 年度二氧化硫排污权 8.000 吨；许可排放量 8.000 吨 → "
                          "8.000 吨")
    assert zh.asked(_request("open_auction")).text.endswith(
        "保留价 976.00 元/吨；拍卖期间出让的排污权在储备中冻结")
    assert zh.asked(_request("schedule_auction")).text.startswith(
        "排定拍卖 AU-2 日程：— 公告，2026-12-07 09:00 开始，2026-12-07 11:00 结束（北京时间）")
    assert "Enterprise A 向 Enterprise B 转让" in zh.asked(_request("approve_transfer")).text
    assert zh.asked(_request("permit_change")).lines == [
        "二氧化硫（2026 年度）：8.000 吨 → 7.000 吨"]
    assert zh.asked(_request("confirm_permits")).lines == [
        f"Enterprise A（{A_PERMIT}）：氮氧化物 1.500 吨，许可排放量 1.500 吨 → 1.500 吨"]


def test_outcomes_in_words(app) -> None:  # type: ignore[no-untyped-def]
    zh = _speaker("zh")
    done = dict(_request("confirm_rights", "executed"), decided_by="officer2",
                decided_at="2026-12-05T17:00:00+00:00",
                result=json.dumps({"permit": A_PERMIT, "qty_kg": 6000,
                                   "permitted_after_kg": 8000, "permitted_before_kg": 8000}))
    w = zh.words(done)
    assert w.outcome == "由 officer2 于 2026-12-06 01:00 批准并已执行"
    assert "6.000 吨" in w.text  # the result's figures once executed
    failed = dict(done, status="failed", result="confirmation_above_cap: too much")
    assert zh.outcome(failed) == "由 officer2 于 2026-12-06 01:00 批准，但未能执行：too much"
    rejected = dict(done, status="rejected", result="wrong year")
    assert zh.outcome(rejected) == "由 officer2 于 2026-12-06 01:00 驳回：wrong year"
    withdrawn = dict(rejected, decided_by="officer")
    assert zh.outcome(withdrawn).startswith("由 officer 于 2026-12-06 01:00 撤回")
    assert "{" not in zh.message(done) and zh.message(done).startswith("审批 #7：确认")



@pytest.mark.db
def test_second_officer_reads_decides_and_sees_the_outcome(browser, spine, platform) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity

    b = browser("officer")
    b.get("/bureau")
    for qty in ("100", "200"):
        r = b.post("/bureau/confirmations", data=dict(permit=spine["A"], pollutant="SO2",
                                                      year="2026", qty_kg=qty),
                   follow_redirects=False)
        assert r.status_code == 303
    first, second = sorted(a["id"] for a in identity.approvals(
        platform.uow(), status="pending")["items"])
    b2 = browser("officer2")
    page = b2.get("/bureau/approvals?status=pending").text
    row = re.search(rf'<tr id="approval-{first}">(.*?)</tr>', page, re.S)
    assert row is not None
    text = row.group(1)
    assert re.search(r"officer 于 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）申请："
                     r"确认Enterprise A（许可证 " + spine["A"] + r"） 2026 年度二氧化硫排污权 "
                     r"0.100 吨；许可排放量 8.000 吨 → 8.000 吨", text), text
    assert "confirm allocated" not in page and "kg SO2" not in page
    r = b2.post(f"/bureau/approvals/{first}/approve", follow_redirects=False)
    assert r.status_code == 303
    after = b2.get("/bureau/approvals").text
    msg = re.search(r'<p class="flash ok" role="status">(.*?)</p>', after, re.S)
    assert msg and f"审批 #{first}：确认Enterprise A" in msg.group(1)
    assert "0.100 吨" in msg.group(1) and "批准并已执行" in msg.group(1)
    assert "{" not in msg.group(1) and "transfer_id" not in after
    b2.get("/bureau/approvals?status=pending")
    r = b2.post(f"/bureau/approvals/{second}/reject", data={"reason": "wrong quantity"},
                follow_redirects=False)
    after = b2.get("/bureau/approvals").text
    msg = re.search(r'<p class="flash ok" role="status">(.*?)</p>', after, re.S)
    assert msg and "0.200 吨" in msg.group(1) and "驳回：wrong quantity" in msg.group(1)
    assert identity.approval(platform.uow(), second)["status"] == "rejected"
    # in English, the same request in English words
    b2.c.cookies.set("erts_lang", "en")
    page = b2.get("/bureau/approvals").text
    assert "asked on" in page and "confirm 0.100 t of 2026 SO2 rights on permit" in page
