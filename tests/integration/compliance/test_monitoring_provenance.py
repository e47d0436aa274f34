"""Monitoring provenance and authority on a real database (SQLite and PostgreSQL): a
trader's import cannot block the bureau's (issue 19's reproduction), the bureau's data
supersedes the enterprise's for the same outlet-day with both kept, voiding is recorded and
restores what it superseded, hours in the future or outside the permit and absurd
magnitudes are row errors (never 500), requests are capped per role, and a district
officer lists only its district's imports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import select

from compliance.errors import (
    MonitoringImportNotFound,
    MonitoringImportRejected,
    MonitoringImportTooLarge,
    MonitoringImportVoided,
    MonitoringSourceNotAllowed,
)
from compliance.supervision import supervision_service as sup
from compliance.supervision.supervision_tables import MonitoringDailyRow, MonitoringImportRow
from tests.integration.compliance.test_supervision import HEADER, _day, _outlets
from tests.integration.spine import A, build_spine

pytestmark = pytest.mark.db
AT = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
D1 = date(2026, 6, 1)


def _details(exc: Any) -> dict[str, Any]:
    return cast(dict[str, Any], exc.value.details)


def _so2_total(platform, permit: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    t = sup.monitoring_totals(platform.uow(), permit=permit, first=D1, last=date(2026, 6, 30))
    line = next(x for x in t["lines"] if x["outlet"] == "DA001" and x["pollutant"] == "SO2")
    return line["emitted_g"], line["days"]


def _rows(platform, permit: str) -> list[tuple[int, str, int | None, bool]]:  # type: ignore[no-untyped-def]
    M = MonitoringDailyRow
    with platform.uow() as uow:
        return [tuple(r) for r in uow.session.execute(  # type: ignore[misc]
            select(M.import_id, M.source, M.superseded_by, M.voided)
            .where(M.permit == permit, M.outlet == "DA001", M.pollutant == "SO2",
                   M.day == D1).order_by(M.import_id))]


def test_bureau_supersedes_enterprise_and_void_restores(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    fake = HEADER + "\n".join(_day(pa, "2026-06-01", so2=1)) + "\n"
    real = HEADER + "\n".join(_day(pa, "2026-06-01", so2=20)) + "\n"
    # the trader imports a day of its own outlet first (any source it asks is refused)
    with pytest.raises(MonitoringSourceNotAllowed):
        sup.import_monitoring(platform.uow(), csv_data=fake, actor="trader_a", enterprise=A,
                              source="bureau", now=AT)
    ent = sup.import_monitoring(platform.uow(), csv_data=fake, actor="trader_a",
                                enterprise=A, now=AT)
    assert ent["source"] == "enterprise" and ent["district"] == "D01"
    assert _so2_total(platform, pa) == (2_400, 1)  # 1 mg × ~100 000 Nm3 × 24 h
    # the bureau's import of the real data for that day is accepted and supersedes it
    bur = sup.import_monitoring(platform.uow(), csv_data=real, actor="officer", now=AT)
    assert bur["source"] == "bureau" and bur["superseded"]["by_this"] == 3  # SO2, NOx, COD
    assert _so2_total(platform, pa) == (48_006, 1)
    # both kept, the enterprise's marked
    assert _rows(platform, pa) == [(ent["id"], "enterprise", bur["id"], False),
                                   (bur["id"], "bureau", None, False)]
    daily = sup.daily_emissions(platform.uow(), permit=pa, first=D1, last=D1)
    assert {(d["source"], d["import_id"]) for d in daily["items"]} == {("bureau", bur["id"])}
    # same authority: a second bureau import of the day is "already imported"
    with pytest.raises(MonitoringImportRejected) as exc:
        sup.import_monitoring(platform.uow(), csv_data=real.replace(",20,", ",21,"),
                              actor="officer", source="automatic", now=AT)
    assert _details(exc)["errors"][0]["detail"].endswith(f"already imported for {pa} "
                                                             "DA001")
    # the trader's same-day import again: already imported (its own, superseded, is live)
    with pytest.raises(MonitoringImportRejected):
        sup.import_monitoring(platform.uow(), csv_data=fake.replace(",1,", ",2,"),
                              actor="trader_a", enterprise=A, now=AT)

    # voiding the bureau's import: recorded, its rows stop counting, the enterprise's count
    with pytest.raises(MonitoringImportNotFound):
        sup.void_import(platform.uow(), import_id=bur["id"] + 100, actor="officer",
                        reason="x", now=AT)
    out = sup.void_import(platform.uow(), import_id=bur["id"], actor="officer2",
                          reason="wrong analyser calibration", now=AT)
    assert (out["voided_rows"], out["restored_rows"]) == (3, 3)  # SO2, NOx, COD
    assert (out["voided_by"], out["void_reason"]) == ("officer2", "wrong analyser calibration")
    assert out["voided_at"] == AT.isoformat()
    assert _so2_total(platform, pa) == (2_400, 1)
    assert _rows(platform, pa) == [(ent["id"], "enterprise", None, False),
                                   (bur["id"], "bureau", None, True)]
    with pytest.raises(MonitoringImportVoided):
        sup.void_import(platform.uow(), import_id=bur["id"], actor="officer", reason="again",
                        now=AT)
    # nothing deleted; the corrected file may now be imported (the same bytes too)
    with platform.uow() as uow:
        assert uow.session.get(MonitoringImportRow, bur["id"]) is not None
    again = sup.import_monitoring(platform.uow(), csv_data=real, actor="officer",
                                 source="automatic", now=AT)
    assert again["source"] == "automatic" and again["superseded"]["by_this"] == 3
    assert _so2_total(platform, pa) == (48_006, 1)
    # voiding the enterprise's import touches only its rows
    sup.void_import(platform.uow(), import_id=ent["id"], actor="officer", reason="fake",
                    now=AT)
    assert _so2_total(platform, pa) == (48_006, 1)
    listed = {i["id"]: i for i in sup.imports(platform.uow())["items"]}
    assert listed[ent["id"]]["voided_by"] == "officer" and listed[again["id"]]["voided_at"] \
        is None


def test_enterprise_after_bureau_is_stored_superseded(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    real = HEADER + "\n".join(_day(pa, "2026-06-01")) + "\n"
    mine = HEADER + "\n".join(_day(pa, "2026-06-01", so2=1) + _day(pa, "2026-06-02", so2=1))
    bur = sup.import_monitoring(platform.uow(), csv_data=real, actor="officer", now=AT)
    ent = sup.import_monitoring(platform.uow(), csv_data=mine, actor="trader_a",
                                enterprise=A, now=AT)
    # the bureau's day is kept superseded, the other day counts
    assert ent["rejected"] == 0 and ent["superseded"]["stored_superseded"] == 3
    assert _rows(platform, pa) == [(bur["id"], "bureau", None, False),
                                   (ent["id"], "enterprise", bur["id"], False)]
    assert _so2_total(platform, pa) == (48_006 + 2_400, 2)
    # the same bytes from the bureau are not a duplicate of the trader's file
    sup.void_import(platform.uow(), import_id=bur["id"], actor="officer", reason="r", now=AT)
    assert _so2_total(platform, pa) == (2_400 + 2_400, 2)


def test_future_early_out_of_permit_and_absurd_values_are_row_errors(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    lines = [f"{pa},DA001,2099-01-01 00:00,100000,20,30,6,,,",   # future and past validity
             f"{pa},DA001,1990-01-01 00:00,100000,20,30,6,,,",   # before the permit
             f"{pa},DA001,0001-01-01 00:00,100000,20,30,6,,,",   # before 1990
             f"{pa},DA001,2026-07-01 10:00,100000,20,30,6,,,",   # hour not ended (now 10:00)
             f"{pa},DA001,2026-06-03 00:00,1e14,1e10,30,6,,,",   # flow too large
             f"{pa},DA001,2026-06-03 01:00,1e8,2e6,30,6,,,",     # concentration too large
             f"{pa},DW001,2026-06-03 01:00,,,,,1e8,1e6,",        # water product too large
             f"{pa},DA001,2026-06-03 02:00,100000,20,30,6,,,1e12",  # power
             f"{pa},DA001,2026-07-01 09:00,100000,20,30,6,,,"]   # ended at 10:00 CST: valid
    with pytest.raises(MonitoringImportRejected) as exc:
        sup.import_monitoring(platform.uow(), csv_data=HEADER + "\n".join(lines),
                              actor="officer", now=AT)
    errors = _details(exc)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [
        (2, "hour"), (3, "hour"), (4, "hour"), (5, "hour"), (6, "flow_nm3_h"),
        (7, "SO2_mg_m3"), (8, "COD_mg_l"), (9, "power_kwh")]
    assert "has not ended" in errors[0]["detail"]
    assert "outside the validity of permit" in errors[1]["detail"]
    assert "2025-01-01 to 2029-12-31" in errors[1]["detail"]
    assert errors[2]["detail"] == "hour must be 1990-01-01 or later"
    assert "has not ended" in errors[3]["detail"]
    out = sup.import_monitoring(platform.uow(), csv_data=HEADER + "\n".join(lines),
                                actor="officer", partial=True, now=AT)
    assert (out["accepted"], out["rejected"]) == (1, 8)


def test_size_caps_per_role(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    row = f"{pa},DA001,2026-06-01 00:00,1,1,1,6,,,\n"
    big = HEADER + row * 100_001
    with pytest.raises(MonitoringImportTooLarge) as exc:
        sup.import_monitoring(platform.uow(), csv_data=big, actor="trader_a", enterprise=A,
                              now=AT)
    assert _details(exc)["limit"] == 100_000 and _details(exc)["rows"] == 100_001
    # exactly at the cap the file is read (and its duplicate hours are row errors)
    with pytest.raises(MonitoringImportRejected) as rej:
        sup.import_monitoring(platform.uow(), csv_data=HEADER + row * 100_000,
                              actor="trader_a", enterprise=A, now=AT)
    assert _details(rej)["error_count"] == 99_999
    with pytest.raises(MonitoringImportTooLarge):
        sup.import_monitoring(platform.uow(), csv_data=HEADER + "x" * (16 * 2**20),
                              actor="trader_a", enterprise=A, now=AT)
    # the bureau's cap is larger: the same file is read
    with pytest.raises(MonitoringImportRejected) as rej:
        sup.import_monitoring(platform.uow(), csv_data=big, actor="officer", now=AT)
    assert _details(rej)["error_count"] == 100_000


# -------------------------------------------------------------------------------- the API

def test_api_reproduction_trader_cannot_block_bureau(client, auth, spine, platform) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    officer, ta = auth("officer"), auth("trader_a")
    r = client.post("/api/v1/compliance/outlets", headers=officer,
                    json={"permit": pa, "outlet": "DA001", "medium": "air"})
    assert r.status_code == 201, r.text
    air = [x for x in _day(pa, "2026-06-01") if ",DA001," in x]
    fake = HEADER + "\n".join(x.replace(",20,", ",1,") for x in air) + "\n"
    real = HEADER + "\n".join(air) + "\n"
    # 1990 and 2099 are refused row by row, naming the hour
    for day in ("1990-03-01", "2099-03-01"):
        bad = HEADER + "\n".join(x.replace("2026-06-01", day) for x in air) + "\n"
        r = client.post("/api/v1/monitoring/imports", headers=ta, json={"csv": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hour", r.text
    # a trader may not claim the bureau's source; the bureau may not claim the enterprise's
    r = client.post("/api/v1/monitoring/imports", headers=ta,
                    json={"csv": fake, "source": "automatic"})
    assert r.status_code == 403 and r.json()["error"] == "monitoring_source_not_allowed"
    r = client.post("/api/v1/monitoring/imports", headers=officer,
                    json={"csv": real, "source": "enterprise"})
    assert r.status_code == 403 and r.json()["field"] == "source"
    r = client.post("/api/v1/monitoring/imports", headers=ta, json={"csv": fake})
    assert r.status_code == 201 and r.json()["source"] == "enterprise"
    ent = r.json()["id"]
    r = client.post("/api/v1/monitoring/imports", headers=officer,
                    json={"csv": real, "source": "automatic"})
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "automatic" and r.json()["superseded"]["by_this"] == 2
    bur = r.json()["id"]
    q = f"permit={pa}&first=2026-06-01&last=2026-06-30"
    lines = client.get(f"/api/v1/monitoring/totals?{q}", headers=ta).json()["lines"]
    assert [t["kg"] for t in lines if t["pollutant"] == "SO2"] == [48]
    items = client.get(f"/api/v1/monitoring/daily?{q}", headers=ta).json()["items"]
    assert {(i["source"], i["import_id"]) for i in items} == {("automatic", bur)}
    # voiding: the bureau only, with a reason, audited
    path = f"/api/v1/monitoring/imports/{bur}/void"
    assert client.post(path, headers=ta, json={"reason": "mine"}).status_code == 403
    r = client.post(path, headers=officer, json={"reason": " "})
    assert r.status_code == 422
    r = client.post(path, headers=officer, json={"reason": "meter fault"})
    assert r.status_code == 200, r.text
    assert (r.json()["voided_by"], r.json()["restored_rows"]) == ("officer", 2)
    r = client.post(path, headers=officer, json={"reason": "meter fault"})
    assert r.status_code == 409 and r.json()["error"] == "monitoring_import_voided"
    r = client.post("/api/v1/monitoring/imports/999999/void", headers=officer,
                    json={"reason": "x"})
    assert r.status_code == 404 and r.json()["error"] == "monitoring_import_not_found"
    lines = client.get(f"/api/v1/monitoring/totals?{q}", headers=ta).json()["lines"]
    assert [t["kg"] for t in lines if t["pollutant"] == "SO2"] == [2]
    audit = client.get("/api/v1/audit?action=void_monitoring_import",
                       headers=auth("admin")).json()
    assert {str(bur), "999999"} <= {a["target"] for a in audit["items"]}
    listed = client.get("/api/v1/monitoring/imports", headers=ta).json()
    assert [i["id"] for i in listed["items"]] == [ent]


def test_api_overflow_and_year_one_are_422(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    officer = auth("officer")
    client.post("/api/v1/compliance/outlets", headers=officer,
                json={"permit": pa, "outlet": "DA001", "medium": "air"})
    for row in (f"{pa},DA001,2026-06-01 00:00,1e14,1e10,1,6,,,",
                f"{pa},DA001,0001-01-01 00:00,100,1,1,6,,,"):
        for partial in (False, True):
            r = client.post("/api/v1/monitoring/imports", headers=officer,
                            json={"csv": HEADER + row + "\n", "partial": partial})
            if partial:  # stored with nothing accepted, the row listed
                assert r.status_code == 201, r.text
                assert (r.json()["accepted"], r.json()["rejected"]) == (0, 1)
            else:
                assert r.status_code == 422, r.text
                assert r.json()["error"] == "monitoring_import_rejected"
            assert r.json()["errors"][0]["field"] in ("flow_nm3_h", "hour")


def test_api_row_cap_for_a_trader(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    row = f"{pa},DA001,2026-06-01 00:00,1,1,1,6,,,\n"
    r = client.post("/api/v1/monitoring/imports", headers=auth("trader_a"),
                    json={"csv": HEADER + row * 100_001})
    assert r.status_code == 422 and r.json()["error"] == "monitoring_import_too_large"
    assert r.json()["field"] == "csv"


def test_district_officer_lists_its_district(client, auth, spine, platform) -> None:  # type: ignore[no-untyped-def]
    from allocation import service as alloc
    from identity import service as identity
    from tests.web.conftest import password_hash

    alloc.register_area(platform.uow(), zones=[], districts=[("D02", "District 2", "ZA1",
                                                              "ZW1")])
    heads = {}
    for name, district in (("d01", "D01"), ("d02", "D02")):
        identity.create_user(platform.uow(), username=name, display_name=name,
                             role="bureau_officer", password="", district=district,
                             password_hash=password_hash(name))
        owner = identity.principal_of(platform.uow(), name)
        heads[name] = {"Authorization": "Bearer " + identity.create_token(
            platform.uow(), owner=owner, name="t")[0]}
    pa = spine["A"]
    officer = auth("officer")
    client.post("/api/v1/compliance/outlets", headers=officer,
                json={"permit": pa, "outlet": "DA001", "medium": "air"})
    air = [x for x in _day(pa, "2026-06-01") if ",DA001," in x]
    r = client.post("/api/v1/monitoring/imports", headers=officer,
                    json={"csv": HEADER + "\n".join(air) + "\n"})
    assert r.status_code == 201, r.text
    city = r.json()["id"]
    air2 = [x.replace("2026-06-01", "2026-06-02") for x in air]
    r = client.post("/api/v1/monitoring/imports", headers=auth("trader_a"),
                    json={"csv": HEADER + "\n".join(air2) + "\n"})
    assert r.status_code == 201, r.text
    ent = r.json()["id"]
    ids = {n: [i["id"] for i in client.get("/api/v1/monitoring/imports",
                                           headers=h).json()["items"]]
           for n, h in heads.items()}
    assert ids == {"d01": [ent, city], "d02": []}
    r = client.post(f"/api/v1/monitoring/imports/{ent}/void", headers=heads["d02"],
                    json={"reason": "not mine"})
    assert r.status_code in (403, 404)
    r = client.post(f"/api/v1/monitoring/imports/{ent}/void", headers=heads["d01"],
                    json={"reason": "checked: fake"})
    assert r.status_code == 200, r.text


# -------------------------------------------------------------------------- the migration

def _migration_urls(tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    import os
    import uuid

    from sqlalchemy import create_engine, text

    urls = [f"sqlite:///{tmp_path / 'm.sqlite3'}"]
    admin = os.environ.get("TEST_DATABASE_URL")
    if admin and admin.startswith("postgresql"):
        name = f"erts_m0025_{uuid.uuid4().hex[:10]}"
        eng = create_engine(admin.replace("postgresql://", "postgresql+psycopg://", 1),
                            isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        urls.append(admin.rsplit("/", 1)[0] + "/" + name)
    return urls


def test_migration_0025_backfills_sources_and_goes_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, inspect, text

    from app.migrate import downgrade, upgrade

    for url in _migration_urls(tmp_path):
        upgrade(url, "0024")
        eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as c:
            c.execute(text("INSERT INTO zone (code, name, medium) VALUES ('Z', 'Z', 'air')"))
            c.execute(text("INSERT INTO district (code, name, air_zone, water_zone) "
                           "VALUES ('D9', 'D9', 'Z', 'Z')"))
            for i, ent in ((1, None), (2, "91500000MA0000001X")):
                c.execute(text(
                    "INSERT INTO monitoring_import (id, sha256, actor, enterprise, at, partial, "
                    "rows, accepted, rejected, outlets, daily_rows, anomalies, errors) VALUES "
                    "(:i, :s, 'a', :e, '2026-06-01 00:00:00+00', false, 1, 1, 0, 1, 1, 0, "
                    "'[]')"), {"i": i, "s": str(i) * 64, "e": ent})
                c.execute(text(
                    "INSERT INTO monitoring_daily (permit, outlet, pollutant, day, emitted_g, "
                    "hours, power_kwh, substituted_hours, import_id) VALUES "
                    "('P', 'DA001', 'SO2', :d, 5, 1, 0, 0, :i)"),
                    {"i": i, "d": f"2026-06-0{i}"})
            c.execute(text(
                "INSERT INTO monitoring_daily (permit, outlet, pollutant, day, emitted_g, "
                "hours, power_kwh, substituted_hours, import_id) VALUES "
                "('P', 'DA001', 'SO2', '2026-06-03', 5, 1, 0, 0, NULL)"))
        eng.dispose()
        upgrade(url)
        eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.connect() as c:
            got = c.execute(text("SELECT import_id, source, authority, voided FROM "
                                 "monitoring_daily ORDER BY day")).all()
            assert [tuple(r) for r in got] == [(1, "bureau", 2, False),
                                               (2, "enterprise", 1, False),
                                               (0, "bureau", 2, False)]
            assert [tuple(r) for r in c.execute(text(
                "SELECT id, source FROM monitoring_import ORDER BY id"))] == [
                (1, "bureau"), (2, "enterprise")]
        names = {i["name"] for i in inspect(eng).get_indexes("monitoring_daily")}
        assert {"uq_monitoring_daily_live", "uq_monitoring_daily_effective"} <= names
        eng.dispose()
        downgrade(url, "0024")
        eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        cols = {c["name"] for c in inspect(eng).get_columns("monitoring_daily")}
        assert "source" not in cols and "voided" not in cols
        with eng.connect() as c:
            assert c.execute(text("SELECT count(*) FROM monitoring_daily")).scalar() == 3
        eng.dispose()
        upgrade(url)
        if url.startswith("postgresql"):
            _drop(url)


def _drop(url: str) -> None:
    import os

    from sqlalchemy import create_engine, text

    admin = os.environ["TEST_DATABASE_URL"].replace("postgresql://",
                                                    "postgresql+psycopg://", 1)
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    eng.dispose()
