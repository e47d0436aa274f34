"""Pages of the permit register (issue 17)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
