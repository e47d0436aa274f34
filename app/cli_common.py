"""What every `erts` command module shares: exit codes, the errors `app.cli.main` reports,
argument types and input-file readers.

`app.cli` builds the parser and imports the command modules (`app.allocation_cli`,
`app.ledger_cli`, `app.permits_cli`, `app.tax_cli`); they import this module, never `app.cli`,
so no command module and the parser import each other. This module imports nothing of the
project.

Contract: reading an input file either returns its content or raises a `CliError` whose code
and exit code `app.cli.main` prints (`file_unreadable` exit 3; `not_text`, `invalid_json`,
`input_too_deep` exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: exit codes (see app.cli's docstring)
EXIT_FAILURE, EXIT_INPUT, EXIT_ENVIRONMENT = 1, 2, 3


class CliError(Exception):
    """A failure reported as `erts: code: message` with `exit_code`."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, code: str = "bad_input") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Usage(CliError):
    """Bad input (exit 2)."""


class Unavailable(CliError):
    """The environment failed the command (exit 3): a file, the database, a port, settings."""

    exit_code = EXIT_ENVIRONMENT


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `lo` to `hi`."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if not lo <= value <= hi:
            bounds = f"at least {lo}" if hi >= 2**53 else f"from {lo} to {hi}"
            raise argparse.ArgumentTypeError(f"{value} is not {bounds}")
        return value

    parse.__name__ = "whole number"
    return parse


port_number = whole(1, 65535)
positive = whole(1, 2**53)


def read_bytes(path: str) -> bytes:
    """The bytes of an input file (`-`: stdin); missing or unreadable: exit 3."""
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise Unavailable(f"cannot read {path}: {exc.strerror or exc}",
                          "file_unreadable") from None


def read_text(path: str) -> str:
    """An input file as UTF-8 text; binary content is bad input (exit 2)."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Usage(f"{path} is not UTF-8 text (byte {exc.start})", "not_text") from None


def read_json(path: str) -> Any:
    """An input file parsed as JSON; not JSON or nested too deeply is bad input (exit 2)."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Usage(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}",
                    "invalid_json") from None
    except RecursionError:
        raise Usage(f"{path} is nested too deeply", "input_too_deep") from None
