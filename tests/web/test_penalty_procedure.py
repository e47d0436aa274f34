"""The administrative penalty procedure: advance notice, statement and hearing within the
legal periods (refused after them), the hearing notified 7 working days ahead, a decision
never heavier than the notice, service (only then published), payment with the late-payment
surcharge; each step in order (wrong order → 409 with a code), audited, and visible to the
enterprise on its own page (and to no other enterprise)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from compliance.enforcement import disclosure_service as disclosure
from compliance.enforcement import penalty_case_service as cases
from compliance.enforcement import penalty_procedure as PP
from tests.day import TODAY, pinned_clock, today_clock  # noqa: F401 (autouse: one Beijing day)
from tests.integration.spine import NOW, A, B

pytestmark = pytest.mark.db
FINE = 30_000_000  # 300 000 yuan: gives a hearing right


@pytest.fixture
def violations(platform, spine):  # type: ignore[no-untyped-def]
    """An open quantity exceedance (Art. 34, 200 000-1 000 000 yuan) of A and of B."""
    for p in (spine["A"], spine["B"]):
        disclosure.open_violation(platform.uow(), permit=p, kind="quantity_exceedance",
                                  occurred_on="2026-06-01", facts="SO2 above the permit",
                                  pollutant="SO2", exceedance_kg=4_000, actor="officer",
                                  now=NOW)
    return {x["enterprise"]: x["id"] for x in disclosure.violations(platform.uow())["items"]}


class Clock:
    """The procedure's clock (`penalty_case_service.system_clock`), moved by a test."""

    def __init__(self) -> None:
        self.now = today_clock()

    def __call__(self) -> datetime:
        return self.now

    def to(self, day: date) -> None:
        """10:00 Beijing time of `day`."""
        self.now = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    c = Clock()
    monkeypatch.setattr(cases, "system_clock", c)
    return c


def _notice(client, auth, vid: int, number: str = "N-1", fen: int = FINE,  # type: ignore[no-untyped-def]
            **extra):
    return client.post("/api/v1/penalties/cases", headers=auth("officer"),
                       json={"violation": vid, "number": number, "proposed_fen": fen, **extra})


def test_working_days_skip_weekends_and_the_published_holidays() -> None:
    # Tuesday 2026-09-22 + 5 working days: 23, 24, then 25 (中秋) and 26-27 off, 28-30
    assert PP.add_working_days(date(2026, 9, 22), 5) == date(2026, 9, 30)
    # Friday 2026-09-18 + 5: the make-up working Sunday 09-20 counts (20, 21-24)
    assert PP.add_working_days(date(2026, 9, 18), 5) == date(2026, 9, 24)
    # the make-up working Sunday 2026-09-20 counts
    assert PP.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)
    # National Day week 2026-10-01..07 is off; Saturday 10-10 is a working day
    assert PP.add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)
    assert PP.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    # payment: 15 calendar days from service
    assert PP.payment_due(date(2026, 12, 1)) == date(2026, 12, 16)
    assert PP.hearing_right(PP.HEARING_THRESHOLD_FEN)
    assert not PP.hearing_right(PP.HEARING_THRESHOLD_FEN - 1)


def test_happy_path_through_hearing_service_and_payment(platform, client, auth,  # type: ignore[no-untyped-def]
                                                        violations, clock) -> None:
    from notices import service as notices

    officer, trader = auth("officer"), auth("trader_a")
    r = _notice(client, auth, violations[A])
    assert r.status_code == 201, r.text
    c = r.json()
    cid = c["id"]
    # the enterprise's users are told, in the notice's own transaction
    assert [n["recipient"] for n in notices.of_event(platform.uow(), "penalty_notice",
                                                      "N-1")] == ["trader_a"]
    assert c["status"] == "noticed" and c["hearing_right"]
    assert c["legal_basis"] == "《排污许可管理条例》第三十四条第一项"
    assert c["statement_due"] == PP.add_working_days(TODAY, 3).isoformat()
    assert c["hearing_due"] == PP.add_working_days(TODAY, 5).isoformat()
    assert c["enterprise_can"] == ["statement", "hearing_request"]
    # the direct decision is refused while the procedure is under way
    r = client.post("/api/v1/penalties", headers=officer, json={
        "violation": violations[A], "number": "D-direct", "amount_fen": FINE,
        "decided_on": TODAY.isoformat(), "summary": "s"})
    assert r.status_code == 409 and r.json()["error"] == "penalty_procedure_open"
    # wrong order: no decision while the periods run, no service before a decision
    dec = {"number": "D-1", "amount_fen": 25_000_000, "summary": "fined"}
    r = client.post(f"/api/v1/penalties/cases/{cid}/decision", headers=officer, json=dec)
    assert r.status_code == 409 and r.json()["error"] == "penalty_period_open"
    r = client.post(f"/api/v1/penalties/cases/{cid}/service", headers=officer,
                    json={"method": "direct"})
    assert r.status_code == 409 and r.json()["error"] == "penalty_step_refused"
    # the enterprise answers; the other enterprise cannot see or answer the case
    r = client.post(f"/api/v1/penalties/cases/{cid}/statement", headers=auth("trader_b"),
                    json={"statement": "not ours"})
    assert r.status_code == 404
    assert client.get(f"/api/v1/penalties/cases/{cid}", headers=auth("trader_b")
                      ).status_code == 404
    r = client.post(f"/api/v1/penalties/cases/{cid}/statement", headers=trader,
                    json={"statement": "整改已完成"})
    assert r.status_code == 201 and r.json()["statement_on"] == TODAY.isoformat()
    r = client.post(f"/api/v1/penalties/cases/{cid}/statement", headers=trader,
                    json={"statement": "again"})
    assert r.status_code == 409 and r.json()["error"] == "penalty_step_refused"
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing-request", headers=trader, json={})
    assert r.status_code == 201 and r.json()["status"] == "hearing_requested"
    r = client.post(f"/api/v1/penalties/cases/{cid}/decision", headers=officer, json=dec)
    assert r.status_code == 409 and r.json()["error"] == "penalty_step_refused"
    # no hearing before its day and place are notified (Art. 64(2))
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing", headers=officer,
                    json={"held_on": TODAY.isoformat(), "record": "听证笔录"})
    assert r.status_code == 409 and r.json()["error"] == "penalty_step_refused"
    assert client.get(f"/api/v1/penalties/cases/{cid}", headers=officer
                      ).json()["bureau_can"] == ["hearing_notice"]
    # a hearing less than 7 working days after the notice is refused
    first = PP.add_working_days(TODAY, 7)
    short = PP.add_working_days(TODAY, 6)
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing-notice", headers=officer,
                    json={"hearing_on": short.isoformat(), "place": "局听证室"})
    assert r.status_code == 422 and r.json()["error"] == "penalty_hearing_notice_too_short"
    assert notices.of_event(platform.uow(), "penalty_hearing", "N-1") == []
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing-notice", headers=officer,
                    json={"hearing_on": first.isoformat(), "place": "局听证室"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert (c["hearing_fixed_on"], c["hearing_place"], c["hearing_notified_on"]) == (
        first.isoformat(), "局听证室", TODAY.isoformat())
    assert c["events"][-1]["kind"] == "hearing_notice"
    assert c["bureau_can"] == ["hearing_notice"]  # it may be moved; held on its day only
    told = notices.of_event(platform.uow(), "penalty_hearing", "N-1")
    assert [n["recipient"] for n in told] == ["trader_a"]
    # its day has not come: recording it today is refused (7 working days' notice)
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing", headers=officer,
                    json={"held_on": TODAY.isoformat(), "record": "听证笔录"})
    assert r.status_code == 422 and r.json()["error"] == "penalty_hearing_notice_too_short"
    clock.to(first)
    assert client.get(f"/api/v1/penalties/cases/{cid}", headers=officer
                      ).json()["bureau_can"] == ["hearing_notice", "hearing"]
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing", headers=officer,
                    json={"held_on": first.isoformat(), "record": "听证笔录"})
    assert r.status_code == 201 and r.json()["status"] == "heard"
    r = client.post(f"/api/v1/penalties/cases/{cid}/decision", headers=officer, json=dec)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "decided" and r.json()["decision_basis"].startswith("《排污")
    # decided but not served: not public
    pub = client.get("/api/v1/public/penalties").json()
    assert pub["total"] == 0
    assert "D-1" not in client.get("/public/penalties").text
    r = client.post(f"/api/v1/penalties/cases/{cid}/payment", headers=officer, json={})
    assert r.status_code == 409 and r.json()["error"] == "penalty_step_refused"
    r = client.post(f"/api/v1/penalties/cases/{cid}/service", headers=officer,
                    json={"method": "post"})
    assert r.status_code == 201 and r.json()["status"] == "served"
    assert r.json()["payment_due"] == (first + timedelta(days=15)).isoformat()
    assert r.json()["surcharge_fen"] == 0 and r.json()["amount_due_fen"] == 25_000_000
    assert [n["recipient"] for n in notices.of_event(platform.uow(), "penalty_decided",
                                                      "D-1")] == ["trader_a"]
    pub = client.get("/api/v1/public/penalties").json()
    assert [d["number"] for d in pub["items"]] == ["D-1"]
    assert pub["items"][0]["amount_fen"] == 25_000_000
    assert "D-1" in client.get("/public/penalties").text
    r = client.post(f"/api/v1/penalties/cases/{cid}/payment", headers=officer, json={})
    assert r.status_code == 201 and r.json()["status"] == "paid"
    assert r.json()["paid_fen"] == 25_000_000 and r.json()["paid_surcharge_fen"] == 0
    kinds = [e["kind"] for e in r.json()["events"]]
    assert kinds == ["notice", "statement", "hearing_request", "hearing_notice", "hearing",
                     "decision", "service", "payment"]
    audit = client.get("/api/v1/audit?limit=100", headers=auth("admin"))
    assert audit.status_code == 200
    actions = {a["action"] for a in audit.json()["items"]}
    assert {"penalty_notice", "penalty_statement", "penalty_hearing_request",
            "penalty_hearing_notice",
            "penalty_hearing", "penalty_case_decision", "penalty_service",
            "penalty_payment"} <= actions


def test_late_statement_and_hearing_request_are_refused(platform, client, auth,  # type: ignore[no-untyped-def]
                                                        violations) -> None:
    old = (TODAY - timedelta(days=30)).isoformat()
    fresh = _notice(client, auth, violations[B], number="N-fresh").json()["id"]
    cid = _notice(client, auth, violations[A], noticed_on=old).json()["id"]
    # to-do counts: B can answer its fresh notice; the bureau can decide A's old one
    assert cases.waiting(platform.uow()) == {"enterprise": 1, "bureau": 1}
    assert cases.waiting(platform.uow(), enterprise=A) == {"enterprise": 0, "bureau": 1}
    assert cases.waiting(platform.uow(), enterprise=B) == {"enterprise": 1, "bureau": 0}
    assert fresh != cid
    trader = auth("trader_a")
    r = client.post(f"/api/v1/penalties/cases/{cid}/statement", headers=trader,
                    json={"statement": "too late"})
    assert r.status_code == 409 and r.json()["error"] == "penalty_period_over"
    r = client.post(f"/api/v1/penalties/cases/{cid}/hearing-request", headers=trader, json={})
    assert r.status_code == 409 and r.json()["error"] == "penalty_period_over"
    case = client.get(f"/api/v1/penalties/cases/{cid}", headers=trader).json()
    assert case["statement"] is None and case["enterprise_can"] == []
    assert case["bureau_can"] == ["decision"]  # the periods are over: the bureau decides


def test_a_decision_heavier_than_the_notice_is_refused(client, auth, violations) -> None:  # type: ignore[no-untyped-def]
    old = (TODAY - timedelta(days=30)).isoformat()
    cid = _notice(client, auth, violations[A], noticed_on=old).json()["id"]
    officer = auth("officer")
    dec = {"number": "D-9", "amount_fen": FINE + 100, "summary": "s"}
    r = client.post(f"/api/v1/penalties/cases/{cid}/decision", headers=officer, json=dec)
    assert r.status_code == 422 and r.json()["error"] == "penalty_heavier_than_notice"
    assert client.get(f"/api/v1/penalties/cases/{cid}", headers=officer
                      ).json()["status"] == "noticed"
    r = client.post(f"/api/v1/penalties/cases/{cid}/decision", headers=officer,
                    json=dec | {"amount_fen": FINE})
    assert r.status_code == 201


def test_service_periods_and_small_fines_give_no_hearing(platform, violations) -> None:  # type: ignore[no-untyped-def]
    # 5 000 yuan is below the Art. 34 range; a per-instance kind (Art. 37) gives small fines
    with pytest.raises(Exception) as exc:
        cases.issue_notice(platform.uow(), violation_id=violations[B], number="N-small",
                           proposed_fen=500_000, actor="officer")
    assert getattr(exc.value, "code", "") == "penalty_out_of_range"
    now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # a Monday, Beijing 10:00
    c = cases.issue_notice(platform.uow(), violation_id=violations[B], number="N-B",
                           proposed_fen=FINE, actor="officer", now=now)
    assert c["statement_due"] == "2026-11-05" and c["hearing_due"] == "2026-11-09"
    later = now + timedelta(days=4)  # Friday 11-06: statement period over, hearing open
    with pytest.raises(Exception) as exc:
        cases.file_statement(platform.uow(), case_id=c["id"], statement="x", enterprise=B,
                             actor="trader_b", now=later)
    assert getattr(exc.value, "code", "") == "penalty_period_over"
    with pytest.raises(Exception) as exc:
        cases.decide_case(platform.uow(), case_id=c["id"], number="D-B", amount_fen=FINE,
                          summary="s", actor="officer", now=later)
    assert getattr(exc.value, "code", "") == "penalty_period_open"
    after = now + timedelta(days=8)  # Tuesday 11-10: every period is over
    out = cases.decide_case(platform.uow(), case_id=c["id"], number="D-B", amount_fen=FINE,
                            summary="s", actor="officer", now=after)
    assert out["service_due"] == "2026-11-19"
    with pytest.raises(Exception) as exc:
        cases.serve_decision(platform.uow(), case_id=c["id"], method="pigeon",
                             actor="officer", now=after)
    assert getattr(exc.value, "code", "") == "bad_penalty_case"


def test_enterprise_page_shows_status_deadlines_and_answers(client, auth, browser,  # type: ignore[no-untyped-def]
                                                            violations) -> None:
    cid = _notice(client, auth, violations[A]).json()["id"]
    due = PP.add_working_days(TODAY, 3).isoformat()
    b = browser("trader_a")
    page = b.get(f"/enterprises/{A}/penalties")
    assert page.status_code == 200
    assert "N-1" in page.text and due in page.text
    assert 'action="/enterprises/' in page.text and "statement" in page.text
    assert "noticed" not in page.text  # no raw status code shown to people
    r = b.post(f"/enterprises/{A}/penalties/statement",
               data={"case": str(cid), "statement": "我们已整改"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = b.get(f"/enterprises/{A}/penalties")
    assert "我们已整改" in page.text
    r = b.post(f"/enterprises/{A}/penalties/statement",
               data={"case": str(cid), "statement": "again"})
    assert r.status_code == 409
    # another enterprise sees nothing of it
    other = browser("trader_b")
    assert other.get(f"/enterprises/{A}/penalties").status_code == 404
    assert "N-1" not in other.get(f"/enterprises/{B}/penalties").text
    # the bureau's page lists the case and offers the next step
    officer = browser("officer")
    page = officer.get(f"/bureau/penalty-cases?case={cid}")
    assert page.status_code == 200 and "N-1" in page.text and "我们已整改" in page.text


def test_officer_runs_the_procedure_on_the_pages_to_service(client, browser, violations) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    page = officer.get(f"/bureau/penalty-cases?violation={violations[A]}")
    assert page.status_code == 200
    # the facts and the Chinese legal basis are pre-filled from the violation
    assert "SO2 above the permit" in page.text
    assert 'value="《排污许可管理条例》第三十四条第一项"' in page.text
    old = (TODAY - timedelta(days=30)).isoformat()
    r = officer.post("/bureau/penalty-cases/notice", data={
        "violation": str(violations[A]), "number": "渝环罚告〔2026〕1号",
        "proposed_yuan": "300000", "noticed_on": old, "facts": "", "legal_basis": ""},
        follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    cid = int(r.headers["location"].split("case=")[1])
    page = officer.get(r.headers["location"])
    # the violation under way is no longer offered for a notice; B's still is
    offered = page.text.split('id="notice-form"')[1]
    assert f'value="{violations[A]}"' not in offered
    assert f'value="{violations[B]}"' in offered
    assert "已事先告知" in page.text and 'id="case-decision-form"' in page.text
    assert 'value="《排污许可管理条例》第三十四条第一项"' in page.text  # decision's basis
    dec = {"case": str(cid), "number": "渝环罚〔2026〕1号", "amount_yuan": "300000.01",
           "decided_on": "", "legal_basis": "", "summary": "超许可排放量排污"}
    r = officer.post("/bureau/penalty-cases/decision", data=dec)
    assert r.status_code == 422 and "不得重于事先告知的处罚" in r.text
    r = officer.post("/bureau/penalty-cases/decision", data=dec | {"amount_yuan": "250000"},
                     follow_redirects=False)
    assert r.status_code == 303
    assert "渝环罚〔2026〕1号" not in client.get("/public/penalties").text
    page = officer.get(f"/bureau/penalty-cases?case={cid}")
    assert 'id="service-form"' in page.text and "邮寄送达" in page.text
    r = officer.post("/bureau/penalty-cases/service",
                     data={"case": str(cid), "method": "post", "served_on": ""},
                     follow_redirects=False)
    assert r.status_code == 303
    public = client.get("/public/penalties").text
    assert "渝环罚〔2026〕1号" in public and "250,000.00" in public
    assert "送达当事人后公开" in public
    r = officer.post("/bureau/penalty-cases/service",
                     data={"case": str(cid), "method": "post", "served_on": ""})
    assert r.status_code == 409
    # the enterprise sees the served decision, the method and the payment deadline
    trader = browser("trader_a")
    page = trader.get(f"/enterprises/{A}/penalties")
    assert "决定书已送达" in page.text and "邮寄送达" in page.text
    assert (TODAY + timedelta(days=15)).isoformat() in page.text
    assert "提交陈述申辩" not in page.text  # nothing to answer any more
    r = officer.post("/bureau/penalty-cases/payment", data={"case": str(cid), "paid_on": ""},
                     follow_redirects=False)
    assert r.status_code == 303
    assert "罚款已缴纳" in trader.get(f"/enterprises/{A}/penalties").text
    # in English, labels and not codes
    trader.c.cookies.set("erts_lang", "en")
    page = trader.get(f"/enterprises/{A}/penalties")
    assert "Fine paid" in page.text and "By post" in page.text
    assert ">paid<" not in page.text and ">post<" not in page.text


def test_a_withdrawn_decision_leaves_nothing_due(client, auth, violations) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    old = (TODAY - timedelta(days=30)).isoformat()
    cid = _notice(client, auth, violations[A], noticed_on=old).json()["id"]
    base = f"/api/v1/penalties/cases/{cid}"
    assert client.post(f"{base}/decision", headers=officer, json={
        "number": "D-w", "amount_fen": FINE, "summary": "s"}).status_code == 201
    assert client.post(f"{base}/service", headers=officer,
                       json={"method": "direct"}).status_code == 201
    r = client.post("/api/v1/penalties/withdrawals", headers=officer,
                    json={"number": "D-w", "reason": "事实认定有误"})
    assert r.status_code == 201
    case = client.get(base, headers=auth("trader_a")).json()
    assert case["decision_withdrawn"] and not case["published"] and case["bureau_can"] == []
    r = client.post(f"{base}/payment", headers=officer, json={})
    assert r.status_code == 409 and r.json()["error"] == "penalty_step_refused"
    # the violation is open again: a new procedure may start on it
    assert _notice(client, auth, violations[A], number="N-2").status_code == 201


def _served(platform, vid: int, number: str, served_ago: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """A case on `vid` noticed 60 days ago, decided and served `served_ago` days ago."""
    c = cases.issue_notice(platform.uow(), violation_id=vid, number=f"N-{number}",
                           proposed_fen=FINE, noticed_on=TODAY - timedelta(days=60),
                           actor="officer")
    cases.decide_case(platform.uow(), case_id=c["id"], number=number, amount_fen=FINE,
                      decided_on=TODAY - timedelta(days=served_ago), summary="s",
                      actor="officer")
    return cases.serve_decision(platform.uow(), case_id=c["id"], method="direct",
                                served_on=TODAY - timedelta(days=served_ago),
                                actor="officer")


def test_late_payment_surcharge_accrues_shows_and_is_paid(platform, client, auth, browser,  # type: ignore[no-untyped-def]
                                                          violations) -> None:
    """Art. 72(1): 3 % of the fine a day after the 15 days of Art. 67, at most the fine."""
    a = _served(platform, violations[A], "D-late", served_ago=25)   # 10 days late
    b = _served(platform, violations[B], "D-capped", served_ago=60)  # 45 days late: capped
    assert a["payment_due"] == (TODAY - timedelta(days=10)).isoformat()
    officer = auth("officer")
    got = client.get(f"/api/v1/penalties/cases/{a['id']}", headers=auth("trader_a")).json()
    assert got["payment_overdue"] and got["days_late"] == 10
    assert got["surcharge_fen"] == FINE * 30 // 100 == 9_000_000
    assert got["amount_due_fen"] == FINE + 9_000_000
    got = client.get(f"/api/v1/penalties/cases/{b['id']}", headers=officer).json()
    assert got["days_late"] == 45 and got["surcharge_fen"] == FINE
    assert got["amount_due_fen"] == 2 * FINE
    # both pages show it in yuan
    page = browser("trader_a").get(f"/enterprises/{A}/penalties").text
    assert "加处罚款" in page and "90,000.00" in page and "390,000.00" in page
    assert "逾期 10 日" in page
    page = browser("officer").get(f"/bureau/penalty-cases?case={b['id']}").text
    assert "加处罚款" in page and "600,000.00" in page
    # more than accrued by the day of payment is refused; nothing is recorded
    base = f"/api/v1/penalties/cases/{a['id']}/payment"
    paid_on = (TODAY - timedelta(days=5)).isoformat()                # 5 days late: 15 %
    r = client.post(base, headers=officer, json={"paid_on": paid_on,
                                                 "surcharge_fen": 4_500_001})
    assert r.status_code == 422 and r.json()["error"] == "bad_penalty_case"
    assert client.get(f"/api/v1/penalties/cases/{a['id']}", headers=officer
                      ).json()["status"] == "served"
    # by default the surcharge accrued by the day of payment is recorded with the fine
    r = client.post(base, headers=officer, json={"paid_on": paid_on})
    assert r.status_code == 201, r.text
    paid = r.json()
    assert (paid["status"], paid["paid_fen"], paid["paid_surcharge_fen"]) == (
        "paid", FINE, 4_500_000)
    assert paid["days_late"] == 5 and paid["surcharge_fen"] == 4_500_000
    assert paid["amount_due_fen"] == 0 and not paid["payment_overdue"]
    assert paid["events"][-1]["detail"] == f"{FINE} fen + surcharge 4500000 fen"
    # the bureau may record less (Art. 72: "may"): here none, on the officer's page
    r = browser("officer").post("/bureau/penalty-cases/payment",
                                data={"case": str(b["id"]), "paid_on": "",
                                      "surcharge_yuan": "0"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    got = client.get(f"/api/v1/penalties/cases/{b['id']}", headers=officer).json()
    assert got["paid_fen"] == FINE and got["paid_surcharge_fen"] == 0
    assert got["surcharge_fen"] == 0


def test_paid_in_time_no_surcharge(platform, violations) -> None:  # type: ignore[no-untyped-def]
    c = _served(platform, violations[A], "D-in-time", served_ago=15)  # last day is today
    assert c["payment_due"] == TODAY.isoformat()
    assert not c["payment_overdue"] and c["surcharge_fen"] == 0
    assert c["amount_due_fen"] == FINE
    out = cases.record_payment(platform.uow(), case_id=c["id"], actor="officer")
    assert out["paid_surcharge_fen"] == 0 and out["paid_fen"] == FINE


def test_officer_notifies_the_hearing_and_the_enterprise_sees_it(platform, client, auth,  # type: ignore[no-untyped-def]
                                                                 browser, violations) -> None:
    from notices import service as notices

    cid = _notice(client, auth, violations[A]).json()["id"]
    assert client.post(f"/api/v1/penalties/cases/{cid}/hearing-request",
                       headers=auth("trader_a"), json={}).status_code == 201
    officer = browser("officer")
    page = officer.get(f"/bureau/penalty-cases?case={cid}")
    assert 'id="hearing-notice-form"' in page.text and 'id="hearing-form"' not in page.text
    first = PP.earliest_hearing(TODAY)
    # the form is pre-filled with the first lawful day
    assert f'name="hearing_on" type="date" value="{first.isoformat()}"' in page.text
    too_soon = first - timedelta(days=1)
    r = officer.post("/bureau/penalty-cases/hearing-notice", data={
        "case": str(cid), "hearing_on": too_soon.isoformat(), "place": "局三楼听证室",
        "notified_on": ""})
    assert r.status_code == 422 and "七个工作日" in r.text
    assert first.isoformat() in r.text
    assert 'data-code="penalty_hearing_notice_too_short"' in r.text
    r = officer.post("/bureau/penalty-cases/hearing-notice", data={
        "case": str(cid), "hearing_on": first.isoformat(), "place": "局三楼听证室",
        "notified_on": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    # the enterprise sees the day and the place, and is told in the app
    trader = browser("trader_a")
    page = trader.get(f"/enterprises/{A}/penalties").text
    assert "局三楼听证室" in page and first.isoformat() in page and "听证日期" in page
    told = notices.of_event(platform.uow(), "penalty_hearing", "N-1")
    assert [n["recipient"] for n in told] == ["trader_a"]
    inbox = trader.get("/notifications").text
    assert "局三楼听证室" in inbox and "申请的听证将于" in inbox
    trader.c.cookies.set("erts_lang", "en")
    inbox = trader.get("/notifications").text
    assert "The hearing you requested on advance notice N-1 will be held on" in inbox
    page = trader.get(f"/enterprises/{A}/penalties").text
    assert "Hearing on" in page and "Hearing notified" in page
    # moving it is a new notice, again 7 working days ahead of the new day
    later = PP.add_working_days(first, 2)
    out = cases.notify_hearing(platform.uow(), case_id=cid, hearing_on=later,
                               place="区政务中心", actor="officer")
    assert out["hearing_fixed_on"] == later.isoformat()
    assert [e["kind"] for e in out["events"]].count("hearing_notice") == 2
    assert len(notices.of_event(platform.uow(), "penalty_hearing", "N-1")) == 2
