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
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import Any

import trading
import trading.book as installed

_VALUES = ("Order", "Fill", "Cancelled", "Rejected", "Outcome")
SOURCE = Path(trading.__file__).with_name("book.py")


def load_source(name: str = "trading_book_source") -> ModuleType:
    """trading/book.py run by the interpreter, whatever is installed."""
    if name in sys.modules:
        return sys.modules[name]
    spec = spec_from_file_location(name, SOURCE, loader=SourceFileLoader(name, str(SOURCE)))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    for value in _VALUES:
        setattr(module, value, getattr(installed, value))
    return module


COMPILED = trading.BOOK_ENGINE == "compiled"
#: (id, OrderBook class) for each build under test
ENGINES: list[tuple[str, Any]] = [("installed", installed.OrderBook)]
if COMPILED:
    ENGINES.append(("source", load_source().OrderBook))
