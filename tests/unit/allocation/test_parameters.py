from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from allocation.errors import UnknownParameterVersion
from allocation.parameters import (
    bundled_parameter_sets,
    changed_limits,
    get_parameters,
    select_parameters,
)
from kernel.errors import InvalidInput
from kernel.pollutants import Pollutant


def test_bundled_table_loads_with_expected_values() -> None:
    p = get_parameters("2025.1")
    assert p.effective == date(2025, 1, 1)
    assert p.eia_basis_from == date(2015, 1, 1)
    assert p.ultra_low_sectors == {"thermal_power", "steel", "cement"}
    assert set(p.sectors) == {
        "thermal_power", "steel", "cement", "chemicals", "paper", "industrial_boiler", "sewage"
    }
    coal = p.sources["coal_power"]
    assert coal.limit("national", Pollutant.SO2) == Decimal(100)
    assert coal.limit("ultra_low", Pollutant.NOX) == Decimal(50)
    assert p.sources["steel_other"].limit("ultra_low", Pollutant.NOX) == Decimal(200)
    assert p.sources["cement_kiln_key_region"].limit("national", Pollutant.NOX) == Decimal(320)
    assert p.alert_cut_ratios == {
        "yellow": Decimal("0.10"), "orange": Decimal("0.20"), "red": Decimal("0.30")
    }
    assert p.gas_slope == Decimal("0.285") and p.gas_intercept == Decimal("0.343")
    assert p.utilisation_hours["default"] == Decimal(5000)
    assert "processes.steel.sinter_head" in p.unverified


def test_every_sector_boiler_has_a_source() -> None:
    p = get_parameters("2025.1")
    for sector in p.sectors:
        for method in ("coal_boiler", "oil_boiler", "gas_boiler", "wastewater"):
            assert p.source_for(sector, method) in p.sources


def test_select_by_date_and_version() -> None:
    base = get_parameters("2025.1")
    older = replace(base, version="2020.1", effective=date(2020, 1, 1))
    newer = replace(base, version="2026.1", effective=date(2026, 7, 1))
    sets = [newer, base, older]
    assert select_parameters(sets, on=date(2021, 3, 1)).version == "2020.1"
    assert select_parameters(sets, on=date(2025, 1, 1)).version == "2025.1"
    assert select_parameters(sets, on=date(2026, 7, 1)).version == "2026.1"
    assert select_parameters(sets, version="2020.1").version == "2020.1"
    with pytest.raises(UnknownParameterVersion) as e:
        select_parameters(sets, on=date(2019, 12, 31))
    assert e.value.field == "on"
    with pytest.raises(UnknownParameterVersion) as e:
        select_parameters(sets, version="1999.9")
    assert e.value.code == "unknown_parameter_version" and isinstance(e.value, InvalidInput)
    with pytest.raises(UnknownParameterVersion):
        select_parameters(sets, version="2026.1", on=date(2026, 1, 1))


def test_get_parameters_defaults_to_table_in_force() -> None:
    assert get_parameters(on=date(2025, 6, 1)).version == "2025.1"
    # 2025.2 is bundled ahead of its effective date: the default is the newest in force today
    today = date.today()
    in_force = [s for s in bundled_parameter_sets() if s.effective <= today]
    assert in_force[-1].version == get_parameters().version
    assert get_parameters(on=date(2026, 12, 31)).version == "2025.1"
    assert get_parameters(on=date(2027, 1, 1)).version == "2025.2"


def test_alert_caps_cut_at_least_the_ratio() -> None:
    p = get_parameters("2025.1")
    # 1 001 kg cut by 10 % = 900.9 -> floor 900 (the cut must be at least 10 %)
    assert p.alert_cap_kg(1001, "yellow") == 900
    assert p.alert_cap_kg(1001, "orange") == 800
    assert p.alert_cap_kg(1000, "red") == 700


def test_changed_limits_lists_differences() -> None:
    base = get_parameters("2025.1")
    src = base.sources["coal_boiler"]
    national = {**src.limits["national"], Pollutant.NOX: Decimal(150)}
    tighter = replace(src, limits={**src.limits, "national": national})
    new = replace(base, version="2026.1", sources={**base.sources, "coal_boiler": tighter})
    assert changed_limits(base, new) == [
        {"source": "coal_boiler", "kind": "national", "pollutant": "NOx",
         "old": "300", "new": "150"}
    ]
