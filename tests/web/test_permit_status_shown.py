"""An expired permit is shown expired everywhere (issue 18): every page and API response that
shows a permit's status takes it from allocation.register.permit_status (valid / expired /
revoked / cancelled at today's date in Beijing), never the stored status alone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from allocation.register import permit_status
from kernel.beijing import beijing_today
from tests.integration.spine import A

pytestmark = pytest.mark.db


def test_permit_status_at_beijing_today() -> None:
    # 20:00 UTC on 31 Dec is already 1 Jan in Beijing: a permit valid to 31 Dec has expired
    late = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert permit_status("valid", date(2026, 12, 31), late) == "expired"
    assert permit_status("valid", date(2026, 12, 31), late - timedelta(hours=8)) == "valid"
    assert permit_status("revoked", date(2030, 1, 1), late) == "revoked"
    assert permit_status("cancelled", date(2020, 1, 1), late) == "cancelled"


@pytest.fixture
def expired(platform, spine) -> str:  # type: ignore[no-untyped-def]
    """Permit A's last valid day was yesterday (Beijing); its stored status still says valid."""
    from allocation.tables import PermitRow

    yesterday = beijing_today() - timedelta(days=1)
    with platform.uow() as uow:
        uow.session.execute(sa.update(PermitRow).where(PermitRow.code == spine["A"])
                            .values(valid_from=yesterday - timedelta(days=365),
                                    valid_to=yesterday))
        uow.commit()
    return str(spine["A"])


def _section(html: str, permit: str) -> str:
    m = re.search(rf'<section class="permit" id="permit-{permit}">(.*?)</section>', html, re.S)
    assert m, f"no section of {permit}"
    return m.group(1)


def test_pages_show_expired(client, browser, expired) -> None:  # type: ignore[no-untyped-def]
    pages = [(client, f"/public/enterprises/{A}"),
             (browser("officer"), f"/enterprises/{A}"),
             (browser("trader_a"), f"/enterprises/{A}")]
    for who, url in pages:
        r = who.get(url)
        assert r.status_code == 200, url
        meta = _section(r.text, expired).split("</p>")[0]
        assert "已过期" in meta, (url, meta)
        assert "有效</" not in meta and "· 有效" not in meta, (url, meta)


def test_english_page_shows_expired(client, expired) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("erts_lang", "en")
    meta = _section(client.get(f"/public/enterprises/{A}").text, expired).split("</p>")[0]
    assert "expired" in meta.lower() and "Permit valid" not in meta


def test_api_shows_expired(client, auth, expired) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"/api/v1/permits/{expired}").json()["status"] == "expired"
    detail = client.get(f"/api/v1/enterprises/{A}", headers=auth("officer")).json()
    assert {p["code"]: p["status"] for p in detail["permits"]}[expired] == "expired"
    feed = client.get("/api/v1/public/permits", params={"limit": 500}).json()["items"]
    assert {p["code"]: p["status"] for p in feed}[expired] == "expired"
    reg = client.get(f"/api/v1/permits/{expired}/register", headers=auth("officer")).json()
    assert reg["status"] == "expired"
