"""schemathesis over the OpenAPI schema, against a live server (uvicorn on 127.0.0.1) with
data: the spine municipality, users of every role, confirmed rights, a resting order and a
trade. Requests carry an administrator's token (and, for the trading operations, a
trader's). Checks: no 5xx, every status and content type documented, every response body
valid against its schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.integration.paid_use_support import fund_and_pay

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from allocation import service as alloc
    from app.migrate import upgrade
    from app.settings import Settings
    from app.wiring import build
    from identity import service as identity
    from tests.e2e.conftest import LiveServer
    from tests.integration.spine import A, B, build_spine
    from trading import service as trading
    from web.app import create_app

    path = tmp_path_factory.mktemp("schema") / "schema.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    platform = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
    codes = build_spine(platform)
    with platform.uow() as uow:
        mid = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    identity.create_user(platform.uow(), username="admin", display_name="Admin",
                         role="bureau_admin", password="pw-admin-long")
    identity.create_user(platform.uow(), username="trader_a", display_name="A",
                         role="trader", password="pw-trader-long", enterprise=A)
    identity.set_approval_policy(platform.uow(), tx_type="confirmation", required=False,
                                 actor="test")
    for permit in (codes["A"], codes["B"]):
        alloc.confirm_rights(platform.uow(), permit=permit, pollutant="SO2", year=2026,
                             actor="test")
        fund_and_pay(platform, permit)  # tradable once the paid-use fee is paid
    alloc.verify_surplus(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=2000, actor="test")
    trading.place_order(platform.uow(), trading.PlaceOrder(A, codes["A"], mid, "sell", 500,
                                                           300_000), permits=platform.permits,
                        actor="test")
    trading.place_order(platform.uow(), trading.PlaceOrder(B, codes["B"], mid, "buy", 200,
                                                           300_000), permits=platform.permits,
                        actor="test")
    server = LiveServer(create_app(platform.settings, platform), platform)
    server.start()
    server.admin = identity.create_token(  # type: ignore[attr-defined]
        platform.uow(), owner=identity.principal_of(platform.uow(), "admin"), name="st")[0]
    server.trader = identity.create_token(  # type: ignore[attr-defined]
        platform.uow(), owner=identity.principal_of(platform.uow(), "trader_a"), name="st")[0]
    yield server
    server.stop()
    platform.close()


# these would lock the test's own credentials out halfway through the run
SELF_LOCKOUT = {"/api/v1/users/{username}/active", "/api/v1/tokens/{token_id}/revoke"}
TRADER_OPS = {"/api/v1/orders", "/api/v1/orders/{order_id}/cancel"}


def _runner(op: Any, token: str, checks: list[Any]) -> Any:
    from hypothesis import given

    @given(case=op.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def run(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)

    return run


def test_api_conforms_to_its_schema(live_api: Any) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(f"{live_api.url}/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SELF_LOCKOUT:
            continue
        token = live_api.trader if op.path in TRADER_OPS else live_api.admin

        ran += 1
        try:
            _runner(op, token, checks)()
        except Exception as exc:  # collect every operation's failure, then report
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert ran >= 25
    assert failures == [], "\n\n".join(failures)
