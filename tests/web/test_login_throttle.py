"""Log-in throttling under attack (issue 19): the limits hold under concurrent attempts on
SQLite and PostgreSQL; failures from one address cannot lock a user out from another; the
client address comes from X-Forwarded-For only when the peer is a configured trusted proxy,
the same for the throttle, sessions and the audit log, and `erts serve` agrees."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from identity import passwords
from identity import service as identity
from identity.errors import InvalidCredentials, TooManyAttempts
from identity.tables import AuditRow, LoginAttemptRow, SessionRow
from tests.web.conftest import csrf_of, password_hash
from web.auth import forwarded_client

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _nets(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip()) for p in spec.split(","))


# the client address, pure --------------------------------------------------------------

def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert forwarded_client("127.0.0.1", ["6.6.6.6"], ()) == "127.0.0.1"
    assert forwarded_client("192.0.2.1", ["6.6.6.6"], _nets("10.0.0.0/8")) == "192.0.2.1"


def test_a_trusted_proxy_names_the_nearest_untrusted_hop() -> None:
    trusted = _nets("10.0.0.0/8, ::1")
    assert forwarded_client("10.0.0.2", ["198.51.100.7"], trusted) == "198.51.100.7"
    # the client may write anything left of what our proxy appended
    assert forwarded_client("10.0.0.2", ["6.6.6.6, 198.51.100.7"], trusted) == "198.51.100.7"
    assert forwarded_client("10.0.0.2", ["6.6.6.6", "198.51.100.7, 10.1.1.1"],
                            trusted) == "198.51.100.7"
    # ports, brackets, IPv6 and IPv4-mapped addresses
    assert forwarded_client("::1", ["[2001:db8::5]:443"], trusted) == "2001:db8::5"
    assert forwarded_client("10.0.0.2", ["198.51.100.7:5555"], trusted) == "198.51.100.7"
    assert forwarded_client("::ffff:10.0.0.2", ["198.51.100.9"], trusted) == "198.51.100.9"
    # garbage ends the walk at the last address a trusted hop vouched for
    assert forwarded_client("10.0.0.2", ["<script>, 10.1.1.1"], trusted) == "10.1.1.1"
    assert forwarded_client("10.0.0.2", [], trusted) == "10.0.0.2"


# concurrency, on both databases --------------------------------------------------------

@pytest.fixture
def admin(platform) -> str:  # type: ignore[no-untyped-def]
    identity.create_user(platform.uow(), username="admin", display_name="Admin",
                         role="bureau_admin", password="", password_hash=password_hash("admin"))
    return "admin"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords checked against a hash, in order (thread-safe)."""
    seen: list[str] = []
    lock = threading.Lock()
    real = passwords.verify_password

    def counting(stored: str, password: str) -> bool:
        with lock:
            seen.append(password)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return seen


def _storm(platform: Any, n: int, attempt: Callable[[int], dict[str, Any]]) -> list[str]:
    """n log-ins released at once from n threads; each one's outcome."""
    gate = threading.Barrier(n)

    def one(i: int) -> str:
        kwargs = attempt(i)
        gate.wait()
        try:
            identity.login(platform.uow(), user_agent="storm", session_hours=1.0, **kwargs)
        except InvalidCredentials:
            return "wrong"
        except TooManyAttempts as exc:
            assert exc.retry_after >= 1
            return "limited"
        return "ok"

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _attempts_recorded(platform: Any, **where: str) -> int:
    with platform.uow() as uow:
        q = select(func.count()).select_from(LoginAttemptRow)
        for name, value in where.items():
            q = q.where(getattr(LoginAttemptRow, name) == value)
        return int(uow.session.scalar(q) or 0)


@pytest.mark.db
def test_forty_parallel_wrong_passwords_check_only_five(platform, admin, checks) -> None:  # type: ignore[no-untyped-def]
    out = _storm(platform, 40, lambda i: dict(username="admin", password=f"guess-{i}",
                                              ip="203.0.113.1", now=NOW))
    assert (out.count("wrong"), out.count("limited")) == (5, 35)
    assert len(checks) == 5
    assert _attempts_recorded(platform, username="admin") == 5
    # the right password from that address is refused too, without being checked
    with pytest.raises(TooManyAttempts) as exc:
        identity.login(platform.uow(), username="admin", password="pw-admin",
                       ip="203.0.113.1", user_agent=None, session_hours=1.0,
                       now=NOW + timedelta(minutes=1))
    assert 14 * 60 <= exc.value.retry_after <= 15 * 60
    assert len(checks) == 5


@pytest.mark.db
def test_parallel_guesses_over_many_users_from_one_address_stop_at_its_limit(  # type: ignore[no-untyped-def]
        platform, checks) -> None:
    limits = identity.LoginLimits(per_ip=8)
    out = _storm(platform, 24, lambda i: dict(username=f"user{i}", password="x",
                                              ip="203.0.113.9", limits=limits, now=NOW))
    assert (out.count("wrong"), out.count("limited")) == (8, 16)
    assert len(checks) == 8 == _attempts_recorded(platform, ip="203.0.113.9")


@pytest.mark.db
def test_a_guess_spread_over_many_addresses_is_slowed_not_locked(  # type: ignore[no-untyped-def]
        platform, admin, checks) -> None:
    limits = identity.LoginLimits(per_user=6, slow_interval=timedelta(seconds=20))

    def login(ip: str, password: str, at: datetime) -> str:
        raw, who = identity.login(platform.uow(), username="admin", password=password, ip=ip,
                                  user_agent=None, session_hours=1.0, limits=limits, now=at)
        return who.username

    assert login("198.51.100.1", "pw-admin", NOW - timedelta(days=3)) == "admin"
    checks.clear()
    out = _storm(platform, 24, lambda i: dict(username="admin", password="x", limits=limits,
                                              ip=f"203.0.113.{i + 1}", now=NOW))
    assert (out.count("wrong"), out.count("limited")) == (6, 18)
    assert len(checks) == 6
    # a new address waits its turn: one attempt per slow interval
    with pytest.raises(TooManyAttempts) as exc:
        login("192.0.2.50", "pw-admin", NOW + timedelta(seconds=5))
    assert exc.value.retry_after == 15
    assert login("192.0.2.50", "pw-admin", NOW + timedelta(seconds=20)) == "admin"
    # the address the administrator logged in from before is not slowed at all
    assert login("198.51.100.1", "pw-admin", NOW + timedelta(seconds=21)) == "admin"


@pytest.mark.db
def test_a_right_password_resets_its_address_and_windows_end(platform, admin) -> None:  # type: ignore[no-untyped-def]
    def attempt(password: str, at: datetime, ip: str = "203.0.113.1") -> str:
        try:
            identity.login(platform.uow(), username="admin", password=password, ip=ip,
                           user_agent=None, session_hours=1.0, now=at)
        except InvalidCredentials:
            return "wrong"
        except TooManyAttempts:
            return "limited"
        return "ok"

    assert [attempt("x", NOW) for _ in range(4)] == ["wrong"] * 4
    assert attempt("pw-admin", NOW) == "ok"
    assert [attempt("x", NOW) for _ in range(6)] == ["wrong"] * 5 + ["limited"]
    assert attempt("pw-admin", NOW + timedelta(minutes=14, seconds=59)) == "limited"
    assert attempt("pw-admin", NOW + timedelta(minutes=15)) == "ok"
    # successes do not use up the address's allowance: more log-ins than the address may
    # fail, from one office address
    limits = identity.LoginLimits(per_ip=3)
    for i in range(5):
        identity.create_user(platform.uow(), username=f"clerk{i}", display_name="C",
                             role="analyst", password="", password_hash=password_hash("clerk"))
        identity.login(platform.uow(), username=f"clerk{i}", password="pw-clerk",
                       ip="198.51.100.3", user_agent=None, session_hours=1.0, limits=limits,
                       now=NOW)
    # ... so the address still has its whole allowance of failures
    for i, expected in enumerate((InvalidCredentials,) * 3 + (TooManyAttempts,)):
        with pytest.raises(expected):
            identity.login(platform.uow(), username=f"clerk{i}", password="x",
                           ip="198.51.100.3", user_agent=None, session_hours=1.0,
                           limits=limits, now=NOW)


# the page, the audit log and trusted proxies -------------------------------------------

def _post_login(c: TestClient, username: str, password: str,
                headers: dict[str, str] | None = None) -> httpx.Response:
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf_token": token},
                  headers=headers, follow_redirects=False)


@pytest.fixture
def client_at(app) -> Iterator[Callable[..., TestClient]]:  # type: ignore[no-untyped-def]
    """client_at("203.0.113.1") → a TestClient whose socket peer is that address."""
    opened: list[TestClient] = []

    def make(peer: str, on: Any = None) -> TestClient:
        c = TestClient(on or app, client=(peer, 40000))
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def _audit_ips(platform: Any) -> list[str | None]:
    with platform.uow() as uow:
        return list(uow.session.scalars(select(AuditRow.ip).where(AuditRow.action == "login")
                                         .order_by(AuditRow.id)))


@pytest.mark.db
def test_failures_from_one_address_do_not_lock_the_administrator_out_elsewhere(  # type: ignore[no-untyped-def]
        platform, admin, client_at) -> None:
    attacker, office = client_at("203.0.113.1"), client_at("198.51.100.2")
    for _ in range(5):
        r = _post_login(attacker, "admin", "guess")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = _post_login(attacker, "admin", "pw-admin")
    assert r.status_code == 429 and 14 * 60 < int(r.headers["retry-after"]) <= 15 * 60
    assert "登录失败次数过多，请在 15 分钟后重试" in r.text
    attacker.cookies.set("erts_lang", "en")
    r = _post_login(attacker, "admin", "pw-admin")
    assert r.status_code == 429 and "Too many failed log-in attempts" in r.text
    r = _post_login(office, "admin", "pw-admin")
    assert r.status_code == 303 and r.headers["location"] == "/"  # the workbench


@pytest.mark.db
def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(  # type: ignore[no-untyped-def]
        platform, admin, client_at) -> None:
    assert platform.settings.trusted_proxies == ""  # the default
    local = client_at("127.0.0.1")
    for i in range(5):
        r = _post_login(local, "admin", "guess", {"X-Forwarded-For": f"192.0.2.{i}"})
        assert r.status_code == 401
    r = _post_login(local, "admin", "pw-admin", {"X-Forwarded-For": "192.0.2.99"})
    assert r.status_code == 429
    assert set(_audit_ips(platform)) == {"127.0.0.1"}


@pytest.mark.db
def test_a_trusted_proxy_gives_the_address_to_throttle_sessions_and_audit(  # type: ignore[no-untyped-def]
        platform, admin, client_at) -> None:
    from web.app import create_app

    settings = platform.settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    proxied = create_app(settings, platform)
    proxy = client_at("10.0.0.2", proxied)
    for _ in range(5):
        assert _post_login(proxy, "admin", "guess",
                           {"X-Forwarded-For": "198.51.100.7"}).status_code == 401
    # the attacker cannot step around its counter by writing a hop of its own
    r = _post_login(proxy, "admin", "pw-admin", {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"})
    assert r.status_code == 429
    r = _post_login(proxy, "admin", "pw-admin", {"X-Forwarded-For": "198.51.100.8"})
    assert r.status_code == 303
    # a peer outside the list is the client, whatever it forwards
    stranger = client_at("192.0.2.1", proxied)
    assert _post_login(stranger, "admin", "x",
                       {"X-Forwarded-For": "198.51.100.8"}).status_code == 401
    assert _audit_ips(platform) == ["198.51.100.7"] * 6 + ["198.51.100.8", "192.0.2.1"]
    with platform.uow() as uow:
        assert list(uow.session.scalars(select(SessionRow.ip))) == ["198.51.100.8"]


def test_a_bad_trusted_proxy_entry_refuses_the_settings() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    s = Settings(ERTS_TRUSTED_PROXIES=" 10.0.0.5, 192.168.0.0/16 ,::1")  # type: ignore[call-arg]
    assert [str(n) for n in s.trusted_proxy_networks] == ["10.0.0.5/32", "192.168.0.0/16",
                                                          "::1/128"]
    with pytest.raises(ValidationError, match="'proxy.local' is not an IP address"):
        Settings(ERTS_TRUSTED_PROXIES="10.0.0.5,proxy.local")  # type: ignore[call-arg]


# `erts serve` ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _served(db: Path, trusted: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "ERTS_ENV": "test",
           "ERTS_TRUSTED_PROXIES": trusted}
    env.pop("FORWARDED_ALLOW_IPS", None)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port),
                             "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"erts serve did not start: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def _spoofed_statuses(base: str) -> list[int]:
    """Six wrong passwords from this loopback client, each claiming another address."""
    out = []
    with httpx.Client(base_url=base) as c:
        for i in range(6):
            token = csrf_of(c.get("/login").text)
            r = c.post("/login", data={"username": "nobody", "password": "x",
                                       "csrf_token": token},
                       headers={"X-Forwarded-For": f"192.0.2.{i}"})
            out.append(r.status_code)
    return out


@pytest.mark.parametrize(("trusted", "statuses"), [
    ("", [401] * 5 + [429]),              # uvicorn must not believe the header either
    ("127.0.0.1", [401] * 6),             # configured: each claimed address has its own count
])
def test_serve_believes_x_forwarded_for_only_from_configured_proxies(  # type: ignore[no-untyped-def]
        sqlite_template, tmp_path, trusted, statuses) -> None:
    db = tmp_path / "served.sqlite3"
    shutil.copy(sqlite_template, db)
    with _served(db, trusted) as base:
        assert _spoofed_statuses(base) == statuses
