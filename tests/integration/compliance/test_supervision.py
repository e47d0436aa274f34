"""Monitoring imports on a real database (SQLite and PostgreSQL): daily grams stored, all or
nothing unless partial, duplicate periods and files refused, anomalies open clues, report
checks flag deviations; the API scopes traders to their own enterprise."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from compliance.alerting.clue_store import ClueStore
from compliance.errors import DuplicateMonitoringImport, MonitoringImportRejected
from compliance.reporting import service as compliance
from compliance.supervision import supervision_service as sup
from tests.integration.spine import NOW, A, build_spine
from tests.report_fields import QUARTERLY

pytestmark = pytest.mark.db
# the spine is thermal power (reference O2 6 %): air hours carry their O2 (6: corrected =
# measured)
HEADER = ("permit,outlet,hour,flow_nm3_h,SO2_mg_m3,NOx_mg_m3,o2_pct,flow_m3_h,COD_mg_l,"
          "power_kwh\n")
AT = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def _outlets(platform, codes) -> None:  # type: ignore[no-untyped-def]
    for tag in ("A", "B"):
        compliance.register_outlet(platform.uow(), permit=codes[tag], outlet="DA001",
                                   medium="air")
        compliance.register_outlet(platform.uow(), permit=codes[tag], outlet="DW001",
                                   medium="water")


def _day(permit: str, day: str, so2: float = 20, flow: float = 100_000) -> list[str]:
    """24 air hours (NOx varying so nothing is flat) and 24 water hours of one day."""
    rows = [f"{permit},DA001,{day} {h:02d}:00,{flow + h},{so2},{30 + h},6,,,1000"
            for h in range(24)]
    rows += [f"{permit},DW001,{day} {h:02d}:00,,,,,{10 + h},{40 + h % 3},"
             for h in range(24)]
    return rows


def test_import_stores_daily_grams_and_refuses_duplicates(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    text = HEADER + "\n".join(_day(pa, "2026-06-01") + _day(pa, "2026-06-02")) + "\n"
    out = sup.import_monitoring(platform.uow(), csv_data=text, actor="officer", now=AT)
    assert (out["rows"], out["accepted"], out["rejected"], out["outlets"]) == (96, 96, 0, 2)
    assert (out["first_day"], out["last_day"]) == ("2026-06-01", "2026-06-02")
    # SO2: Σ 20 × (100 000 + h) × 1e-3 g over 24 h = 20 × (2 400 000 + 276) / 1000 = 48 005.52
    daily = sup.daily_emissions(platform.uow(), permit=pa, first=date(2026, 6, 1),
                                last=date(2026, 6, 1))
    got = {(d["outlet"], d["pollutant"]): (d["emitted_g"], d["hours"], d["power_kwh"])
           for d in daily["items"]}
    cod = sum((10 + h) * (40 + h % 3) for h in range(24))
    # NOx: Σ (30 + h)(100 000 + h) = 24 × 3e6 + 100 030 × 276 + Σh² (4 324) = 99 612 604,
    # / 1000 = 99 612.604 g
    assert sum((30 + h) * (100_000 + h) for h in range(24)) == 99_612_604
    assert got == {("DA001", "SO2"): (48_006, 24, 24_000),
                   ("DA001", "NOx"): (99_613, 24, 24_000),
                   ("DW001", "COD"): (cod, 24, 0)}
    totals = sup.monitoring_totals(platform.uow(), permit=pa, first=date(2026, 6, 1),
                                   last=date(2026, 6, 30))
    so2 = next(t for t in totals["lines"] if t["pollutant"] == "SO2")
    # each day rounded once: 2 × 48 006 g
    assert (so2["emitted_g"], so2["kg"], so2["days"], so2["hours"]) == (96_012, 96, 2, 48)

    # the same file again, and another file with an imported day
    with pytest.raises(DuplicateMonitoringImport):
        sup.import_monitoring(platform.uow(), csv_data=text, actor="officer", now=AT)
    again = HEADER + "\n".join(_day(pa, "2026-06-02")[:1] + _day(pa, "2026-06-03")[:1])
    with pytest.raises(MonitoringImportRejected) as exc:
        sup.import_monitoring(platform.uow(), csv_data=again, actor="officer", now=AT)
    assert exc.value.details["errors"] == [
        {"line": 2, "field": "hour", "detail": f"2026-06-02 already imported for {pa} DA001"}]
    out = sup.import_monitoring(platform.uow(), csv_data=again, actor="officer",
                                partial=True, now=AT)
    assert (out["accepted"], out["rejected"], out["daily_rows"]) == (1, 1, 2)  # SO2, NOx
    listed = sup.imports(platform.uow())
    assert listed["total"] == 2 and listed["items"][0]["errors"][0]["line"] == 2


def test_all_or_nothing_unless_partial(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    rows = _day(pa, "2026-06-01")
    rows[3] = rows[3].replace(",20,", ",-20,")  # line 5
    text = HEADER + "\n".join(rows) + "\n"
    with pytest.raises(MonitoringImportRejected) as exc:
        sup.import_monitoring(platform.uow(), csv_data=text, actor="officer", now=AT)
    assert exc.value.details["errors"] == [
        {"line": 5, "field": "SO2_mg_m3", "detail": "must not be negative"}]
    assert exc.value.details["error_count"] == 1
    assert sup.imports(platform.uow())["total"] == 0
    assert sup.daily_emissions(platform.uow(), permit=pa, first=date(2026, 6, 1),
                               last=date(2026, 6, 1))["total"] == 0
    out = sup.import_monitoring(platform.uow(), csv_data=text, actor="officer", partial=True,
                                now=AT)
    assert (out["accepted"], out["rejected"]) == (47, 1)
    daily = sup.daily_emissions(platform.uow(), permit=pa, first=date(2026, 6, 1),
                                last=date(2026, 6, 1))
    # the rejected hour is a missing hour: substituted (HJ 75) and flagged, not dropped
    # (the old expectation, 23 hours, left it uncounted)
    assert {d["pollutant"]: (d["hours"], d["substituted_hours"]) for d in daily["items"]} == {
        "SO2": (24, 1), "NOx": (24, 1), "COD": (24, 0)}


def test_anomalies_open_clues_and_a_trader_imports_only_its_own(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa, pb = codes["A"], codes["B"]
    rows = _day(pa, "2026-06-01", so2=60)  # above the thermal-power ultra-low 35 mg/Nm3
    text = HEADER + "\n".join(rows) + "\n"
    out = sup.import_monitoring(platform.uow(), csv_data=text, actor="trader_a",
                                enterprise=A, now=AT)
    # SO2 all day above 35 (and flat at 60), NOx 51-53 mg/Nm3 in hours 21-23 (limit 50)
    assert out["anomaly_kinds"] == {"exceedance": 2, "flat_line": 1}
    assert len(out["clues"]) == 3
    with platform.uow() as uow:
        found, total = ClueStore(uow.session).search(permit=pa)
        assert total == 3
        nox = next(c for c in found if c.kind == "exceedance" and c.pollutant == "NOx")
        assert nox.evidence["hours"] == 3 and nox.evidence["peak"] == "53"
        ex = next(c for c in found if c.kind == "exceedance" and c.pollutant == "SO2")
        assert (ex.outlet, ex.pollutant, ex.state) == ("DA001", "SO2", "found")
        assert ex.evidence["hours"] == 24 and ex.evidence["limit"] == "35"
        assert ex.source == f"monitoring import #{out['id']}"
    assert sup.imports(platform.uow(), enterprise=A)["total"] == 1
    assert sup.imports(platform.uow(), enterprise="nobody")["total"] == 0
    theirs = HEADER + "\n".join(_day(pb, "2026-06-01")[:1]) + "\n"
    with pytest.raises(MonitoringImportRejected) as exc:
        sup.import_monitoring(platform.uow(), csv_data=theirs, actor="trader_a",
                              enterprise=A, now=AT)
    assert exc.value.details["errors"][0]["detail"] == f"unknown permit {pb}"


def test_report_check_flags_deviations(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    days = [f"2026-04-{d:02d}" for d in range(1, 11)]
    text = HEADER + "\n".join(r for d in days for r in _day(pa, d)) + "\n"
    sup.import_monitoring(platform.uow(), csv_data=text, actor="officer", now=AT)
    # monitored Q2: SO2 10 × 48 005.52 g = 480 kg; COD 10 × cod g
    compliance.submit_report(platform.uow(), permit=pa, year=2026, period="Q2", lines=[
        {"outlet": "DA001", "pollutant": "SO2", "quantity": "500", "unit": "kg"},
        {"outlet": "DA001", "pollutant": "NOx", "quantity": "1", "unit": "kg"},
        {"outlet": "DA001", "pollutant": "PM", "quantity": "3", "unit": "kg"}],
        details=QUARTERLY, actor="officer", now=AT)  # filed after Q2 has ended
    out = sup.check_reports(platform.uow(), permit=pa, year=2026, period="Q2",
                            actor="officer", now=AT)
    by = {ln["pollutant"]: ln for ln in out["lines"]}
    assert (by["SO2"]["monitored_kg"], by["SO2"]["status"], by["SO2"]["deviation_pct"]) == (
        480, "ok", "4.17")
    # (1 - 996) / 996
    assert by["NOx"]["status"] == "deviation" and by["NOx"]["deviation_pct"] == "-99.90"
    assert by["PM"]["status"] == "no_monitoring_data" and by["PM"]["monitored_kg"] is None
    assert by["SO2"]["hours"] == 240 and by["SO2"]["period_hours"] == 91 * 24
    assert out["deviations"] == 1
    strict = sup.check_reports(platform.uow(), permit=pa, year=2026, period="Q2",
                               actor="officer", tolerance_pct="1", now=AT)
    assert strict["deviations"] == 2  # replaces the previous check
    listed = sup.report_checks(platform.uow(), permit=pa)
    assert listed["total"] == 3
    assert sup.report_checks(platform.uow(), enterprise=A, status="deviation")["total"] == 2


def test_supervision_api(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    pa, pb = spine["A"], spine["B"]
    officer, ta, tb = auth("officer"), auth("trader_a"), auth("trader_b")
    for permit in (pa, pb):
        r = client.post("/api/v1/compliance/outlets", headers=officer,
                        json={"permit": permit, "outlet": "DA001", "medium": "air"})
        assert r.status_code == 201, r.text
    text = HEADER + "\n".join(_day(pa, "2026-06-01")[:24]) + "\n"
    bad = text.replace("2026-06-01 05:00", "2026-06-01 05:30")
    r = client.post("/api/v1/monitoring/imports", headers=ta, json={"csv": bad})
    assert r.status_code == 422 and r.json()["error"] == "monitoring_import_rejected"
    assert r.json()["errors"] == [{"line": 7, "field": "hour",
                                   "detail": "hour must be on the hour (minute 00)"}]
    r = client.post("/api/v1/monitoring/imports", headers=tb, json={"csv": text})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "permit"
    r = client.post("/api/v1/monitoring/imports", headers=ta, json={"csv": text})
    assert r.status_code == 201, r.text
    assert r.json()["accepted"] == 24 and r.json()["enterprise"] == A
    # the same file from the trader again is a duplicate; from the bureau it supersedes
    r = client.post("/api/v1/monitoring/imports", headers=ta, json={"csv": text})
    assert r.status_code == 409 and r.json()["error"] == "duplicate_monitoring_import"
    r = client.post("/api/v1/monitoring/imports", headers=officer, json={"csv": text})
    assert r.status_code == 201 and r.json()["superseded"]["by_this"] == 2  # SO2, NOx
    q = f"permit={pa}&first=2026-06-01&last=2026-06-30"
    assert client.get(f"/api/v1/monitoring/daily?{q}", headers=tb).status_code == 404
    r = client.get(f"/api/v1/monitoring/daily?{q}", headers=ta)
    assert r.status_code == 200 and {d["pollutant"] for d in r.json()["items"]} == {
        "SO2", "NOx"}
    r = client.get(f"/api/v1/monitoring/totals?{q}", headers=officer)
    assert [t["kg"] for t in r.json()["lines"] if t["pollutant"] == "SO2"] == [48]
    r = client.get(f"/api/v1/monitoring/daily?permit={pa}&first=2026-06-02&last=2026-06-01",
                   headers=ta)
    assert r.status_code == 422 and r.json()["error"] == "bad_monitoring_query"
    assert client.get("/api/v1/monitoring/imports", headers=tb).json()["total"] == 0
    assert client.get("/api/v1/monitoring/imports", headers=officer).json()["total"] == 2
    r = client.post("/api/v1/monitoring/report-checks", headers=officer,
                    json={"permit": pa, "year": 2026, "period": "Q2"})
    assert r.status_code == 404 and r.json()["error"] == "report_not_found"
    r = client.post("/api/v1/monitoring/report-checks", headers=ta,
                    json={"permit": pa, "year": 2026, "period": "Q2"})
    assert r.status_code == 403


def test_an_import_checks_heavy_pollution_alert_caps(platform) -> None:  # type: ignore[no-untyped-def]
    from allocation import service as alloc
    from compliance.alerting import alert_service

    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                         actor="officer", now=NOW)
    alert = alert_service.declare_alert(platform.uow(), level="red", zones=["ZA1"],
                                        first_day=date(2026, 6, 1),
                                        last_day=date(2026, 6, 5), actor="officer", now=NOW)
    caps = alert_service.alert_caps(platform.uow(), alert_id=alert["id"])["items"]
    cap = next(c["daily_cap_kg"] for c in caps if c["permit"] == pa)
    # 48 kg of SO2 on 1 June (see above) is far above the red-alert daily cap
    assert 0 < cap < 48
    text = HEADER + "\n".join(_day(pa, "2026-06-01")) + "\n"
    out = sup.import_monitoring(platform.uow(), csv_data=text, actor="officer", now=AT)
    assert out["alert_breaches"] >= 1
    breaches = alert_service.alert_breaches(platform.uow(), alert_id=alert["id"])["items"]
    assert (pa, "day", "2026-06-01", 48_006) in {
        (b["permit"], b["period"], b["day"], b["emitted_g"]) for b in breaches}
    # a second, unrelated import finds nothing new to flag
    again = HEADER + "\n".join(_day(pa, "2026-06-20")) + "\n"
    assert sup.import_monitoring(platform.uow(), csv_data=again, actor="officer",
                                 now=AT)["alert_breaches"] == 0


def test_hj75_mass_from_measured_gaps_substituted_and_o2_required(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    head = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,SO2_ref_mg_m3,o2_pct\n"
    # measured 20 at 13.5 % O2: corrected to 6 % = 40 (above the ultra-low 35); hours
    # 10-12 missing
    rows = [f"{pa},DA001,2026-06-05 {h:02d}:00,100000,20,40,13.5" for h in range(24)
            if h not in (10, 11, 12)]
    out = sup.import_monitoring(platform.uow(), csv_data=head + "\n".join(rows) + "\n",
                                actor="officer", now=AT)
    assert out["substituted_hours"] == 3 and out["anomaly_kinds"]["exceedance"] == 2
    (d,) = sup.daily_emissions(platform.uow(), permit=pa, first=date(2026, 6, 5),
                               last=date(2026, 6, 5))["items"]
    assert (d["emitted_g"], d["hours"], d["substituted_hours"]) == (48_000, 24, 3)
    t = sup.monitoring_totals(platform.uow(), permit=pa, first=date(2026, 6, 5),
                              last=date(2026, 6, 5))["lines"][0]
    assert (t["kg"], t["substituted_hours"]) == (48, 3)
    # a thermal-power air hour without O2 or a corrected value: refused naming o2_pct
    bad = f"permit,outlet,hour,flow_nm3_h,SO2_mg_m3\n{pa},DA001,2026-06-06 00:00,1000,5\n"
    with pytest.raises(MonitoringImportRejected) as exc:
        sup.import_monitoring(platform.uow(), csv_data=bad, actor="officer", now=AT)
    assert exc.value.details["errors"][0]["field"] == "o2_pct"
    assert sup.daily_emissions(platform.uow(), permit=pa, first=date(2026, 6, 6),
                               last=date(2026, 6, 6))["total"] == 0
