"""End-to-end harness: a live uvicorn server on 127.0.0.1 (a free port) over a migrated
SQLite database with the spine municipality and one user per role, driven by Debian's
chromium through Playwright (launched by `executable_path`; `playwright install` is never
run). Screenshots go to tests/e2e/screenshots/ (git-ignored).

Outside CI a missing chromium or playwright skips with the reason; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("ERTS_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any, platform: Any) -> None:
        import uvicorn

        self.platform = platform
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from app.migrate import upgrade
    from app.settings import Settings
    from app.wiring import build
    from identity import service as identity
    from tests.integration.spine import A, B, build_spine
    from trading import service as trading
    from web.app import create_app

    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    platform = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
    codes = build_spine(platform)
    with platform.uow() as uow:
        trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    for name, role, ent in (("officer", "bureau_officer", None),
                            ("admin", "bureau_admin", None), ("analyst", "analyst", None),
                            ("trader_a", "trader", A), ("trader_b", "trader", B)):
        identity.create_user(platform.uow(), username=name, display_name=name,
                             role=role, password="pw-" + name, enterprise=ent)
    server = LiveServer(create_app(platform.settings, platform), platform)
    server.codes = codes  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()
    platform.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() and not shutil.which(CHROMIUM):
        _unavailable(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # pragma: no cover - depends on the machine
        pw.stop()
        _unavailable(f"chromium did not start: {exc}")
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    ctx = browser.new_context(base_url=live.url, locale="zh-CN")
    p = ctx.new_page()
    p.set_default_timeout(15_000)
    yield p
    ctx.close()


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    return out


def log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.click("#login-submit")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:500]
