"""schemathesis over the notification and workbench routes (against the live server of
tests/web/test_schema.py), as an administrator and as a trader: no 5xx, every status
documented, bodies as documented."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from tests.web.test_schema import _runner, live_api  # noqa: E402, F401

pytestmark = pytest.mark.db

MINE = ("/api/v1/notifications", "/api/v1/workbench")


def test_notification_routes_conform_to_the_schema(live_api: Any) -> None:  # noqa: F811
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
        if not op.path.startswith(MINE):
            continue
        for token in (live_api.admin, live_api.trader):
            ran += 1
            try:
                _runner(op, token, checks)()
            except Exception as exc:  # collect every operation's failure, then report
                failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert ran == 6
    assert failures == [], "\n\n".join(failures)
