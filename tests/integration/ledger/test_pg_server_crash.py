"""Opt-in (ERTS_SERVER_CRASH_TEST=1): kill -9 a PostgreSQL *server* mid-load and restart it.

A private cluster is made with initdb in a temporary directory (as the `postgres` user when
run as root), loaded by `crash_loader`, then the postmaster and every backend are killed
with SIGKILL at once and the server is restarted (crash recovery replays the WAL). Every
acknowledged transfer must be there, no linked batch half-applied, and verify must pass.
Off by default: it needs the server binaries and ~15 s (the shared test server is never
touched); the app-server crash test (`test_server_crash.py`) runs by default.

Why `pg_ctl start` used to fail after the kill: the killed postmaster is not our child
(pg_ctl daemonises it), so it is reaped by PID 1, which here takes a second or more; until
then it is a zombie, `kill(pid, 0)` still succeeds, and the new postmaster refuses to start
("lock file postmaster.pid already exists ... Is another postmaster (PID n) running"). The
test now waits until every killed process is gone before restarting.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ledger import service as ledger
from ledger.store import LedgerStore
from tests.integration.ledger.test_pg_stress import cash_accounts

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("ERTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
pytestmark = pytest.mark.skipif(os.environ.get("ERTS_SERVER_CRASH_TEST") != "1",
                                reason="opt-in: set ERTS_SERVER_CRASH_TEST=1")


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gone(pid: int) -> bool:
    """True once the process no longer exists (a zombie, not yet reaped, still counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _wait_gone(pids: list[int], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(_gone(p) for p in pids):
        assert time.monotonic() < deadline, f"killed processes still exist: {pids}"
        time.sleep(0.1)


def test_server_killed_mid_load_keeps_every_ack() -> None:
    from app.migrate import upgrade
    from app.settings import Settings
    from app.wiring import build

    if not (BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {BIN}")
    d = Path(tempfile.mkdtemp(prefix="erts-pgcrash-"))
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    data, port = d / "data", _free_port()
    ctl = [str(BIN / "pg_ctl"), "-D", str(data), "-o", f"-p {port} -k {d}", "-l",
           str(d / "log"), "-w"]
    subprocess.run(_as_pg([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                           "postgres"]), check=True, capture_output=True)
    subprocess.run(_as_pg([*ctl, "start"]), check=True, capture_output=True)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        upgrade(url)
        p = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
        accounts = cash_accounts(p, 8, 10**9)
        p.close()
        proc = subprocess.Popen([sys.executable, "-m", "tests.integration.ledger.crash_loader",
                                 url, *map(str, accounts)], cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(200)]
        pm = int((data / "postmaster.pid").read_text().split()[0])
        kids = subprocess.run(["pgrep", "-P", str(pm)], capture_output=True,
                              text=True).stdout.split()
        killed = [pm, *map(int, kids)]
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        lines += proc.stdout.read().splitlines()
        proc.wait()
        _wait_gone(killed)
        subprocess.run(_as_pg([*ctl, "start"]), check=True, capture_output=True)
        acks = [ln.split()[1:] for ln in lines if ln.startswith("ACK")]
        p = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
        with p.uow() as uow:
            ids = {e.id for e in LedgerStore(uow.session).journal()}
        assert len(acks) > 100
        assert all(set(pair) <= ids for pair in acks), "an acknowledged transfer was lost"
        loaded = {i for i in ids if not i.startswith("dep")}
        assert all({s + "-a", s + "-b"} <= loaded for s in {i[:-2] for i in loaded})
        assert ledger.verify(p.uow()).ok
        p.close()
    finally:
        subprocess.run(_as_pg([*ctl[:-1], "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
