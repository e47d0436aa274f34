"""JSON API of the permit register under /api/v1 (issue 17)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["permits"])
