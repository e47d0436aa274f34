"""No module imports a private name (`_x`) of another top-level package (issue 20): a
context's internals stay its own; what another context needs is public API (e.g. the
ledger's group API, `ledger.group`, that the order pipeline uses)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.test_import_graph import PACKAGES, ROOT


def private_imports(root: Path = ROOT) -> list[str]:
    found = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                    continue
                other = node.module.split(".")[0]
                if other == pkg or other not in PACKAGES:
                    continue
                for alias in node.names:
                    if alias.name.startswith("_"):
                        found.append(f"{path.relative_to(root)}: from {node.module} "
                                     f"import {alias.name}")
    return found


def test_no_module_imports_a_private_name_of_another_package() -> None:
    assert private_imports() == []


def test_the_check_sees_one(tmp_path: Path) -> None:
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
    (tmp_path / "trading" / "x.py").write_text("from ledger.service import _write\n")
    assert private_imports(tmp_path) == ["trading/x.py: from ledger.service import _write"]
