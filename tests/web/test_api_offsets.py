"""Every time the API answers carries its offset (issue 18: "the API keeps ISO 8601").

SQLite hands datetime columns back naive; PostgreSQL with `+00:00`. Whatever the database, an
instant in a JSON answer of /api/v1 is ISO 8601 with an explicit offset (naive is UTC): the
walk GETs every API route of the app as every kind of user over the demo municipality with a
few objects added (the fixture of the no-GET-writes walk), and fails naming each value, at its
JSON path, that is an ISO date-time without an offset. Days (`2026-12-06`) are not instants
and stay as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.test_no_get_writes import demo, get_routes, urls  # noqa: F401 (a fixture)
from web.api.instants import with_offsets

pytestmark = pytest.mark.db

USERS = ["anonymous", "officer", "admin", "district_officer", "enforcer", "analyst", "trader1"]
#: an ISO 8601 date-time (date and time of day; "T" or a space between them)
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                          r"(?P<offset>Z|[+-]\d{2}:?\d{2})?")


def naive_times(value: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    """(JSON path, value) of every string in `value` that is an ISO date-time without an
    offset, at any depth (object keys too)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from naive_times(k, f"{where}.<key>")
            yield from naive_times(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from naive_times(v, f"{where}[{i}]")
    elif isinstance(value, str):
        m = ISO_DATETIME.fullmatch(value)
        if m is not None and m.group("offset") is None:
            yield where, value


def test_the_finder_tells_instants_with_and_without_offset() -> None:
    doc = {"a": "2026-12-06T01:00:00", "b": "2026-12-06T01:00:00+00:00",
           "c": ["2026-12-06 01:00:00.123456", "2026-12-06T01:00:00Z", "2026-12-06"],
           "2026-12-06T01:00": 1, "d": "note: 2026-12-06T01:00:00", "e": None}
    assert sorted(naive_times(doc)) == [("$.<key>", "2026-12-06T01:00"),
                                        ("$.a", "2026-12-06T01:00:00"),
                                        ("$.c[0]", "2026-12-06 01:00:00.123456")]


def test_the_body_rewrite_touches_naive_instants_only() -> None:
    doc = {"at": "2026-12-06T01:00:00", "us": "2026-12-06T01:00:00.250000",
           "aware": "2026-12-06T01:00:00+00:00", "z": "2026-12-06T01:00:00Z",
           "day": "2026-12-06", "bj": "2026-12-06 09:00", "n": 20261206,
           "list": ["2026-12-06T01:00:00", {"x": "2026-12-06T01:00:00"}],
           "text": 'said: "2026-12-06T01:00:00", then ["2026-12-06T01:00:00"]',
           "2026-12-06T01:00:00": "a key", "none": None}
    for body in (json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                 json.dumps(doc, indent=2)):
        out = json.loads(with_offsets(body.encode()))
        assert out == {**doc, "at": "2026-12-06T01:00:00+00:00",
                       "us": "2026-12-06T01:00:00.250000+00:00",
                       "list": ["2026-12-06T01:00:00+00:00", {"x": "2026-12-06T01:00:00+00:00"}]}
        assert [p for p, _v in naive_times(out) if p != "$.<key>"] == ["$.bj"]


def test_the_middleware_rewrites_whole_json_answers_of_the_api_only() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    from web.api.instants import InstantOffsets

    naive = {"at": "2026-12-06T01:00:00"}

    def stream(request: Any) -> StreamingResponse:
        return StreamingResponse(iter([b'[{"at":"2026-12-06T01:00:00"}', b"]"]),
                                 media_type="application/json")

    app = Starlette(routes=[
        Route("/api/v1/x", lambda request: JSONResponse(naive)),
        Route("/api/v1/text", lambda request: PlainTextResponse('{"at":"2026-12-06T01:00:00"}')),
        Route("/api/v1/stream", stream),
        Route("/page", lambda request: JSONResponse(naive))])
    app.add_middleware(InstantOffsets)
    with TestClient(app) as c:
        r = c.get("/api/v1/x")
        assert r.json() == {"at": "2026-12-06T01:00:00+00:00"}
        assert int(r.headers["content-length"]) == len(r.content)
        assert c.get("/api/v1/text").text == '{"at":"2026-12-06T01:00:00"}'
        assert c.get("/api/v1/stream").json() == [naive]  # streamed: as it is
        assert c.get("/page").json() == naive  # not the API


def test_every_api_time_carries_an_offset(app: Any, demo: dict[str, Any]) -> None:  # noqa: F811
    found: dict[tuple[str, str], str] = {}
    reached = 0
    with TestClient(app, raise_server_exceptions=False) as client:
        for path, query_names in get_routes(app):
            if not path.startswith("/api/"):
                continue
            for url in urls(path, query_names, demo):
                for who in USERS:
                    headers = ({} if who == "anonymous"
                               else {"Authorization": f"Bearer {demo['tokens'][who]}"})
                    r = client.get(url, headers=headers, follow_redirects=False)
                    if r.status_code != 200 or "json" not in r.headers.get("content-type",
                                                                           ""):
                        continue
                    reached += 1
                    for where, value in naive_times(r.json()):
                        found.setdefault((path, re.sub(r"\[\d+\]", "[]", where)),
                                         f"{value} ({who}: {url})")
    assert reached > 100  # the walk reached the routes' use cases, not only refusals
    assert not found, "API times without an offset:\n" + "\n".join(
        f"  {path} {where}: {value}" for (path, where), value in sorted(found.items()))
