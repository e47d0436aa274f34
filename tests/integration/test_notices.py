"""In-app notifications on a real database (SQLite, and PostgreSQL when configured): each
event writes one notification per recipient in its own transaction (a refused event writes
none), recipients are the enterprise's active users or the officers who may act, and a user
reads and marks only their own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from allocation import service as alloc
from compliance.alerting import clue_service
from compliance.alerting.clue_store import ClueStore
from identity import service as identity
from kernel.errors import DomainError
from notices import service as notices
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B, build_spine
from trading import service as trading
from trading import transfer_service as transfers

pytestmark = pytest.mark.db

USERS = (("officer", "bureau_officer", None, None, None),
         ("officer2", "bureau_officer", None, None, None),
         ("approver_d01", "bureau_officer", None, "D01", "approval"),
         ("monitor", "bureau_officer", None, None, "monitoring"),
         ("analyst", "analyst", None, None, None),
         ("trader_a", "trader", A, None, None), ("trader_a2", "trader", A, None, None),
         ("trader_b", "trader", B, None, None))


def _world(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    for name, role, ent, district, dept in USERS:
        identity.create_user(platform.uow(), username=name, display_name=name, role=role,
                             password="", password_hash="x", enterprise=ent,
                             district=district, department=dept)
    return codes


def _told(platform, kind: str, ref: object) -> list[str]:  # type: ignore[no-untyped-def]
    return [n["recipient"] for n in notices.of_event(platform.uow(), kind, ref)]


def test_a_clue_sent_tells_the_enterprise_users_only(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    from compliance.supervision.screening import Anomaly

    with platform.uow() as uow:
        (cid,) = ClueStore(uow.session).open_from_anomalies(
            [Anomaly(permit=codes["A"], outlet="DA001", kind="manual", pollutant="SO2",
                     start=NOW, end=NOW, evidence={})], now=NOW, source="screening")
        uow.commit()
    assert _told(platform, "clue_sent", cid) == []  # opened, not yet sent: nobody told
    clue_service.send(platform.uow(), clue_id=cid, due=date(2026, 6, 10), message="check",
                      actor="officer", now=NOW)
    assert _told(platform, "clue_sent", cid) == ["trader_a", "trader_a2"]
    n = notices.notifications(platform.uow(), "trader_a")
    assert n["unread"] == 1 and n["items"][0]["params"] == {"due": "2026-06-10"}
    assert n["items"][0]["enterprise"] == A and n["items"][0]["read"] is False
    assert notices.unread_count(platform.uow(), "trader_b") == 0
    # sending again is refused by the clue's lifecycle: no second notification
    with pytest.raises(DomainError):
        clue_service.send(platform.uow(), clue_id=cid, due=date(2026, 6, 10), message="x",
                          actor="officer", now=NOW)
    assert len(_told(platform, "clue_sent", cid)) == 2


def test_marking_read_is_per_user(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    alloc.confirm_rights(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)
    (mine,) = notices.notifications(platform.uow(), "trader_a")["items"]
    # another user's ids are ignored
    assert notices.mark_read(platform.uow(), "trader_b", [mine["id"]], now=NOW) == 0
    assert notices.unread_count(platform.uow(), "trader_a") == 1
    assert notices.mark_read(platform.uow(), "trader_a", [mine["id"]], now=NOW) == 1
    assert notices.unread_count(platform.uow(), "trader_a") == 0
    assert notices.unread_count(platform.uow(), "trader_a2") == 1  # each user reads their own
    assert notices.mark_read(platform.uow(), "trader_a2", None, now=NOW) == 1
    assert notices.mark_read(platform.uow(), "trader_a2", None, now=NOW) == 0
    page = notices.notifications(platform.uow(), "trader_a", unread_only=True)
    assert page["total"] == 0 and page["unread"] == 0


def test_a_confirmation_bill_tells_the_enterprise(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    identity.set_user_active(platform.uow(), username="trader_a2", active=False)
    alloc.confirm_rights(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)
    assert notices.unread_count(platform.uow(), "trader_a2") == 0  # inactive: not told
    (n,) = notices.notifications(platform.uow(), "trader_a")["items"]
    # 1 000 kg SO2 at 976 yuan/t, due 30 days after the Beijing issue date
    assert n["kind"] == "bill_issued"
    assert n["params"] == {"count": 1, "amount_fen": 97_600, "due": "2026-07-01"}
    assert notices.unread_count(platform.uow(), "trader_b") == 0


def test_a_proposed_transfer_tells_the_buyer(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    trading.clear_book_cache()
    for p in (codes["A"], codes["B"]):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        fund_and_pay(platform, p, NOW)
    alloc.verify_surplus(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=3000, actor="bureau", now=NOW)
    with platform.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    t = transfers.propose_transfer(
        platform.uow(), market=market, seller=A, seller_permit=codes["A"], buyer=B,
        buyer_permit=codes["B"], qty=1_000, price=250_000, permits=platform.permits,
        actor="trader_a", now=NOW)
    assert _told(platform, "transfer_proposed", t["id"]) == ["trader_b"]
    (n,) = notices.notifications(platform.uow(), "trader_b", unread_only=True)["items"][:1]
    assert n["params"] == {"market": market, "qty": 1000, "price": 250_000, "seller": A}
    # a refused proposal (more than the seller holds) tells nobody
    with pytest.raises(DomainError):
        transfers.propose_transfer(
            platform.uow(), market=market, seller=A, seller_permit=codes["A"], buyer=B,
            buyer_permit=codes["B"], qty=1_000_000, price=250_000, permits=platform.permits,
            actor="trader_a", now=NOW, transfer_id="nt-too-much")
    assert _told(platform, "transfer_proposed", "nt-too-much") == []
    # accepted by the buyer: the bureau's (city) officers approve it next
    assert _told(platform, "transfer_accepted", t["id"]) == []
    transfers.accept_transfer(platform.uow(), transfer_id=t["id"], buyer=B, actor="trader_b",
                              now=NOW)
    assert _told(platform, "transfer_accepted", t["id"]) == ["monitor", "officer", "officer2"]


def test_an_approval_request_tells_the_officers_who_may_approve(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    a = identity.request_approval(platform.uow(), tx_type="confirmation", action="confirm",
                                  target=codes["A"], payload={}, summary="confirm SO2",
                                  requested_by="officer", now=NOW)
    # not the requester, not the monitoring department, not traders or analysts; the
    # district's approval officer sees its district's permits
    assert _told(platform, "approval_waiting", a["id"]) == ["approver_d01", "officer2"]
    # a request about no permit of a district: the city's officers only
    b = identity.request_approval(platform.uow(), tx_type="confirmation", action="confirm",
                                  target="elsewhere", payload={}, summary="x",
                                  requested_by="officer2", now=NOW)
    assert _told(platform, "approval_waiting", b["id"]) == ["officer"]


def test_a_penalty_decision_tells_the_enterprise(platform) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.compliance.test_disclosure import _decide, _violations

    v = _violations(platform)
    for name, ent in (("trader_a", A), ("trader_b", B)):
        identity.create_user(platform.uow(), username=name, display_name=name, role="trader",
                             password="", password_hash="x", enterprise=ent)
    with pytest.raises(DomainError):  # out of range: refused, nobody told
        _decide(platform, v["A"], "渝环罚〔2026〕9号", 1)
    assert _told(platform, "penalty_decided", "渝环罚〔2026〕9号") == []
    _decide(platform, v["A"], "渝环罚〔2026〕1号")
    assert _told(platform, "penalty_decided", "渝环罚〔2026〕1号") == ["trader_a"]
    (n,) = [x for x in notices.notifications(platform.uow(), "trader_a")["items"]
            if x["kind"] == "penalty_decided"]
    assert n["params"] == {"amount_fen": 300_000_00}
    assert n["created_at"].startswith((NOW + timedelta(days=30)).date().isoformat())


def test_bills_falling_due_are_reminded_once(platform) -> None:  # type: ignore[no-untyped-def]
    from allocation.bill_reminders import remind_due_bills

    codes = _world(platform)
    alloc.confirm_rights(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)  # due 2026-07-01
    early = NOW + timedelta(days=20)  # 2026-06-21: more than 7 days before
    assert remind_due_bills(platform.uow(), now=early) == 0
    week = NOW + timedelta(days=25)  # 2026-06-26
    assert remind_due_bills(platform.uow(), now=week) == 1
    assert remind_due_bills(platform.uow(), now=week) == 0  # once
    (n,) = [x for x in notices.notifications(platform.uow(), "trader_a")["items"]
            if x["kind"] == "bill_due"]
    assert n["params"]["due"] == "2026-07-01" and n["params"]["amount_fen"] == 97_600
    assert sorted(_told(platform, "bill_due", n["ref"])) == ["trader_a", "trader_a2"]
    assert notices.unread_count(platform.uow(), "trader_b") == 0


def test_the_schedule_tick_reminds_bills(platform) -> None:  # type: ignore[no-untyped-def]
    from web.auction_schedule import tick

    codes = _world(platform)
    alloc.confirm_rights(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)
    tick(platform, now=NOW + timedelta(days=29))
    assert [x["kind"] for x in notices.notifications(platform.uow(), "trader_a")["items"]] \
        == ["bill_due", "bill_issued"]
