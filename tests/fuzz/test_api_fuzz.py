"""schemathesis over every operation of the OpenAPI schema, in process (ASGI transport), as
an anonymous caller, an enterprise trader and a bureau officer, on SQLite and on PostgreSQL
(the `db` parametrisation; CI sets TEST_DATABASE_URL, so CI runs the PostgreSQL half).

Generated data: valid (positive) and invalid (negative) requests, strings with NUL bytes and
any unicode (schemathesis' defaults: ``allow_x00``, codec utf-8, kept explicit below).
Checks: no 5xx; every status code documented; the content type documented; every response
body valid against its schema.

Every generated case is sent as each of the three roles (generation, not sending, is what
costs). Cost is bounded and the run reproducible: `FUZZ_EXAMPLES` cases per operation and mode
(environment `ERTS_FUZZ_EXAMPLES`, default 5), Hypothesis derandomised (a fixed seed per
operation), no example database. The figures (operations, cases, server errors) are printed
as one JSON line per run and recorded as test properties; docs/fuzz.md keeps the latest.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.db

FUZZ_EXAMPLES = int(os.environ.get("ERTS_FUZZ_EXAMPLES", "5"))
ROLES = {"anonymous": None, "trader": "trader_a", "officer": "officer"}
# these would lock the run's own credentials out halfway (revoking the caller's token,
# deactivating the caller): every later case would only see 401
SELF_LOCKOUT = {("POST", "/api/v1/users/{username}/active"),
                ("POST", "/api/v1/tokens/{token_id}/revoke")}


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance]


def _run(op: Any, mode: Any, client: Any, roles: dict[str, dict[str, str]],
         tally: dict[str, Any]) -> None:
    """One Hypothesis run over `op`: every generated case is sent once per role."""
    checks = _checks()

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])  # no shrinking: report, then fix
    def run(case: Any) -> None:
        for role, headers in roles.items():
            tally["cases"] += 1
            tally["cases_by_role"][role] += 1
            response = case.call(session=client, headers=headers)
            if response.status_code >= 500:
                tally["server_errors"] += 1
            try:
                case.validate_response(response, checks=checks)
            except BaseException as exc:
                exc.add_note(f"as {role}")
                raise

    run()


def test_every_operation_survives_hostile_input(app, tokens, db_url: str,  # type: ignore[no-untyped-def]
                                                 record_property: Any,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode
    from schemathesis.python import asgi

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(allow_x00=True, codec="utf-8")
    roles = {role: ({"Authorization": f"Bearer {tokens[user]}"} if user else {})
             for role, user in ROLES.items()}
    tally: dict[str, Any] = {"operations": 0, "cases": 0, "server_errors": 0,
                             "no_negative_case": 0, "cases_by_role": dict.fromkeys(ROLES, 0)}
    failures: list[str] = []
    slowest: list[tuple[float, str]] = []
    started = time.perf_counter()
    operations = [r.ok() for r in schema.get_all_operations()]
    with asgi.get_client(app) as client:  # one in-process client for the whole run
        for op in operations:
            if (op.method.upper(), op.path) in SELF_LOCKOUT:
                continue
            tally["operations"] += 1
            op_started = time.perf_counter()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _run(op, mode, client, roles, tally)
                except Unsatisfiable:  # nothing to break: no parameter, body or constraint
                    tally["no_negative_case"] += 1
                except (Exception, BaseExceptionGroup) as exc:  # all failures, one report
                    notes = " ".join(getattr(exc, "__notes__", []))
                    failures.append(f"{op.method.upper()} {op.path} [{mode.value}] {notes}: "
                                    f"{str(exc)[:1200]}")
            slowest.append((round(time.perf_counter() - op_started, 2),
                            f"{op.method.upper()} {op.path}"))
    figures = {"figure": "api_fuzz", "db": "postgresql" if db_url.startswith("postgresql")
               else "sqlite", "roles": list(ROLES), **tally,
               "examples_per_operation_and_mode": FUZZ_EXAMPLES,
               "seconds": round(time.perf_counter() - started, 1),
               "slowest": sorted(slowest, reverse=True)[:5]}
    for key, value in figures.items():
        record_property(key, value)
    with capsys.disabled():
        print("\n" + json.dumps(figures))
    assert tally["operations"] >= 100
    assert tally["server_errors"] == 0, "\n\n".join(failures)
    assert failures == [], "\n\n".join(failures)
