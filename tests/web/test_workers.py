"""`erts serve --workers 2` on one PostgreSQL database, as in production: a real server
process with its matcher, driven over HTTP.

- Orders placed through either web worker meet in the one book the matcher owns: both
  workers handed it orders, they traded with each other, and no book was rebuilt.
- kill -9 of a web worker, then of the matcher, in the middle of a load: every order the
  clients got a 201 for is in the database afterwards; the others got a 503
  `matcher_unavailable` or lost their connection (never a 500, never a hang); the matcher is
  started again and rebuilds its book from the persisted orders.

PostgreSQL only (`pg_url`: skipped outside CI without TEST_DATABASE_URL, failing in CI).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from allocation import service as alloc
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B, build_spine
from trading import service as trading
from trading.matcher import MatcherClient
from trading.tables import OrderRow, TradeRow

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.db


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base: str
    tokens: dict[str, str]
    permits: dict[str, str]
    market: str
    url: str

    def children(self) -> dict[int, list[bytes]]:
        """pid -> command line of the server's child processes (workers, the matcher)."""
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                cmd = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                out[int(d)] = cmd
        return out

    def matcher(self) -> tuple[int, str]:
        for pid, cmd in self.children().items():
            if b"app.matcher" in cmd:
                return pid, cmd[cmd.index(b"app.matcher") + 1].decode()
        raise AssertionError("no matcher process")

    def workers(self) -> list[int]:
        return [pid for pid, cmd in self.children().items()
                if any(b"spawn_main" in part for part in cmd)]  # uvicorn's, by multiprocessing

    def stats(self) -> dict[str, Any]:
        c = MatcherClient(self.matcher()[1], timeout=10)
        try:
            return c.stats()
        finally:
            c.close()

    def order(self, who: str, side: str, qty: int, price: int, order_id: str | None = None,
              client: httpx.Client | None = None) -> httpx.Response:
        body: dict[str, Any] = dict(permit=self.permits[who], market=self.market, side=side,
                                    qty=qty, price=price)
        if order_id:
            body["order_id"] = order_id
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if client is None:  # a new connection: the kernel gives it to either worker
            headers["Connection"] = "close"
            return httpx.post(f"{self.base}/api/v1/orders", json=body, headers=headers,
                              timeout=30)
        return client.post("/api/v1/orders", json=body, headers=headers)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not answer /healthz")


@pytest.fixture
def served(pg_platform: Any, pg_url: str) -> Iterator[Served]:
    from identity import service as identity
    from identity.passwords import hash_password

    p = pg_platform
    codes = build_spine(p)
    for permit in codes.values():
        alloc.confirm_rights(p.uow(), permit=permit, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        fund_and_pay(p, permit, NOW)
    alloc.verify_surplus(p.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=3000, actor="bureau", now=NOW)
    with p.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    tokens = {}
    for who, ent in (("A", A), ("B", B)):
        name = f"trader_{who.lower()}"
        identity.create_user(p.uow(), username=name, display_name=name, role="trader",
                             password="", enterprise=ent, password_hash=hash_password("x"))
        tokens[who] = identity.create_token(p.uow(), owner=identity.principal_of(p.uow(), name),
                                            name="t")[0]
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=pg_url, ERTS_ENV="test", PYTHONPATH=str(ROOT))
    env.pop("ERTS_MATCHER_SOCKET", None)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--workers", "2",
                             "--port", str(port), "--log-level", "warning"], env=env, cwd=ROOT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        s = Served(proc, base, tokens, codes, market, pg_url)
        deadline = time.monotonic() + 30
        while len(s.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _orders(platform: Any) -> dict[str, tuple[str, str]]:
    """client order id -> (order id, status), of the orders that carry one."""
    with platform.uow() as uow:
        rows = uow.session.execute(select(OrderRow.client_id, OrderRow.id, OrderRow.status)
                                   .where(OrderRow.client_id.is_not(None))).all()
        return {cid: (oid, status) for cid, oid, status in rows}


def test_two_workers_keep_one_book_per_market(served: Served, pg_platform: Any) -> None:
    s = served
    assert len(s.workers()) == 2
    before = s.stats()
    # A's sells and B's buys alternate, each on a new connection (either worker)
    for i in range(20):
        r = s.order("A", "sell", 10, 300_000 + 100 * i)
        assert r.status_code == 201, r.text
        r = s.order("B", "buy", 10, 400_000)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "filled", r.text
        assert r.json()["trades"][0]["price"] == 300_000 + 100 * i
    after = s.stats()
    # both web workers handed orders to the one matcher, which rebuilt no book
    assert len(set(after["clients"]) & set(s.workers())) == 2, (after, s.workers())
    assert after["rebuilds"] == before["rebuilds"] == 0
    assert after["requests"] - before["requests"] == 40
    with pg_platform.uow() as uow:
        trades = [(t.buyer, t.seller) for t in uow.session.scalars(select(TradeRow))]
    assert len(trades) == 20 and set(trades) == {(B, A)}


def test_killed_worker_and_matcher_lose_no_acknowledged_order(served: Served,
                                                              pg_platform: Any) -> None:
    s = served
    outcomes: list[tuple[str, int | str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        who, side, price = (("A", "sell", 350_000 + n * 100) if n % 2 == 0
                            else ("B", "buy", 250_000 + n * 100))
        with httpx.Client(base_url=s.base, timeout=30) as c:
            i = 0
            while not stop.is_set():
                i += 1
                oid = f"k{n}-{i}"
                try:
                    got: int | str = s.order(who, side, 1, price, order_id=oid,
                                             client=c).status_code
                except httpx.TimeoutException:
                    got = "timeout"
                except httpx.TransportError:
                    got = "connection"  # the worker serving it was killed
                with lock:
                    outcomes.append((oid, got))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(2)
    worker = s.workers()[0]
    os.kill(worker, signal.SIGKILL)
    time.sleep(2)
    matcher_pid, _ = s.matcher()
    os.kill(matcher_pid, signal.SIGKILL)
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a client hung"
    stored = _orders(pg_platform)
    acked = [oid for oid, got in outcomes if got == 201]
    assert acked and all(oid in stored for oid in acked)
    kinds = {got for _, got in outcomes}
    assert kinds <= {201, 503, "connection"}, kinds  # never a 500, never a timeout
    # the matcher came back (a new process) with its book rebuilt from the persisted orders
    _wait_healthy(s.base, s.proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if s.matcher()[0] != matcher_pid:
                break
        except AssertionError:
            pass
        time.sleep(0.2)
    assert s.matcher()[0] != matcher_pid
    r = s.order("B", "buy", 1, 400_000)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "filled"
    with pg_platform.uow() as uow:
        sells = {t.sell_order for t in uow.session.scalars(select(TradeRow))}
    # the cheapest resting sells are client 0's (350,000), all placed before the matcher
    # died: the new matcher found them in the book it rebuilt from the database
    assert len(sells) == 1 and sells <= {oid for cid, (oid, st) in stored.items()
                                         if cid.startswith("k0-") and st == "open"}


def test_tokens_are_cached_within_the_stated_bound(platform: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A token is read once per `TOKEN_CACHE_SECONDS`: revoked in another process (here: in
    the database behind this process's back), it still works until the bound passes, then
    not; revoked through the use case in this process, it stops at once. Both DBs."""
    from sqlalchemy import update

    from identity import service as identity
    from identity.errors import NotAuthenticated
    from identity.passwords import hash_password
    from identity.tables import ApiTokenRow

    monkeypatch.setattr(identity, "TOKEN_CACHE_SECONDS", 0.3)
    build_spine(platform)
    identity.create_user(platform.uow(), username="t1", display_name="t1", role="trader",
                         password="", enterprise=A, password_hash=hash_password("x"))
    owner = identity.principal_of(platform.uow(), "t1")
    raw, made = identity.create_token(platform.uow(), owner=owner, name="one")
    assert identity.token_principal(platform.uow(), raw).username == "t1"
    with platform.uow() as uow:  # another process revokes it
        uow.session.execute(update(ApiTokenRow).where(ApiTokenRow.id == made["id"])
                            .values(revoked_at=NOW))
        uow.commit()
    assert identity.token_principal(platform.uow(), raw).username == "t1"  # within the bound
    time.sleep(0.35)
    with pytest.raises(NotAuthenticated):
        identity.token_principal(platform.uow(), raw)
    # revoked here: at once, though just cached
    raw2, made2 = identity.create_token(platform.uow(), owner=owner, name="two")
    assert identity.token_principal(platform.uow(), raw2).username == "t1"
    identity.revoke_token(platform.uow(), viewer=owner, token_id=made2["id"])
    with pytest.raises(NotAuthenticated):
        identity.token_principal(platform.uow(), raw2)


def test_orders_without_their_matcher_get_503(platform: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A web worker whose matcher is not running answers 503 `matcher_unavailable` within
    the connect bound (nothing was placed), never a 500 or a hang. Both DBs."""
    from fastapi.testclient import TestClient

    from identity import service as identity
    from identity.passwords import hash_password
    from trading import matcher
    from web.app import create_app

    monkeypatch.setattr(matcher, "CONNECT_WAIT", 0.3)
    monkeypatch.setenv(matcher.SOCKET_ENV, str(tmp_path / "gone.sock"))
    codes = build_spine(platform)
    identity.create_user(platform.uow(), username="t1", display_name="t1", role="trader",
                         password="", enterprise=B, password_hash=hash_password("x"))
    raw = identity.create_token(platform.uow(), owner=identity.principal_of(platform.uow(),
                                                                            "t1"),
                                name="t")[0]
    with TestClient(create_app(platform.settings, platform)) as client:
        began = time.monotonic()
        r = client.post("/api/v1/orders", headers={"Authorization": f"Bearer {raw}"},
                        json=dict(permit=codes["B"], market="SO2/ZA1/2026", side="buy",
                                  qty=10, price=300_000))
        assert time.monotonic() - began < 5
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "matcher_unavailable"
    with platform.uow() as uow:
        assert uow.session.scalars(select(OrderRow)).all() == []


def test_tokens_due_are_read_again_in_one_statement_within_the_bound(
        platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`identity.refresh_tokens`: the cached tokens used in the second half of their time
    are read again in one statement; those still valid are trusted for a whole bound from
    that read, a token revoked meanwhile leaves the cache and is refused; a refresh that
    began before this process revoked a token does not put it back. Both DBs."""
    from sqlalchemy import event, update

    from identity import service as identity
    from identity.errors import NotAuthenticated
    from identity.passwords import hash_password
    from identity.store import IdentityStore
    from identity.tables import ApiTokenRow

    bound = identity.TOKEN_CACHE_SECONDS

    def age(raw: str) -> None:  # three quarters of the token's time gone
        key = identity.digest(raw)
        _until, expires, principal = identity._TOKENS[key]
        identity._TOKENS[key] = (time.monotonic() + 0.25 * bound, expires, principal)

    build_spine(platform)
    identity.create_user(platform.uow(), username="t1", display_name="t1", role="trader",
                         password="", enterprise=A, password_hash=hash_password("x"))
    owner = identity.principal_of(platform.uow(), "t1")
    made = [identity.create_token(platform.uow(), owner=owner, name=f"n{i}")
            for i in range(3)]
    raws = [raw for raw, _ in made]
    for raw in raws:
        identity.token_principal(platform.uow(), raw)
    assert all(identity.cached_token_principal(r) for r in raws)
    assert not identity.tokens_due()  # fresh: nothing to read again yet
    for raw in raws:
        age(raw)
        assert identity.cached_token_principal(raw) is not None  # still trusted, now due
    assert identity.tokens_due()
    with platform.uow() as uow:  # another process revokes the second
        uow.session.execute(update(ApiTokenRow).where(ApiTokenRow.id == made[1][1]["id"])
                            .values(revoked_at=NOW))
        uow.commit()
    statements: list[str] = []
    with platform.uow() as uow:
        engine = uow.session.get_bind()

    def seen(_c: Any, _cur: Any, sql: str, *_a: Any) -> None:
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", seen)
    began = time.monotonic()
    try:
        assert identity.refresh_tokens(platform.uow()) == 3
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "api_token" in s]) == 1, statements
    assert not identity.tokens_due()
    for raw in (raws[0], raws[2]):  # a whole bound from the refresh's read
        assert identity._TOKENS[identity.digest(raw)][0] >= began + bound
        assert identity.cached_token_principal(raw) is not None
    assert identity.cached_token_principal(raws[1]) is None
    with pytest.raises(NotAuthenticated):
        identity.token_principal(platform.uow(), raws[1])
    # this process revokes a token while a refresh of it is reading: the refresh's answer
    # is dropped, and the token is refused at once
    age(raws[0])
    assert identity.cached_token_principal(raws[0]) is not None and identity.tokens_due()
    read = IdentityStore.tokens_with_users

    def revoked_meanwhile(self: Any, hashes: Any) -> Any:
        got = read(self, hashes)
        identity.forget_tokens()  # what revoke_token does once its revocation committed
        return got

    monkeypatch.setattr(IdentityStore, "tokens_with_users", revoked_meanwhile)
    identity.refresh_tokens(platform.uow())
    assert identity.cached_token_principal(raws[0]) is None
