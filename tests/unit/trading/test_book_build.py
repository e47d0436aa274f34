"""The compiled order book: that the install made it, and that a stale or unwanted build is
never the one that runs (`trading._choose_book`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import trading
from tests.unit.trading.builds import COMPILED

ROOT = Path(trading.__file__).resolve().parent.parent
PROBE = ("import pathlib, trading, trading.book as b; "
         "print(trading.BOOK_ENGINE, pathlib.Path(b.__file__).suffix)")


def _engine(cwd: Path, **env: str) -> tuple[str, str]:
    """(BOOK_ENGINE and the loaded file's suffix, stderr) of a fresh interpreter in `cwd`."""
    r = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(cwd), **env},
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip(), r.stderr


def test_the_install_compiled_the_book() -> None:
    """scripts/setup compiles trading/book.py with mypyc; the benchmark's figure is the
    compiled book's. Without a C compiler the install falls back to the source, which is
    correct but slower: outside CI that is a skip, in CI a failure."""
    if not COMPILED:
        reason = ("trading.book is not compiled (no C compiler at install time, "
                  "ERTS_PURE_PYTHON=1, or trading/book.py changed since): run scripts/setup")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert trading.book.__file__ is not None and not trading.book.__file__.endswith(".py")


def _copy_tree(tmp_path: Path) -> Path:
    """The packages the book needs (trading with its compiled files, kernel), elsewhere."""
    dst = tmp_path / "tree"
    for pkg in ("trading", "kernel"):
        shutil.copytree(ROOT / pkg, dst / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return dst


@pytest.mark.skipif(not COMPILED, reason="needs the compiled book: see the test above")
def test_a_current_build_runs_compiled(tmp_path: Path) -> None:
    out, _ = _engine(_copy_tree(tmp_path))
    assert out.split()[0] == "compiled" and out.split()[1] == ".so"


@pytest.mark.skipif(not COMPILED, reason="needs the compiled book: see the test above")
def test_a_stale_build_is_dropped_for_the_source(tmp_path: Path) -> None:
    """An edit to book.py after the build: the source runs, with a warning naming the fix."""
    tree = _copy_tree(tmp_path)
    with (tree / "trading" / "book.py").open("a") as f:
        f.write("\nEDITED_AFTER_THE_BUILD = True\n")
    out, err = _engine(tree)
    assert out == "interpreted .py"
    assert "built from another version of trading/book.py" in err and "scripts/setup" in err


@pytest.mark.skipif(not COMPILED, reason="needs the compiled book: see the test above")
def test_erts_pure_python_runs_the_source(tmp_path: Path) -> None:
    out, err = _engine(_copy_tree(tmp_path), ERTS_PURE_PYTHON="1")
    assert out == "interpreted .py" and err == ""


def test_without_a_build_the_source_runs(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    for built in (tree / "trading").glob("book*.so"):
        built.unlink()
    out, err = _engine(tree)
    assert out == "interpreted .py" and err == ""
