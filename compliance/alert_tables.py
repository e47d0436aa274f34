"""Placeholder: filled by the alert_tables work."""

from __future__ import annotations
