"""JSON API of disclosure under /api/v1 (filled by the disclosure work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["disclosure"])
