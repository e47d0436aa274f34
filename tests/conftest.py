"""Test databases: every `db` test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL in the same run. The schema always comes from the Alembic migrations.

Each test gets a fresh database copied from a migrated template (a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL), so tests are isolated and services may commit.
Outside CI a missing PostgreSQL skips with its reason; inside CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.migrate import upgrade

IN_CI = os.environ.get("CI", "").lower() == "true"
#: the app's auction-schedule tick is off in tests: they call run_due_auctions with their `now`
os.environ.setdefault("ERTS_AUCTION_TICK_SECONDS", "0")


def _pg_admin_url(url: str) -> str:
    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)
                 if url.startswith("postgresql://") else url)
    return u.set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[str, str]]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        msg = "TEST_DATABASE_URL is not set: PostgreSQL variant not run"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    admin = create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    name = f"erts_tpl_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at TEST_DATABASE_URL: {exc}")
        pytest.skip(f"PostgreSQL unreachable at TEST_DATABASE_URL: {exc}")
    tpl_url = make_url(_pg_admin_url(url)).set(database=name).render_as_string(
        hide_password=False)
    upgrade(tpl_url)
    yield name, _pg_admin_url(url)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database URL for one test."""
    if request.param == "sqlite":
        tpl: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copy(tpl, path)
        yield f"sqlite:///{path}"
        return
    yield from _pg_copy(request)


def _pg_copy(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database copied from the migrated template, dropped afterwards."""
    name, admin_url = request.getfixturevalue("pg_template")
    db = f"erts_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{db}" TEMPLATE "{name}"'))
    yield make_url(admin_url).set(database=db).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated PostgreSQL database (PostgreSQL-only tests). Skips with the reason
    outside CI when PostgreSQL is missing; fails inside CI (through `pg_template`)."""
    yield from _pg_copy(request)


def _platform(url: str):  # type: ignore[no-untyped-def]
    from app.settings import Settings
    from app.wiring import build

    p = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
    yield p
    p.close()


@pytest.fixture
def platform(db_url: str):  # type: ignore[no-untyped-def]
    yield from _platform(db_url)


@pytest.fixture
def pg_platform(pg_url: str):  # type: ignore[no-untyped-def]
    yield from _platform(pg_url)
