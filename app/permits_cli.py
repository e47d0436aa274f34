"""`erts permits ...`: the permit register from the command line (issue 17)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `permits` commands to the `erts` parser."""
