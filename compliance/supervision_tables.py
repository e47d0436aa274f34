"""Placeholder: filled by the supervision_tables work."""

from __future__ import annotations
