"""`erts compute`, `erts scenario run|compare`, `erts sweep`: JSON out, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.spine import build_spine


def run_cli(capsys, *argv: str) -> tuple[int, dict, str]:  # type: ignore[no-untyped-def, type-arg]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {}), err


def test_sweep_on_a_synthetic_municipality(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "sweep.json"
    spec.write_text(json.dumps({"grid": {"indicator_pct": [-10, 0]},
                                "monte_carlo": {"n": 2, "vary": {
                                    "alert_days": {"uniform": [0, 20]}}}}))
    code, out, _ = run_cli(capsys, "sweep", "--input", str(spec), "--synthetic", "120")
    assert code == 0 and out["scenarios"] == 4 and out["where"] == "local"
    spec.write_text(json.dumps({"grid": {"rainfall": [1]}}))
    code, _, err = run_cli(capsys, "sweep", "--input", str(spec), "--synthetic", "50")
    assert code == 2 and "bad_scenario" in err and "grid.rainfall" in err


@pytest.mark.db
def test_compute_and_scenarios_on_the_database(platform, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                               monkeypatch) -> None:
    build_spine(platform)
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    code, out, _ = run_cli(capsys, "compute", "--years", "2026", "--actor", "cli-test")
    assert code == 0 and out["changed"] == 2 and out["actor"] == "cli-test"
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(json.dumps({"name": "a", "year": 2026}))
    b.write_text(json.dumps({"name": "b", "year": 2026, "indicators": [{"change_pct": -20}]}))
    code, out, _ = run_cli(capsys, "scenario", "run", "--input", str(b))
    assert code == 0 and out["deltas"]["by_pollutant"][0]["indicator_kg"] == -4000
    code, out, _ = run_cli(capsys, "scenario", "compare", "--a", str(a), "--b", str(b))
    assert code == 0 and out["by_pollutant"][0]["indicator_kg"]["delta"] == -4000
    code, out, _ = run_cli(capsys, "scenario", "run", "--input", str(b), "--save")
    assert code == 0 and out["scenario"] >= 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"utilisation_hours": {"thermal_power": "lots"}}))
    code, _, err = run_cli(capsys, "scenario", "run", "--input", str(bad))
    assert code == 2 and "utilisation_hours.thermal_power" in err
