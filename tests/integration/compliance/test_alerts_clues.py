"""Problem clues and heavy-pollution alerts on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from compliance.alerting import alert_service, clue_service
from compliance.alerting.clue_store import ClueStore
from compliance.alerting.clue_tables import ClueEventRow, ClueRow
from compliance.errors import (
    AlertNotActive,
    AlertNotFound,
    BadAlert,
    BadClue,
    ClueNotFound,
    ClueTransitionRefused,
    ClueUnknownPermit,
)
from compliance.supervision.screening import Anomaly
from compliance.supervision.supervision_tables import MonitoringDailyRow
from kernel.clock import CST
from kernel.ids import make_credit_code
from tests.integration.spine import NOW, A, B, build_spine

pytestmark = pytest.mark.db

T0 = datetime(2026, 5, 30, 16, 0, tzinfo=UTC)


def _anomaly(permit: str, *, kind: str = "flat_line", outlet: str = "DA001",
             pollutant: str | None = "SO2", start: datetime = T0) -> Anomaly:
    return Anomaly(permit=permit, outlet=outlet, kind=kind, pollutant=pollutant, start=start,
                   end=start + timedelta(hours=5), evidence={"hours": 6, "value": "12.5"})


# ClueStore ------------------------------------------------------------------------------
def test_open_from_anomalies_dedupes_against_open_clues_and_within_the_batch(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    pa, pb = codes["A"], codes["B"]
    with platform.uow() as uow:
        ids = ClueStore(uow.session).open_from_anomalies(
            [_anomaly(pa), _anomaly(pa), _anomaly(pb), _anomaly(pa, pollutant=None),
             _anomaly(pa, start=T0 + timedelta(hours=1))], now=NOW, source="screening")
        uow.commit()
    assert len(ids) == 4
    with platform.uow() as uow:
        store = ClueStore(uow.session)
        # the same anomalies again (start given in another time zone): nothing new
        cst = T0.astimezone(CST)
        again = store.open_from_anomalies([_anomaly(pa, start=cst), _anomaly(pb),
                                           _anomaly(pa, pollutant=None)],
                                          now=NOW, source="screening")
        assert again == []
        rows, total = store.search(enterprise=A)
        assert total == 3 and {r.state for r in rows} == {"found"}
        assert rows[0].evidence == {"hours": 6, "value": "12.5"}
        assert rows[0].enterprise == A
        hist = store.history(ids[0])
        assert [(h.action, h.from_state, h.to_state, h.actor) for h in hist] == [
            ("open", None, "found", "system")]
        # a closed clue no longer blocks a new one for the same finding
        row = store.get(ids[1])
        assert row is not None and row.permit == pb
        row.state = "closed"
        uow.session.flush()
        assert len(store.open_from_anomalies([_anomaly(pb)], now=NOW, source="x")) == 1
        uow.commit()
    with platform.uow() as uow:
        assert ClueStore(uow.session).search(enterprise=B)[1] == 2


def test_open_from_anomalies_refuses_an_unknown_permit(platform) -> None:  # type: ignore[no-untyped-def]
    build_spine(platform)
    with platform.uow() as uow, pytest.raises(ClueUnknownPermit):
        ClueStore(uow.session).open_from_anomalies([_anomaly("X" * 22)], now=NOW, source="s")


def test_clue_history_is_append_only_in_the_database(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    with platform.uow() as uow:
        (cid,) = ClueStore(uow.session).open_from_anomalies([_anomaly(codes["A"])], now=NOW,
                                                           source="screening")
        uow.commit()
    for stmt in ("UPDATE problem_clue_event SET note = 'x'", "DELETE FROM problem_clue_event"):
        with platform.uow() as uow, pytest.raises(Exception, match="append-only"):
            uow.session.execute(text(stmt))
    with platform.uow() as uow:
        assert uow.session.get(ClueRow, cid) is not None
        assert len(list(uow.session.query(ClueEventRow))) == 1


# alerts: declare → caps → monitoring → check → breaches and clues ------------------------
def _confirmed_spine(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from allocation import service as alloc

    codes = build_spine(platform)
    alloc.register_area(platform.uow(), zones=[("ZA2", "Air zone 2", "air"),
                                               ("ZW2", "Water zone 2", "water")],
                        districts=[("D02", "District 2", "ZA2", "ZW2")])
    C = make_credit_code("91500000CCCCCCCC3")
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D02")
    codes["C"] = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D02",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA2", 50_000, None, None)], now=NOW)
    for tag in ("A", "B"):  # A 8 000 kg, B 6 000 kg of SO2 in 2026
        alloc.confirm_rights(platform.uow(), permit=codes[tag], pollutant="SO2", year=2026,
                             actor="officer", now=NOW)
    return codes


def _monitor(platform, rows) -> None:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        uow.session.add_all([MonitoringDailyRow(permit=p, outlet=o, pollutant=pol, day=d,
                                                emitted_g=g, hours=24, power_kwh=0)
                             for p, o, pol, d, g in rows])
        uow.commit()


def test_declare_check_breaches_open_clues_once(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _confirmed_spine(platform)
    pa, pb = codes["A"], codes["B"]
    out = alert_service.declare_alert(platform.uow(), level="red", zones=["ZA1"],
                                      first_day=date(2026, 6, 1), last_day=date(2026, 6, 5),
                                      actor="officer", now=NOW)
    aid = out["id"]
    assert out["status"] == "active" and out["cut_pct"] == 30 and out["caps"] == 2
    caps = alert_service.alert_caps(platform.uow(), alert_id=aid)["items"]
    # A: ⌊8000 × 0.7 / 365⌋ = 15 kg/d, 5 days → 75; B: ⌊6000 × 0.7 / 365⌋ = 11 → 55.
    # C (zone ZA2) is not affected.
    assert {(c["permit"], c["daily_cap_kg"], c["monthly_cap_kg"], c["month"]) for c in caps} \
        == {(pa, 15, 75, "2026-06"), (pb, 11, 55, "2026-06")}
    assert alert_service.alert_caps(platform.uow(), alert_id=aid, enterprise=B)["total"] == 1
    _monitor(platform, [
        (pa, "DA001", "SO2", date(2026, 6, 1), 10_000),
        (pa, "DA002", "SO2", date(2026, 6, 1), 6_000),  # 16 kg over two outlets > 15
        (pa, "DA001", "SO2", date(2026, 6, 2), 15_000),  # exactly the cap
        (pa, "DA001", "SO2", date(2026, 5, 31), 900_000),  # before the alert
        (pb, "DA001", "SO2", date(2026, 6, 1), 11_000),
        (pb, "DA001", "SO2", date(2026, 6, 2), 50_000),  # day breach; month 61 kg > 55
        (pb, "DA001", "NOx", date(2026, 6, 2), 999_000),  # no NOx cap
        (codes["C"], "DA001", "SO2", date(2026, 6, 2), 999_000),  # not affected
    ])
    later = NOW + timedelta(days=2)
    res = alert_service.check_alerts(platform.uow(), alert_id=aid, now=later)
    got = {(b["permit"], b["period"], b["day"], b["emitted_g"], b["cap_kg"])
           for b in res["breaches"]}
    assert got == {(pa, "day", "2026-06-01", 16_000, 15), (pb, "day", "2026-06-02", 50_000, 11),
                   (pb, "month", "2026-06", 61_000, 55)}
    assert res["new_breaches"] == 3 and res["clues_opened"] == 3
    clues = clue_service.list_clues(platform.uow(), kind="alert_breach")
    assert clues["total"] == 3
    mine = clue_service.list_clues(platform.uow(), enterprise=A)["items"]
    assert len(mine) == 1 and mine[0]["state"] == "found" and mine[0]["outlet"] == ""
    assert mine[0]["evidence"]["emitted_kg"] == "16.000" and mine[0]["evidence"]["alert"] == aid
    assert mine[0]["start"] == "2026-05-31T16:00:00+00:00"  # 1 June 00:00 CST

    # re-checking (every started alert) records nothing new and opens no clue
    again = alert_service.check_alerts(platform.uow(), now=later)
    assert again["alerts_checked"] == 1 and again["new_breaches"] == 0
    assert clue_service.list_clues(platform.uow())["total"] == 3
    # more data: the month breach's figure follows, still one breach and one clue
    _monitor(platform, [(pb, "DA001", "SO2", date(2026, 6, 3), 1_000)])
    assert alert_service.check_alerts(platform.uow(), now=later)["new_breaches"] == 0
    br = alert_service.alert_breaches(platform.uow(), alert_id=aid)
    assert br["total"] == 3
    month = next(b for b in br["items"] if b["period"] == "month")
    assert month["emitted_g"] == 62_000 and month["clue"] is not None
    assert alert_service.alert_breaches(platform.uow(), enterprise=A)["total"] == 1

    # lifting early shortens the window and the month caps; breaches stay
    lifted = alert_service.lift_alert(platform.uow(), alert_id=aid, actor="officer",
                                      now=later)
    assert lifted["status"] == "lifted" and lifted["effective_last_day"] == "2026-06-03"
    caps = alert_service.alert_caps(platform.uow(), alert_id=aid)["items"]
    assert {(c["permit"], c["monthly_cap_kg"], c["days"]) for c in caps} == {
        (pa, 45, 3), (pb, 33, 3)}
    with pytest.raises(AlertNotActive):
        alert_service.lift_alert(platform.uow(), alert_id=aid, actor="officer", now=later)
    assert alert_service.get_alert(platform.uow(), alert_id=aid, now=later)["breaches"] == 3


def test_declaration_refusals(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _confirmed_spine(platform)
    cases = [dict(level="red", zones=["NOPE"], first_day=date(2026, 6, 1),
                  last_day=date(2026, 6, 2)),
             dict(level="red", zones=["ZA1"], first_day=date(2026, 5, 31),
                  last_day=date(2026, 6, 2)),
             dict(level="grey", zones=["ZA1"], first_day=date(2026, 6, 1),
                  last_day=date(2026, 6, 2))]
    for kw in cases:
        with pytest.raises(BadAlert):
            alert_service.declare_alert(platform.uow(), actor="officer", now=NOW, **kw)  # type: ignore[arg-type]
    assert alert_service.list_alerts(platform.uow())["total"] == 0
    with pytest.raises(AlertNotFound):
        alert_service.check_alerts(platform.uow(), alert_id=999, now=NOW)
    # a district code affects every pollutant of the permits sited there
    out = alert_service.declare_alert(platform.uow(), level="yellow", zones=["D02"],
                                      first_day=date(2026, 6, 1), last_day=date(2026, 6, 1),
                                      actor="officer", now=NOW)
    # C's rights are not confirmed, but its permit quantity binds from issuance: it is capped
    # (was left out under the old rule). No monitoring: ⌊50 000 × 0.9 / 365⌋ = 123 kg/d.
    assert out["caps"] == 1
    (cap,) = alert_service.alert_caps(platform.uow(), alert_id=out["id"])["items"]
    assert (cap["permit"], cap["basis"], cap["baseline_days"], cap["cut_pct"],
            cap["daily_cap_kg"]) == (codes["C"], "permitted", 365, 10, 123)


# clues: the lifecycle through the use cases, and scoping -----------------------------------
def test_clue_lifecycle_history_and_scoping(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    with platform.uow() as uow:
        ca, cb = ClueStore(uow.session).open_from_anomalies(
            [_anomaly(codes["A"]), _anomaly(codes["B"])], now=NOW, source="screening")
        uow.commit()
    u = platform.uow
    clue_service.send(u(), clue_id=ca, due=date(2026, 6, 10), message="check DA001",
                      actor="officer", now=NOW)
    with pytest.raises(ClueTransitionRefused):
        clue_service.verify(u(), clue_id=ca, actor="officer", now=NOW)
    # B's trader can neither see nor act on A's clue: answered as missing
    with pytest.raises(ClueNotFound):
        clue_service.get_clue(u(), clue_id=ca, enterprise=B)
    with pytest.raises(ClueNotFound):
        clue_service.rectify(u(), clue_id=ca, note="x", actor="trader2", enterprise=B, now=NOW)
    assert clue_service.list_clues(u(), enterprise=B)["items"][0]["id"] == cb
    clue_service.rectify(u(), clue_id=ca, note="recalibrated", actor="trader1", enterprise=A,
                         now=NOW)
    clue_service.reject(u(), clue_id=ca, reason="no calibration record", actor="officer",
                        now=NOW)
    clue_service.rectify(u(), clue_id=ca, note="record attached", actor="trader1",
                         enterprise=A, now=NOW)
    clue_service.verify(u(), clue_id=ca, actor="officer2", now=NOW)
    out = clue_service.close(u(), clue_id=ca, actor="officer", note="done", now=NOW)
    assert out["state"] == "closed" and out["due"] == "2026-06-10"
    one = clue_service.get_clue(u(), clue_id=ca, enterprise=A, now=NOW)
    assert [(h["action"], h["from_state"], h["to_state"], h["actor"]) for h in one["history"]] \
        == [("open", None, "found", "system"), ("send", "found", "sent", "officer"),
            ("rectify", "sent", "rectified", "trader1"),
            ("reject", "rectified", "sent", "officer"),
            ("rectify", "sent", "rectified", "trader1"),
            ("verify", "rectified", "verified", "officer2"),
            ("close", "verified", "closed", "officer")]
    assert one["history"][3]["note"] == "no calibration record"
    assert one["evidence"] == {"hours": 6, "value": "12.5"}
    with pytest.raises(ClueTransitionRefused):
        clue_service.send(u(), clue_id=ca, due=date(2026, 6, 10), message="again",
                          actor="officer", now=NOW)
    # filters and pagination
    assert clue_service.list_clues(u(), state="closed")["total"] == 1
    page = clue_service.list_clues(u(), offset=1, limit=1)
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["id"] == ca
    with pytest.raises(BadClue):
        clue_service.list_clues(u(), state="lost")
    # overdue: B's clue sent with a due date that then passes
    clue_service.send(u(), clue_id=cb, due=date(2026, 6, 2), message="m", actor="officer",
                      now=NOW)
    assert clue_service.get_clue(u(), clue_id=cb, now=NOW + timedelta(days=3))["overdue"]


def test_manual_clue(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    out = clue_service.open_manual(platform.uow(), permit=codes["B"], pollutant="so2",
                                   description="complaint: black smoke at night",
                                   actor="officer", now=NOW)
    assert out["kind"] == "manual" and out["pollutant"] == "SO2" and out["enterprise"] == B
    assert out["evidence"]["description"] == "complaint: black smoke at night"
    with pytest.raises(ClueUnknownPermit):
        clue_service.open_manual(platform.uow(), permit="X", description="d", actor="o")
    with pytest.raises(BadClue):
        clue_service.open_manual(platform.uow(), permit=codes["B"], description=" ",
                                 actor="o")


# concurrency (PostgreSQL): the alert and clue row locks serialise checks and steps -------
def test_concurrent_checks_and_steps_do_not_duplicate(pg_platform) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    platform = pg_platform
    codes = _confirmed_spine(platform)
    aid = alert_service.declare_alert(platform.uow(), level="red", zones=["ZA1"],
                                      first_day=date(2026, 6, 1), last_day=date(2026, 6, 5),
                                      actor="officer", now=NOW)["id"]
    _monitor(platform, [(codes[t], "DA001", "SO2", date(2026, 6, d), 99_000)
                        for t in ("A", "B") for d in (1, 2, 3)])
    later = NOW + timedelta(days=3)
    with ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda _i: alert_service.check_alerts(
            platform.uow(), alert_id=aid if _i % 2 else None, now=later), range(6)))
    # 3 day breaches each for A and B, and one month breach each
    assert sum(r["new_breaches"] for r in runs) == 8
    assert alert_service.alert_breaches(platform.uow(), alert_id=aid)["total"] == 8
    assert clue_service.list_clues(platform.uow())["total"] == 8

    cid = clue_service.list_clues(platform.uow(), enterprise=A)["items"][0]["id"]
    clue_service.send(platform.uow(), clue_id=cid, due=date(2026, 6, 10), message="m",
                      actor="officer", now=later)

    def rectify(i: int) -> str:
        try:
            clue_service.rectify(platform.uow(), clue_id=cid, note=f"n{i}", actor="t",
                                 enterprise=A, now=later)
        except ClueTransitionRefused:
            return "refused"
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(rectify, range(4)))
    assert outcomes == ["ok", "refused", "refused", "refused"]
    hist = clue_service.get_clue(platform.uow(), clue_id=cid)["history"]
    assert [h["action"] for h in hist] == ["open", "send", "rectify"]
