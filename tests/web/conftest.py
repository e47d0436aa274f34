"""Web test fixtures: the app on the per-test database, users of every role, bearer tokens
and logged-in browsers (TestClients with a session cookie).

Users (password "pw-" + username): officer, officer2 (bureau_officer), admin (bureau_admin),
analyst, trader_a (enterprise A), trader_b (enterprise B). `spine` builds the tiny
municipality of tests/integration/spine.py first, because traders need their enterprises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache

import pytest
from fastapi.testclient import TestClient

from tests.integration.spine import A, B, build_spine

USERS = {
    "officer": ("bureau_officer", None),
    "officer2": ("bureau_officer", None),
    "admin": ("bureau_admin", None),
    "analyst": ("analyst", None),
    "trader_a": ("trader", A),
    "trader_b": ("trader", B),
}
ROLE_USER = {"bureau_officer": "officer", "bureau_admin": "admin", "analyst": "analyst",
             "trader": "trader_a"}
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@cache
def password_hash(username: str) -> str:
    from identity.passwords import hash_password

    return hash_password("pw-" + username)


@pytest.fixture
def app(platform):  # type: ignore[no-untyped-def]
    from web.app import create_app

    return create_app(platform.settings, platform)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An anonymous client (no credentials)."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def spine(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from identity import service as identity
    from trading import service as trading

    codes = build_spine(platform)
    with platform.uow() as uow:
        codes["market"] = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    for name, (role, enterprise) in USERS.items():
        identity.create_user(platform.uow(), username=name, display_name=name.title(),
                             role=role, password="", enterprise=enterprise,
                             password_hash=password_hash(name))
    return codes


@pytest.fixture
def tokens(platform, spine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A bearer token per user."""
    from identity import service as identity

    out = {}
    for name in USERS:
        principal = identity.principal_of(platform.uow(), name)
        out[name] = identity.create_token(platform.uow(), owner=principal, name="test")[0]
    return out


@pytest.fixture
def auth(tokens) -> Callable[[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """auth("officer") → headers with that user's bearer token."""
    return lambda name: {"Authorization": f"Bearer {tokens[name]}"}


@pytest.fixture
def one_officer(platform, spine) -> None:  # type: ignore[no-untyped-def]
    """Confirmations take effect without a second officer (the default asks for one)."""
    from identity import service as identity

    identity.set_approval_policy(platform.uow(), tx_type="confirmation", required=False,
                                 actor="test")


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(c: TestClient, username: str, password: str | None = None) -> TestClient:
    page = c.get("/login")
    r = c.post("/login", data={"username": username,
                               "password": password or "pw-" + username,
                               "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


class Browser:
    """A logged-in TestClient that fills in the CSRF token of the page it last loaded."""

    def __init__(self, client: TestClient) -> None:
        self.c = client
        self.csrf = ""

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        r = self.c.get(url, **kw)
        m = CSRF_RE.search(r.text)
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, url: str, data: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
        if not self.csrf:
            self.get("/")
        return self.c.post(url, data={**(data or {}), "csrf_token": self.csrf}, **kw)


@pytest.fixture
def browser(app, spine) -> Iterator[Callable[[str], Browser]]:  # type: ignore[no-untyped-def]
    """browser("trader_a") → a logged-in Browser for that user."""
    opened: list[TestClient] = []

    def make(name: str) -> Browser:
        c = TestClient(app)
        c.__enter__()
        opened.append(c)
        login(c, name)
        return Browser(c)

    yield make
    for c in opened:
        c.__exit__(None, None, None)
