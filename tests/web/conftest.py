from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.spine import build_spine


@pytest.fixture
def client(platform):  # type: ignore[no-untyped-def]
    from web.app import create_app

    app = create_app(platform.settings, platform)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def spine(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    from trading import service as trading

    with platform.uow() as uow:
        codes["market"] = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    return codes
