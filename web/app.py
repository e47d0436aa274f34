"""`create_app(settings)`: the FastAPI application. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from app.settings import Settings
from app.wiring import Platform, build, settle_heap
from web import errors
from web.api import alerts as alerts_api
from web.api import allocation as allocation_api
from web.api import compliance as compliance_api
from web.api import disclosure as disclosure_api
from web.api import ledger as ledger_api
from web.api import supervision as supervision_api
from web.api import trading as trading_api
from web.api import v1
from web.api.instants import InstantOffsets
from web.api.models import ErrorBody
from web.auth import SAFE_METHODS, Principal, city_bureau, csrf_protect, require
from web.boundary import InputBoundary
from web.flash import FlashContext
from web.middleware import Audit, Idempotency, RequestGuard
from web.order_lane import OrderLane
from web.pages import account, analyst, bureau, compliance_pages, public, reserve, trading_pages
from web.pages import alerts as alerts_pages
from web.pages import disclosure as disclosure_pages
from web.pages import routes as pages
from web.pages import supervision as supervision_pages

STATIC = Path(__file__).resolve().parent / "static"


def vendor_htmx(settings: Settings) -> Path | None:
    """htmx installed from npm at set-up (node_modules/htmx.org); None when npm was missing."""
    path = Path(settings.vendor_dir) / "htmx.org" / "dist" / "htmx.min.js"
    return path if path.is_file() else None


def ledger_access(request: Request) -> Principal:
    """The ledger API: reads for the bureau and analysts, writes (raw transfers, freezes,
    reconciliation) for a bureau administrator only, since they bypass the approval flow.
    The ledger holds every enterprise's accounts: it is the city bureau's, not a district
    officer's (403)."""
    permission = "ledger:read" if request.method in SAFE_METHODS else "ledger:write"
    user = require(permission)(request)
    city_bureau(request)
    return user


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    settle_heap()  # the server is up: its long-lived objects leave the collector's reach
    from web.auction_schedule import run_forever  # the auctions' schedules (issue 18)

    interval = float(getattr(_app.state.settings, "auction_tick_seconds", 0) or 0)
    task = asyncio.create_task(run_forever(_app.state.platform, interval)) if interval else None
    from web.ledger_checkpoints import run_forever as sign_forever  # issue 16

    every = float(getattr(_app.state.settings, "ledger_checkpoint_seconds", 0) or 0)
    if every and not _app.state.settings.is_development:
        _app.state.settings.ledger_signer()  # outside development: no key, no start
    signing = asyncio.create_task(sign_forever(_app.state.platform, every)) if every else None
    yield
    for t in (task, signing):
        if t is not None:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    settings = settings or Settings()
    platform = platform or build(settings)
    # Swagger UI would load from a CDN: only the schema is served (/openapi.json).
    app = FastAPI(title="ERTS — 排污权分配与交易平台", version="0.1.0",
                  description="Pollutant discharge rights allocation and trading platform. "
                              "Authenticate with `Authorization: Bearer <token>` (create "
                              "tokens at /account/tokens). Errors: `{error, detail}`.",
                  docs_url=None, redoc_url=None, lifespan=_lifespan)
    app.state.platform = platform
    app.state.settings = settings
    htmx = vendor_htmx(settings)
    app.state.htmx = htmx is not None
    errors.install(app)
    # added innermost first: OrderLane → RequestGuard → InputBoundary → Idempotency → Audit →
    # InstantOffsets (every time of an /api/ JSON answer with its offset) → routes
    app.add_middleware(InstantOffsets)
    app.add_middleware(Audit, platform=platform)
    app.add_middleware(Idempotency, platform=platform)
    app.add_middleware(InputBoundary)  # control characters in paths, queries, forms: 422
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    # outermost: the common order skips the stack (web.order_lane); the rest goes through
    app.add_middleware(OrderLane, platform=platform, handlers=app.exception_handlers)
    app.add_middleware(FlashContext)  # web.flash: see_other finds the request it answers
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if htmx is not None:
        app.mount("/vendor", StaticFiles(directory=htmx.parent), name="vendor")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with platform.uow() as uow:
            uow.session.execute(text("SELECT 1"))
        return {"status": "ok"}

    app.include_router(v1.router, prefix="/api/v1")
    app.include_router(allocation_api.router, prefix="/api/v1")
    app.include_router(trading_api.router, prefix="/api/v1")
    app.include_router(compliance_api.router, prefix="/api/v1")
    app.include_router(supervision_api.router, prefix="/api/v1")
    app.include_router(alerts_api.router, prefix="/api/v1")
    app.include_router(disclosure_api.router, prefix="/api/v1")
    from web.api import surveillance as surveillance_api  # market surveillance
    from web.api import tax as tax_api  # environmental protection tax

    app.include_router(tax_api.router, prefix="/api/v1")
    from web.api import paid_use as paid_use_api  # paid use of rights (issue 17)
    from web.api import register as register_api  # the permit register (issue 17)

    app.include_router(register_api.router, prefix="/api/v1")
    app.include_router(paid_use_api.router, prefix="/api/v1")
    from web.api import documents as documents_api  # PDF documents (issue 18)

    app.include_router(documents_api.router, prefix="/api/v1")
    app.include_router(surveillance_api.router, prefix="/api/v1")
    from web.api import auction_bids as auction_bids_api  # withdraw, replace, schedule

    app.include_router(auction_bids_api.router, prefix="/api/v1")
    from web.api import bulk_confirmation as bulk_api  # bulk confirmation (issue 18)
    from web.pages import bulk_confirmation as bulk_pages

    app.include_router(bulk_api.router, prefix="/api/v1")
    app.include_router(bulk_pages.router)
    app.include_router(ledger_api.router, prefix="/api/v1", tags=["ledger"],
                       dependencies=[Depends(csrf_protect), Depends(ledger_access)],
                       responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
    app.include_router(account.router)
    from web.api import account as account_api  # change password (issue 18)
    from web.pages import account_password

    app.include_router(account_api.router, prefix="/api/v1")
    app.include_router(account_password.router)
    app.include_router(bureau.router)
    app.include_router(reserve.router)
    app.include_router(analyst.router)
    app.include_router(trading_pages.router)
    app.include_router(supervision_pages.router)
    app.include_router(alerts_pages.router)
    app.include_router(compliance_pages.router)
    app.include_router(disclosure_pages.router)
    from web.pages import reports_pages  # execution-report pages (issue 7)

    app.include_router(reports_pages.router)
    from web.pages import paid_use_pages, register_pages  # issue 17

    app.include_router(register_pages.router)
    app.include_router(paid_use_pages.router)
    app.include_router(public.router)
    from web.api import ledger_public as ledger_public_api  # the ledger log (issue 16)
    from web.pages import ledger_public as ledger_public_pages

    app.include_router(ledger_public_api.router, prefix="/api/v1")
    app.include_router(ledger_public_pages.router)
    from web.api import notices as notices_api  # notifications, workbench (issue 18)
    from web.pages import workbench as workbench_pages

    app.include_router(notices_api.router, prefix="/api/v1")
    app.include_router(workbench_pages.router)
    from web.api import simulations as simulations_api  # market simulation (issue 21)
    from web.pages import simulations as simulations_pages

    app.include_router(simulations_api.router, prefix="/api/v1")
    app.include_router(simulations_pages.router)
    app.include_router(pages.router)
    from web import exports  # PDF documents and the officer lists' .xlsx (issue 18)
    from web.pages import documents as documents_pages
    from web.pages.exports import EXPORTS

    app.include_router(documents_pages.router)
    exports.install(app, EXPORTS)  # after every page it wraps
    return app
