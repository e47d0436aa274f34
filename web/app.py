"""`create_app(settings)`: the FastAPI application. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.settings import Settings
from app.wiring import Platform, build
from web import errors
from web.api import v1
from web.pages import routes as pages

STATIC = Path(__file__).resolve().parent / "static"


def vendor_htmx(settings: Settings) -> Path | None:
    """htmx installed from npm at set-up (node_modules/htmx.org); None when npm was missing."""
    path = Path(settings.vendor_dir) / "htmx.org" / "dist" / "htmx.min.js"
    return path if path.is_file() else None


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    settings = settings or Settings()
    platform = platform or build(settings)
    app = FastAPI(title="ERTS — 排污权分配与交易平台", version="0.1.0",
                  description="Pollutant discharge rights allocation and trading platform")
    app.state.platform = platform
    app.state.settings = settings
    htmx = vendor_htmx(settings)
    app.state.htmx = htmx is not None
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if htmx is not None:
        app.mount("/vendor", StaticFiles(directory=htmx.parent), name="vendor")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with platform.uow() as uow:
            uow.session.execute(__import__("sqlalchemy").text("SELECT 1"))
        return {"status": "ok"}

    app.include_router(v1.router, prefix="/api/v1")
    app.include_router(pages.router)
    return app
