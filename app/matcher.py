"""The matching process of `erts serve --workers N` and its supervision.

`run_matcher(path)` is the process: it builds the platform from `Settings`, warms every
market's book from the persisted orders (so the first orders do not pay the rebuild), and
serves `trading.matcher.MatcherServer` on the Unix socket `path` until terminated.

`MatcherSupervisor` (in `erts serve`) starts it, waits until it listens, and restarts it
whenever it exits (killed, or crashed) until the server stops; the web workers reconnect on
their own (`trading.matcher.MatcherClient`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from identity.store import audit_sink

log = logging.getLogger("erts.matcher")


def warm_books(platform: Any) -> int:
    """Build every market's book now (from the persisted resting orders); returns how many."""
    from trading.service import warm_books as build

    with platform.uow() as uow:
        return build(uow)


def run_matcher(path: str) -> None:
    from app.settings import Settings
    from app.wiring import build, settle_heap
    from trading.matcher import MatcherServer
    from trading.pipeline import STATS, OrderPipeline

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     matcher %(message)s")
    platform = build(Settings())
    pipe = OrderPipeline(platform.uow, platform.permits, audit=audit_sink)
    server = MatcherServer(path, pipe)
    began = time.perf_counter()
    books = warm_books(platform)
    STATS.rebuilds = 0  # the warm-up builds are the start, not rebuilds
    server.bind()
    settle_heap()
    log.info("pid %d: %d books built from the persisted orders in %.0f ms; listening on %s",
             os.getpid(), books, (time.perf_counter() - began) * 1000, path)

    def stop(*_: object) -> None:
        server.close()
        platform.close()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)  # from the supervisor, after the web workers stopped
    # Ctrl-C reaches the whole process group: the matcher outlives the web workers' last
    # requests and stops when the supervisor says so
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server.serve_forever()


class MatcherSupervisor:
    """Runs `python -m app.matcher PATH` and starts it again whenever it exits."""

    def __init__(self, path: str, *, start_timeout: float = 120.0) -> None:
        self.path = path
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "app.matcher", self.path])

    def _wait_listening(self, proc: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and proc.poll() is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.path)
                return True
            except OSError:
                time.sleep(0.05)
            finally:
                s.close()
        return False

    def start(self) -> None:
        """Start the matcher and wait until it listens (raises if it cannot start)."""
        self.proc = self._spawn()
        if not self._wait_listening(self.proc):
            self.proc.kill()
            raise RuntimeError("the matching process did not start")
        self._thread = threading.Thread(target=self._watch, daemon=True,
                                        name="matcher-supervisor")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            proc = self.proc
            assert proc is not None
            code = proc.wait()
            if self._stop.is_set():
                return
            self.restarts += 1
            log.warning("the matching process exited (%s); starting it again", code)
            time.sleep(0.1)
            self.proc = self._spawn()
            self._wait_listening(self.proc)

    def stop(self) -> None:
        self._stop.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


if __name__ == "__main__":
    run_matcher(sys.argv[1])
