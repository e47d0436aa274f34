"""JSON API of alerts under /api/v1 (filled by the alerts work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["alerts"])
