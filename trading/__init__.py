"""Trading: the continuous order book (pure core, `book`), its service with ledger holds and
atomic settlement (`service`, one order per transaction; `pipeline`, many orders of a market
per transaction: group commit), reserve auctions (`auction` core, `auction_service`),
listings (`listing_service`), negotiated transfers (`transfer_service`) and replay of order
streams (`replay`).

The book's source, `book.py`, is also compiled with mypyc when the package is installed
(`setup.py`); the compiled module then sits beside the source and Python imports it first.
`_choose_book` keeps that safe: a compiled module whose source digest differs from
`book.py` (the source was edited after the build) is dropped, with a warning, and so is any
compiled module when ``ERTS_PURE_PYTHON=1``; the source then runs as it is. `BOOK_ENGINE`
says which one runs.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import warnings
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_file_location
from types import ModuleType

#: "compiled" or "interpreted": which build of `trading.book` this process runs.
BOOK_ENGINE = "interpreted"


#: the order book's source
BOOK_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "book.py")


def load_book_source(name: str) -> ModuleType:
    """Run `BOOK_SOURCE` by the interpreter as module `name` (also in ``sys.modules``),
    whatever build is installed."""
    spec = spec_from_file_location(name, BOOK_SOURCE, loader=SourceFileLoader(name, BOOK_SOURCE))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _use_book_source(name: str) -> str:
    globals()["book"] = load_book_source(name)  # as an import sets the package attribute
    return "interpreted"


def _choose_book() -> str:
    name = f"{__name__}.book"
    if os.environ.get("ERTS_PURE_PYTHON") == "1":
        return _use_book_source(name)
    module = importlib.import_module(name)
    built_from = getattr(module, "_SOURCE_SHA256", None)
    if built_from is None:
        return "interpreted"
    with open(BOOK_SOURCE, "rb") as f:
        current = hashlib.sha256(f.read()).hexdigest()
    if built_from == current:
        return "compiled"
    warnings.warn(
        "the compiled order book was built from another version of trading/book.py; running "
        "the source instead (scripts/setup rebuilds it)",
        RuntimeWarning,
        stacklevel=2,
    )
    del sys.modules[name]
    return _use_book_source(name)


BOOK_ENGINE = _choose_book()
