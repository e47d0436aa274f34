"""A database that drops or refuses connections (a restart: the pool has no pre-ping; too
many clients; a lock given up) answers 503 `database_unavailable` with Retry-After, on the
API and on the pages, never a 500. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from allocation import service as alloc

pytestmark = pytest.mark.db


def _dropped(*_a: Any, **_k: Any) -> Any:
    raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))


def test_a_dropped_connection_answers_503_with_a_stable_code(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(alloc, "search_enterprises", _dropped)
    r = client.get("/api/v1/enterprises")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"] == "database_unavailable"
    monkeypatch.setattr(alloc, "registry_summary", _dropped)
    r = client.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 503 and "database_unavailable" in r.text
    monkeypatch.undo()
    assert client.get("/api/v1/enterprises").status_code == 200  # the next request is served
