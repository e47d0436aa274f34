"""Placeholder: filled by the disclosure_tables work."""

from __future__ import annotations
