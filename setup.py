"""Build step: compile the order book's matching core (`trading/book.py`) with mypyc.

Everything else about the package is in pyproject.toml. The source stays the one source of
truth and runs as it is wherever the compiled module is missing: the compiled module is made
from a copy of `trading/book.py` that ends with the SHA-256 of the source it was made from, so
`trading/__init__.py` can tell a stale build from a current one and fall back to the source.

- ``ERTS_PURE_PYTHON=1`` at install time skips the compilation (and at run time ignores a
  compiled module).
- A machine without a C compiler gets a warning and the interpreted book: the extension is
  optional.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "trading" / "book.py"
# mypyc names a module after its path: trading/book.py under this folder is `trading.book`.
STAGE = ROOT / "build" / "mypyc-src"


def _stage() -> str:
    """Copy the source to the staging folder with its digest appended; return the copy's path
    relative to ROOT (mypyc wants relative paths)."""
    text = SOURCE.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    pkg = STAGE / "trading"
    if pkg.exists():
        shutil.rmtree(pkg)
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "book.py").write_bytes(
        text + f'\n\n#: set only in the compiled module: the digest of its source\n'
               f'_SOURCE_SHA256 = "{digest}"\n'.encode()
    )
    return str((pkg / "book.py").relative_to(ROOT))


def _extensions() -> list[object]:
    if os.environ.get("ERTS_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("setup: mypyc is not installed: the order book stays interpreted")
        return []
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        staged = _stage()
        exts = mypycify([staged], opt_level="3", target_dir=str(STAGE.relative_to(ROOT)))
    finally:
        os.chdir(cwd)
    for ext in exts:
        ext.optional = True  # no compiler: a warning, and the interpreted book
    return list(exts)


setup(ext_modules=_extensions())
