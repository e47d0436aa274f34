"""JSON API of the environmental protection tax under /api/v1 (see compliance.tax)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["compliance"])
