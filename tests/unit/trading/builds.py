"""Both builds of the order book, for tests that must hold for each.

`trading.book` is the compiled module when the install compiled it (and the source is
unchanged since), else the source. `ENGINES` lists the OrderBook classes to test: the
installed one and, when that one is compiled, the source run by the interpreter, so the two
builds are held to the same tests in one run. The source module is loaded under its own name
with the installed module's value classes (Order, Fill, Cancelled, Rejected, Outcome) put in
place of its own, so that outcomes of either build compare equal to the same expected values.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import trading
import trading.book as installed

_VALUES = ("Order", "Fill", "Cancelled", "Rejected", "Outcome")


def load_source(name: str = "trading_book_source") -> ModuleType:
    """trading/book.py run by the interpreter, whatever is installed, with the installed
    module's value classes."""
    if name in sys.modules:
        return sys.modules[name]
    module = trading.load_book_source(name)
    for value in _VALUES:
        setattr(module, value, getattr(installed, value))
    return module


COMPILED = trading.BOOK_ENGINE == "compiled"
#: (id, OrderBook class) for each build under test
ENGINES: list[tuple[str, Any]] = [("installed", installed.OrderBook)]
if COMPILED:
    ENGINES.append(("source", load_source().OrderBook))
