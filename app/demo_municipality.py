"""The demo municipality (`app.demo`): its area, sectors, specification bases, invented
names, and the registry drawn from the seed (enterprises and permits with their bases).

Pure and deterministic: every draw comes from a `random.Random` stream derived from the
seed and a part name (`stream`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from allocation.permits import cap_and_allocation
from kernel.ids import CREDIT_ALPHABET, make_credit_code, make_permit_code

#: the vintage the demo confirms, trades and prices
VINTAGE = 2026
#: the earliest and latest business day a load may take as its today
EARLIEST_TODAY, LATEST_TODAY = date(2026, 9, 1), date(2028, 6, 30)
PARAMETER_VERSION = "2025.1"
#: the share of each zone's indicator kept in the bureau reserve, %
RESERVE_PCT = 10



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


def div_half_even(n: int, d: int) -> int:
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
# the registry drawn from the seed
# --------------------------------------------------------------------------------------------


@dataclass
class PlannedEnterprise:
    code: str
    name: str
    sector: str
    district: str


@dataclass
class PlannedPermit:
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


def stream(seed: int, part: str) -> random.Random:
    return random.Random(f"erts-demo:{seed}:{part}")


def _credit_code(rng: random.Random, district: str, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
        code = make_credit_code(f"91{district}{body}")
        if code not in taken:
            taken.add(code)
            return code


def draw_capacity(rng: random.Random, sector: str) -> tuple[int, str]:
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


def specification_kg(sector: str, capacity: int, fuel: str) -> dict[str, int]:
    """Specification basis per pollutant, whole kg per year."""
    if sector == "thermal_power":  # (CAP[MW] × h) × GPS[g/kWh] × 1e-3 t = MW × h × mg/kWh / 1e3 kg
        return {p: capacity * UTILISATION_HOURS * g // 1000 for p, g in GPS_MG_PER_KWH.items()}
    if sector == "steel":  # 1e4 t × mg/t / 1e6 kg
        return {p: div_half_even(capacity * 10_000 * m, 10**6) for p, m in STEEL_MG_PER_T.items()}
    if sector == "cement":
        t = capacity * CLINKER_DAYS
        return {p: div_half_even(t * m, 10**6) for p, m in CEMENT_MG_PER_T.items()}
    if sector == "industrial_boiler":
        t = capacity * UTILISATION_HOURS
        return {p: div_half_even(t * m, 10**6) for p, m in BOILER_MG_PER_T[fuel].items()}
    if sector in ("chemicals", "paper"):
        table = CHEMICALS_MG_PER_T if sector == "chemicals" else PAPER_MG_PER_T
        return {p: div_half_even(capacity * 10_000 * m, 10**6) for p, m in table.items()}
    m3 = capacity * 10_000 * 365
    return {p: div_half_even(m3 * m, 10**6) for p, m in SEWAGE_MG_PER_M3.items()}


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


def plan_registry(seed: int, n: int) -> tuple[list[PlannedEnterprise], list[PlannedPermit]]:
    rng = stream(seed, "registry")
    codes: set[str] = set()
    names: set[str] = set()
    d_weights = [d[4] for d in DISTRICTS]
    enterprises: list[PlannedEnterprise] = []
    permits: list[PlannedPermit] = []
    for i in range(n):
        # the first enterprises cover every sector, so even a small demo has them all
        sector = (SECTORS[i] if i < len(SECTORS)
                  else rng.choices(SECTORS, weights=SECTOR_WEIGHTS)[0])
        d = rng.choices(DISTRICTS, weights=d_weights)[0]
        code = _credit_code(rng, d[0], codes)
        ent = PlannedEnterprise(code, _name(rng, sector, _place(d[1]), names), sector, d[0])
        enterprises.append(ent)
        sites = [(1, d)]
        if rng.randrange(100) < 3:
            sites.append((2, rng.choices(DISTRICTS, weights=d_weights)[0]))
        for seq, sd in sites:
            capacity, fuel = draw_capacity(rng, sector)
            if seq == 2:
                capacity = max(1, capacity // 2)
            valid_from, valid_to = _validity(rng)
            spec = specification_kg(sector, capacity, fuel)
            eia: dict[str, int | None] = {}
            for pol in SECTOR_POLLUTANTS[sector]:
                spec[pol] = max(spec[pol], 1)
                # approvals before 2015-01-01 are no basis: ~20 % have none
                eia[pol] = (None if rng.randrange(100) < 20
                            else spec[pol] * rng.randint(900, 1300) // 1000)
            permits.append(PlannedPermit(
                make_permit_code(code, seq), code, sector, seq,
                _site_name(sector, _place(sd[1]), seq), sd[0], capacity, CAPACITY_UNIT[sector],
                valid_from, valid_to, spec, eia))
    return enterprises, permits

