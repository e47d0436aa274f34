"""`erts tax ...`: the environmental protection tax from the command line."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `tax` commands to the `erts` parser."""
