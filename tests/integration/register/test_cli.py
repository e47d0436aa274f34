"""`erts permits ...`: exit codes 0 / 2, row errors with line numbers on stderr, Excel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from tests.integration.register.test_register import PA, SAMPLE, build_area

pytestmark = pytest.mark.db


def run(capsys: Any, *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_cli_import_renew_revoke(platform: Any, tmp_path: Path, capsys: Any,
                                 monkeypatch: Any) -> None:
    build_area(platform)
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    code, out, _ = run(capsys, "permits", "import", "--input", str(SAMPLE), "--actor", "cli")
    assert code == 0 and out["permits_new"] == 4
    code, out, _ = run(capsys, "permits", "import", "--input", str(SAMPLE))
    assert code == 0 and out["permits_unchanged"] == 4
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text(encoding="utf-8").replace(",D4411,", ",X1,", 1),
                   encoding="utf-8")
    code, out, err = run(capsys, "permits", "import", "--input", str(bad))
    assert code == 2 and "line 2: industry_code:" in err and out["permits_new"] == 0
    code, out, err = run(capsys, "permits", "import", "--input", str(bad), "--dry-run")
    assert code == 2 and out["dry_run"] and "line 2: industry_code" in err
    code, out, err = run(capsys, "permits", "import", "--input", str(bad), "--partial")
    assert code == 0 and out["status"] == "partial" and "line 2: industry_code" in err
    code, _, err = run(capsys, "permits", "import", "--input", str(tmp_path / "none.csv"))
    assert code == 3 and "cannot read" in err
    code, out, _ = run(capsys, "permits", "renew", "--permit", PA, "--applied-on",
                       "2030-12-30", "--reason", "late")
    assert code == 0 and out["late"] is True
    code, _, err = run(capsys, "permits", "renew", "--permit", PA, "--applied-on",
                       "2040-12-30", "--reason", "after")
    assert code == 2 and "renewal_after_expiry" in err and "applied_on" in err
    from identity import service as identity  # four-eyes on the CLI: tests/web/test_four_eyes

    identity.set_approval_policy(platform.uow(), tx_type="recovery", required=False,
                                 actor="test")
    code, out, _ = run(capsys, "permits", "revoke", "--permit", PA, "--reason", "decision",
                       "--on", "2026-06-01")
    assert code == 0 and out["status"] == "revoked"
    code, out, _ = run(capsys, "permits", "expiring", "--today", "2030-12-01")
    assert code == 0 and PA not in {x["permit"] for x in out}


def test_cli_imports_excel(platform: Any, tmp_path: Path, capsys: Any,
                           monkeypatch: Any) -> None:
    import csv

    openpyxl = pytest.importorskip("openpyxl")
    build_area(platform)
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    wb = openpyxl.Workbook()
    ws = wb.active
    with SAMPLE.open(encoding="utf-8") as f:
        for row in csv.reader(f):
            ws.append(row)
    path = tmp_path / "permits.xlsx"
    wb.save(path)
    code, out, _ = run(capsys, "permits", "import", "--input", str(path))
    assert code == 0 and out["permits_new"] == 4
    # the same content from CSV changes nothing
    code, out, _ = run(capsys, "permits", "import", "--input", str(SAMPLE))
    assert code == 0 and out["permits_unchanged"] == 4
