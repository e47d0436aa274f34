"""Pages of the permit paid use (issue 17)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
