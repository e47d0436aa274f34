"""The compliance walk of docs/tour.md on the demo municipality, as its users click it, in Chinese
and in English (SQLite and PostgreSQL): a trader files the 2025 annual report above its
permit's 2025 permitted quantity (its rights for 2025 are not confirmed: the permit quantity
binds anyway), the officer runs the 2025 true-up (the year and its deadline have passed),
decides the penalty within the Art. 34 range with the Chinese legal basis, and the public
finds the decision without logging in."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from allocation import service as alloc
from app.demo import load_demo
from compliance.enforcement import disclosure_service
from compliance.reporting.tables import OutletRow
from tests.web.conftest import Browser, login
from tests.web.flash_support import notice_has

pytestmark = pytest.mark.db
WATER = ("COD", "NH3-N")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_readme_compliance_walk(platform, app, lang: str) -> None:  # type: ignore[no-untyped-def]
    load_demo(platform, seed=7, enterprises=40)

    def user(name: str) -> Browser:
        c = TestClient(app)
        c.__enter__()
        login(c, name, "demo")
        if lang == "en":
            c.get("/lang/en")
        return Browser(c)

    trader = user("trader1")
    code = re.search(r"/enterprises/([0-9A-Z]{18})", trader.get("/").text).group(1)  # type: ignore[union-attr]
    page = trader.get(f"/enterprises/{code}/reports")
    assert page.status_code == 200
    form = page.text.split('id="report-form"')[1].split("</form>")[0]
    # a permit code standing alone, with a letter in it (a random token of the form, all
    # digits, once matched the bare pattern)
    found = re.findall(r"(?<![0-9A-Za-z_-])(?=[0-9]*[A-Z])[0-9A-Z]{18}[0-9]{3}[0-9A-Z]"
                       r"(?![0-9A-Za-z_-])", form)
    assert found, form[:1500]
    permit = found[0]
    q = next(x for x in alloc.permit_view(platform.uow(), permit)["quantities"]  # type: ignore[attr-defined]
             if x["year"] == 2025)
    assert not q["confirmed"] and q["permitted_kg"] > 0  # binds from issuance
    with platform.uow() as uow:
        outlets = {o.medium: o.code for o in uow.session.query(OutletRow).filter_by(
            permit=permit)}
    outlet = outlets["water" if q["pollutant"] in WATER else "air"]
    r = trader.post(f"/enterprises/{code}/reports", data=dict(
        permit=permit, year="2025", period="Y", outlet=outlet, pollutant=q["pollutant"],
        quantity=str(q["permitted_kg"] + 5000), unit="kg", operating_hours="8000",
        output="1000", output_unit="t", capacity="2000", facility_normal_hours="8000",
        facility_abnormal_hours="0", abnormal_reason="", monitoring_samples="12",
        monitoring_exceedances="0", records_kept="true", tax_paid="100.00",
        commitment="on", commitment_by="张三"), follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    # 2026 has not ended: its annual report is refused
    r = trader.post(f"/enterprises/{code}/reports", data=dict(
        permit=permit, year="2026", period="Y", outlet=outlet, pollutant=q["pollutant"],
        quantity="1", unit="kg", commitment="on", commitment_by="张三"),
        follow_redirects=False)
    assert r.status_code == 422

    officer = user("officer")
    officer.get("/bureau/compliance?year=2025")
    r = officer.post("/bureau/compliance/true-ups", data={"permit": permit, "year": "2025"},
                     follow_redirects=False)
    assert r.status_code == 303 and "msg=" not in r.headers["location"], r.text[:500]
    # held server-side
    assert notice_has(officer, r, "violation", "Violation", "违法", "违规", "缺口", "超")
    page = officer.get(r.headers["location"])
    vio = page.text.split('id="violations"')[1].split("</table>")[0]
    assert permit in vio and "5.000" in vio and "200,000.00 – 1,000,000.00" in vio
    assert ("第三十四条" in vio) == (lang == "zh")

    vid = next(v["id"] for v in disclosure_service.violations(platform.uow())["items"]
               if v["permit"] == permit)
    officer.get("/bureau/penalties")
    r = officer.post("/bureau/penalties", data=dict(
        violation=str(vid), number="渝环罚〔2026〕1号", amount_yuan="15000",
        decided_on="2026-12-01", legal_basis="", summary="超许可排放量排放"),
        follow_redirects=False)
    assert r.status_code == 422  # below the Art. 34 range
    r = officer.post("/bureau/penalties", data=dict(
        violation=str(vid), number="渝环罚〔2026〕1号", amount_yuan="250000",
        decided_on="2026-12-01", legal_basis="", summary="超许可排放量排放"),
        follow_redirects=False)
    assert r.status_code == 303, r.text[:500]

    public = TestClient(app)
    if lang == "en":
        public.get("/lang/en")
    pub = public.get("/public/penalties")
    assert pub.status_code == 200 and "渝环罚〔2026〕1号" in pub.text
    assert "《排污许可管理条例》第三十四条" in pub.text  # the basis, as decided, in Chinese
