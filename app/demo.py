"""Deterministic demo data: a synthetic Chongqing municipality (`erts demo`).

`load_demo(platform, seed=..., enterprises=...)` builds, from `random.Random` streams derived
from the seed and nothing else:

- 41 real Chongqing districts and counties (GB/T 2260 codes; the three functional zones, which
  have none, get ``50019x``) grouped into 6 air trading zones (``A-..``) and 4 watersheds
  (``W-..``);
- `enterprises` enterprises in seven sectors with plausible capacities and names, each with
  one permit (a few with a second site), per pollutant of the sector and per year of validity:
  the specification basis from capacity (the formulas and numbers of parameter table 2025.1),
  an EIA approval for most, and the share of the zone's indicator (largest remainder, pro rata
  to the specification basis, 10 % reserve). About 2 % of the permits expired on 2026-06-30;
- every indicator set and issued; 2026 rights confirmed for ~95 % of the valid permits (the
  rest wait for the bureau); verified surplus for ~15 % of the enterprises; cash for all;
- a market per zone and pollutant for vintage 2026, a resting non-crossing book in the busiest
  markets and a few executed trades; users for every role (password ``demo``).

Bulk registry rows (area, enterprises, sites, permits, quantities) are inserted in one unit
of work; everything that moves rights or money goes through the services (`allocation.service`
set/issue_indicator, confirm_rights_batch, verify_surplus, deposit_cash; `trading.service`
ensure_market, place_order), so the ledger and its hash chain are the ones the platform itself
writes. Rights confirmations run `CONFIRM_BATCH` to a unit of work and ledger batch
(`confirm_rights_batch`: the rules and events of one `confirm_rights` per item); the other
allocation calls run `chunk` (default 20) to a transaction through `_Shared`, which only saves
commits; orders are placed one transaction each. Every timestamp derives from `today`
(default 2026-11-27), so two loads with the same seed, size and day are identical, row for row
and down to the journal hash.

Idempotent: the seed's first credit code plus the enterprise count identify a load; a run that
finds its own completed load returns ``already_loaded=True`` without writing, and a run that
finds its own interrupted load resumes it (every step skips what is done). Any other non-empty
database is refused with `DemoAlreadyLoaded` (a `Conflict`, code ``demo_already_loaded``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import time as _time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from allocation.permits import cap_and_allocation
from allocation.tables import (
    DistrictRow,
    EnterpriseRow,
    IndicatorRow,
    PermitEventRow,
    PermitQuantityRow,
    PermitRow,
    SiteRow,
    ZoneRow,
)
from compliance import alert_service
from compliance import service as compliance
from compliance.tables import OutletRow
from identity.tables import UserRow
from kernel.clock import CST
from kernel.errors import Conflict, InvalidInput
from kernel.ids import CREDIT_ALPHABET, make_credit_code, make_permit_code
from kernel.quantities import trade_value
from ledger.service import asset_code
from ledger.tables import JournalRow
from trading import service as trading
from trading.tables import MarketRow, OrderRow

if TYPE_CHECKING:
    from app.wiring import Platform

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_TODAY",
    "DEMO_PASSWORD",
    "DemoAlreadyLoaded",
    "DemoSummary",
    "check_password",
    "hash_password",
    "largest_remainder",
    "load_demo",
    "plan_demo",
]

DEFAULT_SEED = 2025
DEFAULT_ENTERPRISES = 1200
#: the demo's business day: a Friday; every timestamp of the load derives from it
DEFAULT_TODAY = date(2026, 11, 27)
MIN_ENTERPRISES, MAX_ENTERPRISES = 20, 20_000
EARLIEST_TODAY, LATEST_TODAY = date(2026, 9, 1), date(2028, 6, 30)
DEMO_PASSWORD = "demo"
VINTAGE = 2026
PARAMETER_VERSION = "2025.1"
RESERVE_PCT = 10
ACTOR = "demo"
#: service calls per transaction
DEFAULT_CHUNK = 20
#: rights confirmations per unit of work (`allocation.service.confirm_rights_batch`)
CONFIRM_BATCH = 2000


class DemoAlreadyLoaded(Conflict):
    """The database already holds other data: a demo with another seed or size, or real data."""

    code = "demo_already_loaded"


# --------------------------------------------------------------------------------------------
# passwords
# --------------------------------------------------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """scrypt (n=2**14, r=8, p=1), salted: ``scrypt$<salt hex>$<hash hex>``.

    The salt is random unless given (the demo derives it from the seed and the username so
    that two loads are identical)."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, hashed: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = hashed.split("$")
        if scheme != "scrypt":
            return False
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except (ValueError, AttributeError):
        return False
    got = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return hmac.compare_digest(got, digest)


# --------------------------------------------------------------------------------------------
# the municipality
# --------------------------------------------------------------------------------------------

#: air trading zones: district groups
AIR_ZONES = [
    ("A-ZX", "中心城区大气交易区"),
    ("A-TC", "主城同城化先行区大气交易区"),
    ("A-YX", "渝西大气交易区"),
    ("A-WK", "渝东北万开云大气交易区"),
    ("A-SX", "渝东北三峡库区大气交易区"),
    ("A-DN", "渝东南大气交易区"),
]
#: water trading zones: watersheds
WATER_ZONES = [
    ("W-CJ", "长江干流流域"),
    ("W-JL", "嘉陵江流域"),
    ("W-WJ", "乌江流域"),
    ("W-FJ", "涪江流域"),
]
#: (code, name, air zone, water zone, weight for siting enterprises). GB/T 2260 codes; the
#: functional zones (两江新区, 重庆高新区, 万盛经开区) have none and get 50019x here.
DISTRICTS: list[tuple[str, str, str, str, int]] = [
    ("500101", "万州区", "A-WK", "W-CJ", 5),
    ("500102", "涪陵区", "A-TC", "W-CJ", 6),
    ("500103", "渝中区", "A-ZX", "W-CJ", 1),
    ("500104", "大渡口区", "A-ZX", "W-CJ", 3),
    ("500105", "江北区", "A-ZX", "W-JL", 3),
    ("500106", "沙坪坝区", "A-ZX", "W-JL", 4),
    ("500107", "九龙坡区", "A-ZX", "W-CJ", 5),
    ("500108", "南岸区", "A-ZX", "W-CJ", 3),
    ("500109", "北碚区", "A-ZX", "W-JL", 4),
    ("500110", "綦江区", "A-TC", "W-CJ", 4),
    ("500111", "大足区", "A-YX", "W-CJ", 4),
    ("500112", "渝北区", "A-ZX", "W-JL", 4),
    ("500113", "巴南区", "A-ZX", "W-CJ", 4),
    ("500114", "黔江区", "A-DN", "W-WJ", 2),
    ("500115", "长寿区", "A-TC", "W-CJ", 7),
    ("500116", "江津区", "A-TC", "W-CJ", 6),
    ("500117", "合川区", "A-YX", "W-JL", 5),
    ("500118", "永川区", "A-YX", "W-CJ", 5),
    ("500119", "南川区", "A-TC", "W-WJ", 3),
    ("500120", "璧山区", "A-YX", "W-CJ", 4),
    ("500151", "铜梁区", "A-YX", "W-FJ", 4),
    ("500152", "潼南区", "A-YX", "W-FJ", 3),
    ("500153", "荣昌区", "A-YX", "W-CJ", 4),
    ("500154", "开州区", "A-WK", "W-CJ", 3),
    ("500155", "梁平区", "A-WK", "W-CJ", 3),
    ("500156", "武隆区", "A-DN", "W-WJ", 2),
    ("500229", "城口县", "A-SX", "W-CJ", 1),
    ("500230", "丰都县", "A-WK", "W-CJ", 2),
    ("500231", "垫江县", "A-WK", "W-CJ", 3),
    ("500233", "忠县", "A-WK", "W-CJ", 3),
    ("500235", "云阳县", "A-WK", "W-CJ", 2),
    ("500236", "奉节县", "A-SX", "W-CJ", 2),
    ("500237", "巫山县", "A-SX", "W-CJ", 1),
    ("500238", "巫溪县", "A-SX", "W-CJ", 1),
    ("500240", "石柱县", "A-DN", "W-CJ", 2),
    ("500241", "秀山县", "A-DN", "W-WJ", 2),
    ("500242", "酉阳县", "A-DN", "W-WJ", 1),
    ("500243", "彭水县", "A-DN", "W-WJ", 1),
    ("500190", "两江新区", "A-ZX", "W-JL", 6),
    ("500191", "重庆高新区", "A-ZX", "W-JL", 3),
    ("500192", "万盛经开区", "A-TC", "W-CJ", 2),
]

SECTORS = ["thermal_power", "steel", "cement", "chemicals", "paper", "industrial_boiler",
           "sewage"]
#: per mille of enterprises by sector
SECTOR_WEIGHTS = [25, 20, 55, 200, 60, 460, 180]
SECTOR_POLLUTANTS: dict[str, tuple[str, ...]] = {
    "thermal_power": ("SO2", "NOx", "PM"),
    "steel": ("SO2", "NOx", "PM"),
    "cement": ("SO2", "NOx", "PM"),
    "chemicals": ("SO2", "NOx", "PM", "VOCs", "COD", "NH3-N"),
    "paper": ("SO2", "NOx", "PM", "COD", "NH3-N"),
    "industrial_boiler": ("SO2", "NOx", "PM"),
    "sewage": ("COD", "NH3-N"),
}
WATER = ("COD", "NH3-N")
AIR_POLLUTANTS = ("SO2", "NOx", "PM", "VOCs")
#: base prices, yuan per tonne: Chongqing 2015 (SO2, NOx, COD, NH3-N); PM and VOCs have no
#: published base price, these two are demo assumptions
BASE_PRICE_YUAN = {"SO2": 976, "NOx": 1200, "COD": 1360, "NH3-N": 2400, "PM": 800,
                   "VOCs": 1500}
#: reference price = base × 3 (prices trade far above the base), rounded to 10 yuan
PRICE_MULTIPLE = 3
BAND_PCT = 30

# Specification basis, mg emitted per unit of activity (so kg = activity × mg / 1e6), from
# the numbers of parameter table 2025.1: ultra-low limits for thermal power, steel and cement,
# GB 13271 for boilers, GB 31571 process heaters, GB 3544 paper, GB 18918 1A sewage.
#: thermal power, performance method: mg per kWh (ultra-low performance values)
GPS_MG_PER_KWH = {"SO2": 120, "NOx": 175, "PM": 35}
UTILISATION_HOURS = 5000
#: steel, per t crude steel: sinter head 3500 Nm3 (35/50/10), hot blast stove and reheat
#: furnaces 1500 Nm3 each (50/200/10), PM also from sinter tail 2000, casthouse 1500,
#: converter 1300 Nm3 (10)
STEEL_MG_PER_T = {"SO2": 3500 * 35 + 2 * 1500 * 50, "NOx": 3500 * 50 + 2 * 1500 * 200,
                  "PM": 10 * (3500 + 2 * 1500 + 2000 + 1500 + 1300)}
#: cement, per t clinker: kiln tail 2500 Nm3 (35/50/10), kiln head 1500, mills 1200 Nm3 (10)
CEMENT_MG_PER_T = {"SO2": 2500 * 35, "NOx": 2500 * 50, "PM": 10 * (2500 + 1500 + 1200)}
CLINKER_DAYS = 310
#: boilers, per t steam: coal 1650 Nm3 flue gas (300/300/50), gas 790 Nm3 (50/200/20)
BOILER_MG_PER_T = {
    "coal": {"SO2": 1650 * 300, "NOx": 1650 * 300, "PM": 1650 * 50},
    "gas": {"SO2": 790 * 50, "NOx": 790 * 200, "PM": 790 * 20},
}
#: chemicals, per t product: process heaters 800 Nm3 (100/150/20), VOCs 5000 Nm3 at 60,
#: wastewater 4 m3 (COD 100, NH3-N 15 mg/L)
CHEMICALS_MG_PER_T = {"SO2": 800 * 100, "NOx": 800 * 150, "PM": 800 * 20, "VOCs": 5000 * 60,
                      "COD": 4000 * 100, "NH3-N": 4000 * 15}
#: paper, per t paper: gas boiler 2 t steam × 790 Nm3 (50/200/20), wastewater 15 m3
#: (COD 80, NH3-N 8 mg/L)
PAPER_MG_PER_T = {"SO2": 1580 * 50, "NOx": 1580 * 200, "PM": 1580 * 20,
                  "COD": 15000 * 80, "NH3-N": 15000 * 8}
#: sewage, per m3 treated: GB 18918 class 1 A (COD 50, NH3-N 5 mg/L)
SEWAGE_MG_PER_M3 = {"COD": 1000 * 50, "NH3-N": 1000 * 5}

CAPACITY_UNIT = {"thermal_power": "MW", "steel": "万t/a", "cement": "t/d",
                 "chemicals": "万t/a", "paper": "万t/a", "industrial_boiler": "t/h",
                 "sewage": "万m3/d"}

#: invented name words (issue 18: the demo names no real company or group; the names are
#: made of uncommon character pairs, and tests/unit/test_demo_names.py checks that no real
#: major group's name appears anywhere in the demo data)
_WORDS = [
    "澄岚", "沄屿", "霁川", "翎溪", "棠岫", "岚汀", "蔚泓", "槿岩", "汐峦", "苒峰", "筠澜",
    "芃原", "璟汀", "晗岭", "沐岑", "澈屿", "昀泽", "岫沄", "珂沅", "溱禾", "湄岫", "渟岚",
    "栖禾", "翊川", "澜茵", "芷峪", "杳汀", "漪岑", "泠峦", "蘅川", "琇原", "砚澄", "雩峰",
    "茆溪", "澹屿", "绾岭", "淙禾", "岑茵", "汀筠", "峤沄", "霖芃", "濯岚", "芊峪", "珈汐",
    "琅沅", "溦岭", "蓁川", "璞汀", "沚原", "桤峦", "茗澈", "棣岑", "荇溪", "澍禾", "琬屿",
]
_INDUSTRIES = [
    "食品", "制药", "酿造", "纺织", "汽车零部件", "机械制造", "印染", "陶瓷", "饲料",
    "橡胶制品", "玻璃", "电子材料", "包装材料", "铝业", "乳业", "调味品", "肉类加工", "皮革",
]
#: invented energy and cement groups (none is a real group)
_POWER_BRANDS = ["澄岚能源", "沄屿电力", "霁川能源", "翎溪电力", "蔚泓能源", "槿岩电力",
                 "汐峦能源"]
_CEMENT_BRANDS = ["苒峰建材", "筠澜建材", "璟汀建材", "晗岭建材", "沐岑建材", "昀泽建材"]


def _place(district_name: str) -> str:
    """渝中区 → 渝中, 忠县 → 忠县 (one-character names keep their suffix)."""
    for suffix in ("经开区", "新区", "高新区", "区", "县"):
        if district_name.endswith(suffix) and len(district_name) - len(suffix) >= 2:
            return district_name[: -len(suffix)]
    return district_name


def _div_half_even(n: int, d: int) -> int:
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return q


def _largest_remainder_local(total: int, weights: Sequence[int]) -> list[int]:
    """Hamilton's method in integers: parts sum to `total`, ties to the lower index."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts, rems = [], []
    for w in weights:
        q, r = divmod(total * w, whole)
        parts.append(q)
        rems.append(r)
    for i in sorted(range(len(weights)), key=lambda i: (-rems[i], i))[:total - sum(parts)]:
        parts[i] += 1
    return parts


_apportion: Callable[[int, Sequence[int]], list[int]]
try:  # the allocation context's implementation, when present
    from allocation.apportionment import largest_remainder as _apportion
except ImportError:  # pragma: no cover - only while allocation.apportionment is absent
    _apportion = _largest_remainder_local


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` kg in proportion to integer `weights`; the parts sum exactly to `total`
    (`allocation.apportionment.largest_remainder` when that module is present)."""
    return list(_apportion(total, list(weights)))


# --------------------------------------------------------------------------------------------
# the plan (pure): everything the load writes, computed in memory first
# --------------------------------------------------------------------------------------------


@dataclass
class _Enterprise:
    code: str
    name: str
    sector: str
    district: str


@dataclass
class _Permit:
    code: str
    enterprise: str
    sector: str
    site_seq: int
    site_name: str
    district: str
    capacity: int
    capacity_unit: str
    valid_from: date
    valid_to: date
    spec: dict[str, int]
    eia: dict[str, int | None]
    #: (pollutant, year) -> share of the zone's indicator, kg; filled by the apportionment
    share: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def expired(self) -> bool:
        return self.valid_to < EARLIEST_TODAY

    def years(self) -> range:
        return range(self.valid_from.year, self.valid_to.year + 1)

    def allocated(self, pol: str, year: int = VINTAGE) -> int:
        return cap_and_allocation(self.spec[pol], self.eia[pol], self.share[(pol, year)])[1]

    def cap(self, pol: str) -> int:
        e = self.eia[pol]
        return self.spec[pol] if e is None else min(self.spec[pol], e)


@dataclass(frozen=True)
class _Order:
    id: str
    enterprise: str
    permit: str
    market: str
    side: str
    qty: int
    price: int
    at: datetime


@dataclass
class _Plan:
    seed: int
    today: date
    enterprises: list[_Enterprise]
    permits: list[_Permit]
    zone_of: dict[str, tuple[str, str]]  # district -> (air zone, water zone)
    indicators: list[tuple[str, str, int, int]] = field(default_factory=list)
    confirmations: list[tuple[str, str]] = field(default_factory=list)  # (permit, pollutant)
    verifications: list[tuple[str, str, int]] = field(default_factory=list)
    deposits: list[tuple[str, int, str]] = field(default_factory=list)  # enterprise, fen, ref
    markets: list[tuple[str, str, int]] = field(default_factory=list)  # pol, zone, ref price
    orders: list[_Order] = field(default_factory=list)
    #: the orders left open (the others fill whole)
    resting: list[_Order] = field(default_factory=list)
    trades: int = 0
    showcase_market: str | None = None
    users: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    #: bureau users' level and department: username -> (district or None, department)
    scopes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def zone(self, permit: _Permit, pol: str) -> str:
        air, water = self.zone_of[permit.district]
        return water if pol in WATER else air


def _stream(seed: int, part: str) -> random.Random:
    return random.Random(f"erts-demo:{seed}:{part}")


def _credit_code(rng: random.Random, district: str, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
        code = make_credit_code(f"91{district}{body}")
        if code not in taken:
            taken.add(code)
            return code


def _capacity(rng: random.Random, sector: str) -> tuple[int, str]:
    """(capacity in the sector's unit, boiler fuel or '')."""
    if sector == "thermal_power":
        return 2 * rng.choice([300, 330, 350, 600, 630, 660]), "coal"
    if sector == "steel":
        return rng.choice([100, 120, 150, 200, 260, 300, 400, 500, 600, 800]), ""
    if sector == "cement":
        return rng.choice([2500, 3200, 4000, 4500, 5000, 6000, 8000, 10000, 12000]), ""
    if sector == "industrial_boiler":
        fuel = "coal" if rng.randrange(100) < 30 else "gas"
        return rng.choice([10, 15, 20, 25, 35, 40, 50, 65, 75]), fuel
    if sector == "chemicals":
        return rng.randint(5, 100), ""
    if sector == "paper":
        return rng.randint(5, 60), ""
    return rng.choices([1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 50],
                       weights=[14, 14, 12, 10, 10, 8, 8, 7, 5, 4, 3, 2, 2])[0], ""


def _spec(sector: str, capacity: int, fuel: str) -> dict[str, int]:
    """Specification basis per pollutant, whole kg per year."""
    if sector == "thermal_power":  # (CAP[MW] × h) × GPS[g/kWh] × 1e-3 t = MW × h × mg/kWh / 1e3 kg
        return {p: capacity * UTILISATION_HOURS * g // 1000 for p, g in GPS_MG_PER_KWH.items()}
    if sector == "steel":  # 1e4 t × mg/t / 1e6 kg
        return {p: _div_half_even(capacity * 10_000 * m, 10**6) for p, m in STEEL_MG_PER_T.items()}
    if sector == "cement":
        t = capacity * CLINKER_DAYS
        return {p: _div_half_even(t * m, 10**6) for p, m in CEMENT_MG_PER_T.items()}
    if sector == "industrial_boiler":
        t = capacity * UTILISATION_HOURS
        return {p: _div_half_even(t * m, 10**6) for p, m in BOILER_MG_PER_T[fuel].items()}
    if sector in ("chemicals", "paper"):
        table = CHEMICALS_MG_PER_T if sector == "chemicals" else PAPER_MG_PER_T
        return {p: _div_half_even(capacity * 10_000 * m, 10**6) for p, m in table.items()}
    m3 = capacity * 10_000 * 365
    return {p: _div_half_even(m3 * m, 10**6) for p, m in SEWAGE_MG_PER_M3.items()}


def _name(rng: random.Random, sector: str, place: str, taken: set[str]) -> str:
    for _attempt in range(1000):
        w = rng.choice(_WORDS)
        if sector == "thermal_power":
            b = f"{rng.choice(_POWER_BRANDS)}重庆"
            name = rng.choice([f"{b}{place}发电有限公司", f"重庆{place}{w}发电有限公司",
                               f"{b}{w}热电有限公司"])
        elif sector == "steel":
            name = rng.choice([f"重庆{w}钢铁有限公司", f"重庆{place}{w}特钢有限公司",
                               f"重庆{w}钢铁集团{place}钢铁有限公司"])
        elif sector == "cement":
            b = rng.choice(_CEMENT_BRANDS)
            name = rng.choice([f"重庆{b}({place})水泥有限公司", f"重庆{place}{w}水泥有限公司",
                               f"{b}重庆{place}水泥有限公司"])
        elif sector == "chemicals":
            kind = rng.choice(["化工", "化学工业", "精细化工", "新材料", "医药化工", "天然气化工"])
            name = rng.choice([f"重庆{w}{kind}有限公司", f"重庆{place}{w}{kind}有限公司"])
        elif sector == "paper":
            kind = rng.choice(["纸业", "造纸", "浆纸"])
            name = rng.choice([f"重庆{w}{kind}有限公司", f"重庆{place}{w}{kind}有限责任公司"])
        elif sector == "industrial_boiler":
            ind = rng.choice(_INDUSTRIES)
            name = rng.choice([f"重庆{w}{ind}有限公司", f"重庆{place}{w}{ind}有限公司",
                               f"重庆{w}{ind}股份有限公司"])
        else:
            name = rng.choice([f"重庆{place}{w}水务有限公司", f"重庆{place}{w}污水处理有限公司",
                               f"重庆{w}环保{place}污水处理有限公司"])
        if name not in taken:
            taken.add(name)
            return name
    raise AssertionError("no free enterprise name")  # pragma: no cover


def _site_name(sector: str, place: str, seq: int) -> str:
    base = {"thermal_power": "电厂", "steel": "钢铁生产基地", "cement": "熟料生产线",
            "chemicals": "化工生产基地", "paper": "造纸厂区", "industrial_boiler": "生产厂区",
            "sewage": "污水处理厂"}[sector]
    return f"{place}{base}" if seq == 1 else f"{place}{base}(二期)"


def _validity(rng: random.Random) -> tuple[date, date]:
    r = rng.randrange(1000)
    if r < 20:  # expired before the demo window: 2021-07-01 .. 2026-06-30
        start = date(2021, 7, 1)
    elif r < 120:
        start = date(2023, 7, 1)
    elif r < 720:
        start = date(2024, 1, 1)
    elif r < 870:
        start = date(2024, 7, 1)
    else:
        start = date(2025, 1, 1)
    return start, date(start.year + 5, start.month, start.day) - timedelta(days=1)


def _registry(seed: int, n: int) -> tuple[list[_Enterprise], list[_Permit]]:
    rng = _stream(seed, "registry")
    codes: set[str] = set()
    names: set[str] = set()
    d_weights = [d[4] for d in DISTRICTS]
    enterprises: list[_Enterprise] = []
    permits: list[_Permit] = []
    for i in range(n):
        # the first enterprises cover every sector, so even a small demo has them all
        sector = (SECTORS[i] if i < len(SECTORS)
                  else rng.choices(SECTORS, weights=SECTOR_WEIGHTS)[0])
        d = rng.choices(DISTRICTS, weights=d_weights)[0]
        code = _credit_code(rng, d[0], codes)
        ent = _Enterprise(code, _name(rng, sector, _place(d[1]), names), sector, d[0])
        enterprises.append(ent)
        sites = [(1, d)]
        if rng.randrange(100) < 3:
            sites.append((2, rng.choices(DISTRICTS, weights=d_weights)[0]))
        for seq, sd in sites:
            capacity, fuel = _capacity(rng, sector)
            if seq == 2:
                capacity = max(1, capacity // 2)
            valid_from, valid_to = _validity(rng)
            spec = _spec(sector, capacity, fuel)
            eia: dict[str, int | None] = {}
            for pol in SECTOR_POLLUTANTS[sector]:
                spec[pol] = max(spec[pol], 1)
                # approvals before 2015-01-01 are no basis: ~20 % have none
                eia[pol] = (None if rng.randrange(100) < 20
                            else spec[pol] * rng.randint(900, 1300) // 1000)
            permits.append(_Permit(
                make_permit_code(code, seq), code, sector, seq,
                _site_name(sector, _place(sd[1]), seq), sd[0], capacity, CAPACITY_UNIT[sector],
                valid_from, valid_to, spec, eia))
    return enterprises, permits


def _reference_price(pol: str) -> int:
    """fen per tonne"""
    return _div_half_even(BASE_PRICE_YUAN[pol] * PRICE_MULTIPLE, 10) * 10 * 100


def _business_days_before(day: date, n: int) -> date:
    d = day
    while n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _at(day: date, hh: int, mm: int, seconds: int = 0) -> datetime:
    return (datetime.combine(day, time(hh, mm), tzinfo=CST)
            + timedelta(seconds=seconds)).astimezone(UTC)


def _round_qty(q: int) -> int:
    return q if q < 1000 else q // 100 * 100


def _round_price(p: int) -> int:
    return max(100, _div_half_even(p, 100) * 100)


def plan_demo(seed: int, enterprises: int, today: date) -> _Plan:
    """Everything the load writes, in memory. Pure and deterministic."""
    ents, permits = _registry(seed, enterprises)
    zone_of = {d[0]: (d[2], d[3]) for d in DISTRICTS}
    plan = _Plan(seed, today, ents, permits, zone_of)
    by_code = {p.code: p for p in permits}

    # indicators and shares: per zone, pollutant and year, Σ spec × U(0.85, 0.95), 10 % reserve,
    # the rest apportioned pro rata to the specification basis
    groups: dict[tuple[str, str, int], list[_Permit]] = defaultdict(list)
    for p in permits:
        for pol in SECTOR_POLLUTANTS[p.sector]:
            for y in p.years():
                groups[(plan.zone(p, pol), pol, y)].append(p)
    rng = _stream(seed, "indicators")
    for key in sorted(groups):
        zone, pol, y = key
        members = groups[key]
        total = sum(p.spec[pol] for p in members) * rng.randint(850, 950) // 1000
        reserve = int((Decimal(total) * RESERVE_PCT / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN))
        parts = largest_remainder(total - reserve, [p.spec[pol] for p in members])
        for p, part in zip(members, parts, strict=True):
            p.share[(pol, y)] = part
        plan.indicators.append((zone, pol, y, max(total, 1)))

    # 2026 confirmations: ~95 % of the valid permits
    rng = _stream(seed, "confirm")
    confirmed: set[str] = set()
    for p in permits:
        if rng.randrange(100) < 95 and not p.expired and VINTAGE in p.years():
            confirmed.add(p.code)
            for pol in SECTOR_POLLUTANTS[p.sector]:
                if p.allocated(pol) > 0:
                    plan.confirmations.append((p.code, pol))
    permitted: dict[tuple[str, str], int] = {
        (c, pol): by_code[c].allocated(pol) for c, pol in plan.confirmations}

    # verified surplus: ~15 % of the enterprises, SO2 / NOx / COD, 5-20 % of the confirmed
    rng = _stream(seed, "verify")
    tradable: dict[tuple[str, str], int] = {}
    permits_of: dict[str, list[_Permit]] = defaultdict(list)
    for p in permits:
        permits_of[p.enterprise].append(p)
    for e in ents:
        if rng.randrange(100) >= 15:
            continue
        for p in (q for q in permits_of[e.code] if q.code in confirmed):
            for pol in ("SO2", "NOx", "COD"):
                held = permitted.get((p.code, pol), 0)
                qty = held * rng.randint(50, 200) // 1000
                if qty > 0:
                    plan.verifications.append((p.code, pol, qty))
                    permitted[(p.code, pol)] = held - qty
                    tradable[(p.code, pol)] = qty

    # cash: every enterprise, 0.5-20 million yuan (large emitters hold more)
    rng = _stream(seed, "cash")
    cash: dict[str, int] = {}
    for i, e in enumerate(ents):
        big = e.sector in ("thermal_power", "steel", "cement")
        wan = rng.randint(300, 2000) if big else rng.randint(50, 800)  # 10 000 yuan
        cash[e.code] = wan * 10_000 * 100
        plan.deposits.append((e.code, cash[e.code], f"demo-s{seed}-cash-{i:05d}"))

    # markets: every zone × pollutant of its medium, vintage 2026
    for z, _n in AIR_ZONES:
        for pol in AIR_POLLUTANTS:
            plan.markets.append((pol, z, _reference_price(pol)))
    for z, _n in WATER_ZONES:
        for pol in WATER:
            plan.markets.append((pol, z, _reference_price(pol)))

    _plan_book(plan, by_code, permitted, tradable, cash)
    _plan_users(plan, by_code, confirmed)
    return plan


def _plan_book(plan: _Plan, by_code: dict[str, _Permit], permitted: dict[tuple[str, str], int],
               tradable: dict[tuple[str, str], int], cash: dict[str, int]) -> None:
    """In the markets with most sellers: executed trades on the last two business days, a
    resting non-crossing book this morning (asks at reference × 1.00-1.12, bids at
    × 0.88-0.99), then one of today's trades against the best ask.

    The model is conservative (sale proceeds are not counted as cash), so executing the
    orders in time order across markets never meets a check the plan did not foresee."""
    rng = _stream(plan.seed, "book")
    sellers: dict[str, list[str]] = defaultdict(list)  # market -> permits with tradable
    holders: dict[str, list[str]] = defaultdict(list)  # market -> confirmed permits
    for (code, pol), _qty in permitted.items():
        m = asset_code(pol, plan.zone(by_code[code], pol), VINTAGE)
        holders[m].append(code)
        if tradable.get((code, pol), 0) > 0:
            sellers[m].append(code)
    ranked = sorted(sellers, key=lambda m: (-len(sellers[m]), m))[:6]
    ref = {asset_code(pol, z, VINTAGE): price for pol, z, price in plan.markets}
    pending_room: dict[tuple[str, str], int] = defaultdict(int)
    drafts: list[tuple[datetime, int, str, str, str, int, int, bool]] = []

    def add(at: datetime, permit: str, m: str, side: str, qty: int, price: int,
            fills: bool) -> int:
        drafts.append((at, len(drafts), permit, m, side, qty, price, fills))
        return len(drafts) - 1

    def headroom(code: str, pol: str) -> int:
        return by_code[code].cap(pol) - permitted[(code, pol)] - pending_room[(code, pol)]

    def buyer_qty(code: str, pol: str, want: int, price: int) -> int:
        q = min(want, headroom(code, pol), cash[by_code[code].enterprise] * 1000 // price)
        return _round_qty(q) if q > 0 else 0

    days = [_business_days_before(plan.today, 2), _business_days_before(plan.today, 1)]
    for mi, m in enumerate(ranked):
        pol, r = m.split("/")[0], ref[m]
        sell_list = sorted(sellers[m])
        rng.shuffle(sell_list)
        seller_ents = {by_code[c].enterprise for c in sell_list}
        buy_list = sorted(c for c in holders[m] if by_code[c].enterprise not in seller_ents
                          and headroom(c, pol) > 0)
        rng.shuffle(buy_list)
        # 1) executed trades: a sell at p, then a buy of the same quantity at p: both fill
        n_trades = min(2, len(sell_list), len(buy_list))
        for k in range(n_trades):
            s, b = sell_list[k], buy_list[k]
            price = _round_price(r * rng.randint(970, 1050) // 1000)
            want = _round_qty(tradable[(s, pol)] * rng.randint(20, 45) // 100)
            qty = buyer_qty(b, pol, want, price)
            if qty <= 0:
                continue
            at = _at(days[k % 2], 10, 0, 600 * mi + 60 * k)
            add(at, s, m, "sell", qty, price, True)
            add(at + timedelta(seconds=30), b, m, "buy", qty, price, True)
            tradable[(s, pol)] -= qty
            permitted[(b, pol)] += qty
            cash[by_code[b].enterprise] -= _trade_fen(qty, price)
            plan.trades += 1
        # 2) this morning's resting book
        asks: list[tuple[int, int, int]] = []  # price, arrival, qty
        for k, s in enumerate(sell_list[:6]):
            qty = _round_qty(tradable[(s, pol)] * rng.randint(40, 100) // 100)
            if qty <= 0:
                continue
            price = _round_price(r * rng.randint(1000, 1120) // 1000)
            i = add(_at(plan.today, 9, 30, 900 * mi + 60 * k), s, m, "sell", qty, price, False)
            tradable[(s, pol)] -= qty
            asks.append((price, i, qty))
        bidders = buy_list[n_trades:n_trades + 6]
        for k, b in enumerate(bidders):
            price = _round_price(r * rng.randint(880, 990) // 1000)
            want = _round_qty(by_code[b].cap(pol) * rng.randint(2, 6) // 100)
            qty = buyer_qty(b, pol, want, price)
            if qty <= 0:
                continue
            add(_at(plan.today, 9, 30, 900 * mi + 60 * k + 30), b, m, "buy", qty, price, False)
            pending_room[(b, pol)] += qty
            cash[by_code[b].enterprise] -= -(-qty * price // 1000)
        # 3) one of today's trades: a buyer takes part of the best ask (which stays open)
        rest = buy_list[n_trades + len(bidders):]
        if asks and rest:
            price, _i, ask_qty = min(asks)
            b = rest[0]
            qty = buyer_qty(b, pol, _round_qty(ask_qty * rng.randint(30, 60) // 100), price)
            if 0 < qty < ask_qty:
                add(_at(plan.today, 11, 0, 600 * mi), b, m, "buy", qty, price, True)
                permitted[(b, pol)] += qty
                cash[by_code[b].enterprise] -= _trade_fen(qty, price)
                plan.trades += 1
    # execute in time order (stable within a market); ids follow that order
    for n, (at, _i, permit, m, side, qty, price, fills) in enumerate(sorted(drafts), start=1):
        o = _Order(f"demo-s{plan.seed}-o{n:05d}", by_code[permit].enterprise, permit, m, side,
                   qty, price, at)
        plan.orders.append(o)
        if not fills:
            plan.resting.append(o)
    live: dict[str, int] = defaultdict(int)
    for o in plan.resting:
        live[o.market] += 1
    plan.showcase_market = min(live, key=lambda m: (-live[m], m)) if live else None


def _trade_fen(qty: int, price: int) -> int:
    return int(trade_value(qty, price))


def _plan_users(plan: _Plan, by_code: dict[str, _Permit], confirmed: set[str]) -> None:
    """officer, officer2 (the second pair of eyes for approvals), admin, analyst,
    district_officer (the district bureau of trader1's enterprise), enforcer (the city's
    enforcement department) and trader1..5 bound to enterprises that show the platform's
    cases."""
    chosen: list[str] = []

    def pick(cands: Sequence[str]) -> None:
        for c in cands:
            if c not in chosen:
                chosen.append(c)
                return

    show = [o for o in plan.resting if o.market == plan.showcase_market]
    pick([o.enterprise for o in show if o.side == "sell"])  # trader1: a resting seller
    pick([o.enterprise for o in show if o.side == "buy"])  # trader2: a resting buyer
    with_orders = {o.enterprise for o in plan.orders}
    pick([by_code[c].enterprise for c, _pol, _q in plan.verifications
          if by_code[c].enterprise not in with_orders])  # trader3: surplus, no order yet
    has_confirmed = {by_code[c].enterprise for c in confirmed}
    pick([p.enterprise for p in plan.permits if p.enterprise not in has_confirmed
          and not p.expired])  # trader4: its 2026 rights wait for the bureau
    pick([p.enterprise for p in plan.permits if p.expired])  # trader5: an expired permit
    for e in plan.enterprises:  # small demos: fill up
        if len(chosen) >= 5:
            break
        pick([e.code])
    names = {e.code: e.name for e in plan.enterprises}
    plan.users = [
        ("officer", "王建国(市生态环境局 排污权管理处)", "bureau_officer", None),
        ("officer2", "李晓梅(市生态环境局 排污权管理处)", "bureau_officer", None),
        ("admin", "系统管理员(市生态环境局)", "bureau_admin", None),
        ("analyst", "张研(市环境科学研究院)", "analyst", None),
    ]
    districts = {e.code: e.district for e in plan.enterprises}
    dnames = {d[0]: d[1] for d in DISTRICTS}
    if chosen:
        home = districts[chosen[0]]
        plan.users.append(("district_officer", f"赵区(区生态环境局 {dnames.get(home, home)})"[:80],
                           "bureau_officer", None))
        plan.scopes["district_officer"] = (home, None)
    plan.users.append(("enforcer", "陈执(市生态环境保护综合行政执法总队)", "bureau_officer", None))
    plan.scopes["enforcer"] = (None, "enforcement")
    for i, code in enumerate(chosen[:5], start=1):
        plan.users.append((f"trader{i}", f"交易员{i} · {names[code]}"[:80], "trader", code))


# --------------------------------------------------------------------------------------------
# the load
# --------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    seed: int
    enterprises: int
    today: str
    already_loaded: bool
    districts: int = 0
    zones: int = 0
    sites: int = 0
    permits: int = 0
    expired_permits: int = 0
    permit_quantities: int = 0
    indicators: int = 0
    confirmations: int = 0
    verifications: int = 0
    deposits: int = 0
    markets: int = 0
    orders: int = 0
    trades: int = 0
    resting_orders: int = 0
    showcase_market: str | None = None
    #: username -> role
    users: dict[str, str] = field(default_factory=dict)
    #: trader username -> [credit code, enterprise name]
    traders: dict[str, list[str]] = field(default_factory=dict)
    password: str = DEMO_PASSWORD
    seconds: float = 0.0
    #: seconds per step of this run
    timings: dict[str, float] = field(default_factory=dict)


def _summary(plan: _Plan, already: bool) -> DemoSummary:
    names = {e.code: e.name for e in plan.enterprises}
    return DemoSummary(
        seed=plan.seed, enterprises=len(plan.enterprises), today=plan.today.isoformat(),
        already_loaded=already, districts=len(DISTRICTS),
        zones=len(AIR_ZONES) + len(WATER_ZONES), sites=len(plan.permits),
        permits=len(plan.permits), expired_permits=sum(p.expired for p in plan.permits),
        permit_quantities=sum(len(SECTOR_POLLUTANTS[p.sector]) * len(p.years())
                              for p in plan.permits),
        indicators=len(plan.indicators), confirmations=len(plan.confirmations),
        verifications=len(plan.verifications), deposits=len(plan.deposits),
        markets=len(plan.markets), orders=len(plan.orders), trades=plan.trades,
        resting_orders=len(plan.resting), showcase_market=plan.showcase_market,
        users={u: r for u, _d, r, _e in plan.users},
        traders={u: [e, names[e]] for u, _d, _r, e in plan.users if e is not None})


def _check_arguments(seed: object, enterprises: object, today: date) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput("seed must be a non-negative whole number", field="seed")
    if (isinstance(enterprises, bool) or not isinstance(enterprises, int)
            or not MIN_ENTERPRISES <= enterprises <= MAX_ENTERPRISES):
        raise InvalidInput(f"enterprises must be a whole number from {MIN_ENTERPRISES} to "
                           f"{MAX_ENTERPRISES}", field="enterprises")
    if not isinstance(today, date) or not EARLIEST_TODAY <= today <= LATEST_TODAY:
        raise InvalidInput(f"today must be a date from {EARLIEST_TODAY} to {LATEST_TODAY} "
                           "(the demo's permits and 2026 vintage are built around it)",
                           field="today")


def _existing_state(platform: Platform, plan: _Plan) -> bool:
    """True when this plan's load is complete; False when the database is empty or holds an
    interrupted load of this plan (the caller resumes it). Raises `DemoAlreadyLoaded` else."""
    first = plan.enterprises[0].code
    with platform.uow() as uow:
        s = uow.session
        n_ent = int(s.scalar(select(func.count()).select_from(EnterpriseRow)) or 0)
        n_zone = int(s.scalar(select(func.count()).select_from(ZoneRow)) or 0)
        if n_ent == 0 and n_zone == 0:
            return False
        mine = s.get(EnterpriseRow, first) is not None
        if mine and n_ent == len(plan.enterprises):
            t1 = next((u for u in plan.users if u[0] == "trader1"), None)
            row = s.get(UserRow, "trader1")
            return t1 is not None and row is not None and row.enterprise == t1[3]
        marker = s.scalar(select(JournalRow.id).where(JournalRow.id.like("deposit:demo-s%"))
                          .order_by(JournalRow.seq).limit(1))
        other_seed = marker.split("demo-s", 1)[1].split("-", 1)[0] if marker else None
        demo = s.get(ZoneRow, AIR_ZONES[0][0]) is not None
    asked = f"asked for seed {plan.seed} with {len(plan.enterprises)} enterprises"
    if mine:
        msg = (f"the database already holds the demo for seed {plan.seed} with {n_ent} "
               f"enterprises; {asked}: load it into an empty database")
    elif demo:
        seed_text = f"seed {other_seed}" if other_seed else "another seed"
        msg = (f"the database already holds a demo municipality ({seed_text}, {n_ent} "
               f"enterprises); {asked}: load it into an empty database")
    else:
        msg = (f"the database is not empty ({n_ent} enterprises, {n_zone} zones); the demo "
               "loads only into an empty database")
    raise DemoAlreadyLoaded(msg, seed=plan.seed, enterprises=len(plan.enterprises))


def _load_registry(platform: Platform, plan: _Plan) -> None:
    """Area, enterprises, sites, permits and permitted quantities: one transaction."""
    with platform.uow() as uow:
        s = uow.session
        s.execute(insert(ZoneRow), [dict(code=c, name=n, medium="air") for c, n in AIR_ZONES]
                  + [dict(code=c, name=n, medium="water") for c, n in WATER_ZONES])
        s.execute(insert(DistrictRow), [dict(code=c, name=n, air_zone=a, water_zone=w)
                                        for c, n, a, w, _wt in DISTRICTS])
        s.execute(insert(EnterpriseRow), [dict(credit_code=e.code, name=e.name,
                                               sector=e.sector, district=e.district,
                                               status="active") for e in plan.enterprises])
        s.execute(insert(SiteRow), [dict(enterprise=p.enterprise, seq=p.site_seq,
                                         name=p.site_name, district=p.district,
                                         capacity=p.capacity, capacity_unit=p.capacity_unit)
                                    for p in plan.permits])
        site_id = {(e, q): i for i, e, q in s.execute(
            select(SiteRow.id, SiteRow.enterprise, SiteRow.seq))}
        s.execute(insert(PermitRow), [dict(
            code=p.code, enterprise=p.enterprise, site=site_id[(p.enterprise, p.site_seq)],
            valid_from=p.valid_from, valid_to=p.valid_to, status="valid",
            issued_at=_at(p.valid_from - timedelta(days=14), 10, 0),
            parameter_version=PARAMETER_VERSION) for p in plan.permits])
        rows = []
        for p in plan.permits:
            for pol in SECTOR_POLLUTANTS[p.sector]:
                zone = plan.zone(p, pol)
                for y in p.years():
                    share = p.share[(pol, y)]
                    cap, allocated, binding = cap_and_allocation(p.spec[pol], p.eia[pol], share)
                    rows.append(dict(permit=p.code, pollutant=pol, year=y, zone=zone,
                                     spec_kg=p.spec[pol], eia_kg=p.eia[pol], share_kg=share,
                                     binding=binding, cap_kg=cap, allocated_kg=allocated,
                                     permitted_kg=allocated, confirmed=False))
        for i in range(0, len(rows), 5000):
            s.execute(insert(PermitQuantityRow), rows[i:i + 5000])
        uow.commit()


class _Shared:
    """A unit of work that lets many service calls share one real transaction.

    Each service still runs its whole use case (`with uow: ...; uow.commit()`): its `commit`
    here only flushes, and the enclosing real unit of work commits the chunk. If any call
    raises, the exception leaves the chunk and the real unit of work rolls all of it back,
    so a chunk is all or nothing and a re-run resumes at a chunk boundary."""

    def __init__(self, real: Any) -> None:
        self._real = real

    @property
    def session(self) -> Any:
        return self._real.session

    @property
    def dialect(self) -> str:
        return str(self._real.dialect)

    def __enter__(self) -> _Shared:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self._real.session.flush()

    def rollback(self) -> None:  # pragma: no cover - services do not call it
        raise RuntimeError("a demo chunk cannot roll back part of itself")


def _pay_paid_use(uow: Any, *, permit: str, pollutant: str, enterprise: str, reference: str,
                  now: datetime) -> None:
    """Fund and pay a permit's unpaid paid-use bills of the demo vintage."""
    bills = [b for b in paid_use.list_bills(uow, permit=permit, status="unpaid",
                                            limit=1000)["items"]
             if b["pollutant"] == pollutant and b["year"] == VINTAGE]
    for b in bills:
        alloc.deposit_cash(uow, enterprise=enterprise, amount_fen=b["amount_fen"],
                           actor=ACTOR, reference=f"{reference}-{b['id']}", now=now)
        paid_use.pay_bill(uow, bill_id=b["id"], actor=ACTOR, now=now)


def _run_chunked(platform: Platform, calls: Sequence[Callable[[Any], object]],
                 chunk: int) -> None:
    """Run `calls` (each takes a unit of work), `chunk` of them per transaction."""
    for i in range(0, len(calls), max(chunk, 1)):
        with platform.uow() as real:
            shared = _Shared(real)
            for call in calls[i:i + chunk]:
                call(shared)
            real.commit()


#: emergency measures the demo gives its traders' air permits, by turn: (grade, levels)
DEMO_MEASURES: tuple[tuple[str, dict[str, dict[str, Any]]], ...] = (
    ("B", {"orange": {"cut_pct": 20, "measure": None},
           "red": {"cut_pct": 35, "measure": "limit the main line to 65 % load"}}),
    ("C", {"yellow": {"cut_pct": 15, "measure": None},
           "orange": {"cut_pct": 30, "measure": "stop process line 2"},
           "red": {"cut_pct": 50, "measure": "stop process lines 2 and 3"}}),
    ("A", {}),
)


def load_demo(platform: Platform, *, seed: int = DEFAULT_SEED,
              enterprises: int = DEFAULT_ENTERPRISES, today: date | None = None,
              chunk: int = DEFAULT_CHUNK) -> DemoSummary:
    """Load the demo municipality for `seed` into an empty, migrated database.

    Returns a `DemoSummary`; ``already_loaded=True`` when this seed and size were loaded
    before (nothing is written). Raises `InvalidInput` for a bad argument and
    `DemoAlreadyLoaded` (a `Conflict`, code ``demo_already_loaded``) when the database holds
    anything else. `today` (default 2026-11-27) anchors every timestamp; it is not part of
    the identity of a load. `chunk`: service calls per transaction (1 = one transaction per
    call, as the web does; the default batches them for speed, with the same result)."""
    started = _time.perf_counter()
    today = DEFAULT_TODAY if today is None else today
    _check_arguments(seed, enterprises, today)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InvalidInput("chunk must be a positive whole number", field="chunk")
    plan = plan_demo(seed, enterprises, today)
    timings: dict[str, float] = {"plan": round(_time.perf_counter() - started, 3)}
    if _existing_state(platform, plan):
        out = _summary(plan, True)
        out.seconds = round(_time.perf_counter() - started, 3)
        return out
    clock = [_time.perf_counter()]

    def step(name: str) -> None:
        now = _time.perf_counter()
        timings[name] = round(now - clock[0], 3)
        clock[0] = now

    with platform.uow() as uow:
        fresh = not uow.session.scalar(select(func.count()).select_from(EnterpriseRow))
    if fresh:
        _load_registry(platform, plan)
    step("registry")

    # what an interrupted run already did
    with platform.uow() as uow:
        s = uow.session
        ind_state = {(z, p, y): issued for z, p, y, issued in s.execute(select(
            IndicatorRow.zone, IndicatorRow.pollutant, IndicatorRow.year, IndicatorRow.issued))}
        confirmed = {(c, p) for c, p in s.execute(select(
            PermitQuantityRow.permit, PermitQuantityRow.pollutant).where(
            PermitQuantityRow.year == VINTAGE, PermitQuantityRow.confirmed.is_(True)))}
        verified = {(c, p) for c, p in s.execute(select(
            PermitEventRow.permit, PermitEventRow.pollutant).where(
            PermitEventRow.kind == "verified_surplus", PermitEventRow.year == VINTAGE))}
        deposited = set(s.scalars(select(JournalRow.reference).where(
            JournalRow.id.like(f"deposit:demo-s{seed}-%"))))
        ordered = set(s.scalars(select(OrderRow.client_id).where(  # the demo's own ids
            OrderRow.client_id.like(f"demo-s{seed}-%"))))
        markets = set(s.scalars(select(MarketRow.id)))
        users = set(s.scalars(select(UserRow.username)))

    calls: list[Callable[[Any], object]] = []
    at = _at(today - timedelta(days=50), 9, 0)
    for i, (zone, pol, year, total) in enumerate(plan.indicators):
        if (zone, pol, year) not in ind_state:
            calls.append(partial(alloc.set_indicator, zone=zone, pollutant=pol, year=year,
                                 total_kg=total, reserve_share_pct=RESERVE_PCT))
        if not ind_state.get((zone, pol, year), False):
            calls.append(partial(alloc.issue_indicator, zone=zone, pollutant=pol, year=year,
                                 actor=ACTOR, now=at + timedelta(seconds=i)))
    _run_chunked(platform, calls, chunk)
    step("indicators")

    # confirmations in fixed batches of the plan (one unit of work and one ledger batch
    # each, one time per batch), so the result does not depend on `chunk` or on a resume
    at = _at(today - timedelta(days=40), 9, 0)
    for k in range(0, len(plan.confirmations), CONFIRM_BATCH):
        items = [alloc.ConfirmItem(code, pol, VINTAGE)
                 for code, pol in plan.confirmations[k:k + CONFIRM_BATCH]
                 if (code, pol) not in confirmed]
        if items:
            alloc.confirm_rights_batch(platform.uow(), items=items, actor=ACTOR,
                                       now=at + timedelta(seconds=k // CONFIRM_BATCH))
    step("confirmations")

    # paid use: rights become tradable only once their paid-use bill is paid, so each
    # enterprise about to have surplus verified pays its bill (funded for the purpose); the
    # other bills stay unpaid (and overdue by the demo's today) for the bureau's list
    at = _at(today - timedelta(days=30), 9, 0)
    owner = {p.code: p.enterprise for p in plan.permits}
    _run_chunked(platform, [
        partial(_pay_paid_use, permit=code, pollutant=pol, enterprise=owner[code],
                reference=f"demo-s{seed}-paid-use-{code}-{pol}", now=at + timedelta(seconds=i))
        for i, (code, pol, _qty) in enumerate(plan.verifications) if (code, pol) not in verified],
        chunk)
    step("paid_use")

    at = _at(today - timedelta(days=20), 9, 0)
    _run_chunked(platform, [
        partial(alloc.verify_surplus, permit=code, pollutant=pol, year=VINTAGE, qty_kg=qty,
                actor=ACTOR, reason="ultra-low retrofit: verified reduction",
                now=at + timedelta(seconds=i))
        for i, (code, pol, qty) in enumerate(plan.verifications) if (code, pol) not in verified],
        chunk)
    step("verifications")

    at = _at(today - timedelta(days=10), 9, 0)
    _run_chunked(platform, [
        partial(alloc.deposit_cash, enterprise=ent, amount_fen=fen, actor=ACTOR, reference=ref,
                now=at + timedelta(seconds=i))
        for i, (ent, fen, ref) in enumerate(plan.deposits) if ref not in deposited], chunk)
    step("deposits")

    if any(asset_code(pol, z, VINTAGE) not in markets for pol, z, _r in plan.markets):
        with platform.uow() as uow:
            for pol, zone, ref_price in plan.markets:
                trading.ensure_market(uow, pollutant=pol, zone=zone, vintage=VINTAGE, tick=1,
                                      min_lot=1, reference_price=ref_price, band_pct=BAND_PCT)
            uow.commit()
    # orders one transaction each, exactly as the web places them
    for o in plan.orders:
        if o.id not in ordered:
            trading.place_order(platform.uow(), trading.PlaceOrder(
                o.enterprise, o.permit, o.market, o.side, o.qty, o.price, "gtc", o.id),
                permits=platform.permits, actor=ACTOR, now=o.at)
    step("markets_orders")

    # the demo traders' permits get their outlets (DA001 air, DW001 water, by the sector's
    # pollutants), so execution reports and monitoring imports can be tried at once; before
    # the users, whose presence marks a complete load
    traders = {u[3] for u in plan.users if u[3]}
    with platform.uow() as uow:
        outlets = {(p, o) for p, o in uow.session.execute(
            select(OutletRow.permit, OutletRow.code))}
    for p in plan.permits:
        if p.enterprise not in traders:
            continue
        pols = SECTOR_POLLUTANTS[p.sector]
        for code, medium, used in (("DA001", "air", {"SO2", "NOx", "PM"} & set(pols)),
                                   ("DW001", "water", {"COD", "NH3-N"} & set(pols))):
            if used and (p.code, code) not in outlets:
                compliance.register_outlet(platform.uow(), permit=p.code, outlet=code,
                                           medium=medium)
    step("outlets")

    # alerts: the demo traders' air permits carry emergency measures from the emergency
    # emission-reduction list (grades B, C, A in turn; A reduces of its own accord), so an
    # alert declared in the walk shows a measure's cut beside the default (replacing the
    # measures is idempotent, so a resumed load sets the same ones)
    at = _at(today - timedelta(days=5), 9, 0)
    graded = [p for p in plan.permits if p.enterprise in traders
              and {"SO2", "NOx", "PM", "VOCs"} & set(SECTOR_POLLUTANTS[p.sector])]
    for i, p in enumerate(sorted(graded, key=lambda p: p.code)):
        grade, levels = DEMO_MEASURES[i % len(DEMO_MEASURES)]
        alert_service.set_measures(platform.uow(), permit=p.code, grade=grade, levels=levels,
                                   actor=ACTOR, now=at + timedelta(seconds=i))
    step("alert_measures")

    missing = [u for u in plan.users if u[0] not in users]
    if missing:
        with platform.uow() as uow:
            uow.session.execute(insert(UserRow), [dict(
                username=u, display_name=d, role=r, enterprise=e,
                district=plan.scopes.get(u, (None, None))[0],
                department=plan.scopes.get(u, (None, None))[1],
                password_hash=hash_password(DEMO_PASSWORD, salt=hashlib.sha256(
                    f"erts-demo:{seed}:{u}".encode()).digest()[:16]))
                for u, d, r, e in missing])
            uow.commit()
    step("users")
    out = _summary(plan, False)
    out.timings = timings
    out.seconds = round(_time.perf_counter() - started, 3)
    return out
