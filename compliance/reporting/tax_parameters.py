"""Versioned parameter table of the environmental protection tax (pure data).

Sources (each value below names its own; "verify" marks what could not be read in full):
- Environmental Protection Tax Law of the PRC (环境保护税法, 2016, in force 2018-01-01;
  amended 2018), annex 1 (税目税额表: the rate bands, air 1.2-12 yuan, water 1.4-14 yuan per
  equivalent) and annex 2 (应税污染物和当量值表: equivalent values, kg per equivalent, and the
  first-class / other water classes after GB 8978-1996; note 2: of COD, BOD5 and TOC at one
  outlet only one is taxed). Art. 9: per outlet the top 3 air pollutants and the top 5
  first-class and top 3 other water pollutants by equivalents. Art. 12(3) exemption, Art. 13
  reductions, Art. 18 monthly computation and quarterly filing, Art. 19 filing within 15 days
  of the quarter's end.
- Implementing Regulation (环境保护税法实施条例, 2017) Art. 10: the concentration of Art. 13 is
  the month's average; no reading (hourly / daily average, or any measurement by a monitoring
  body) in the month may exceed the standard; Art. 11: judged per outlet and pollutant.
- Chongqing rates: 2.4 yuan (air) and 3 yuan (water) per equivalent from 2018-01-01 by the
  decision of the Chongqing People's Congress Standing Committee on the applicable tax amounts
  (重庆市人大常委会关于重庆市大气污染物和水污染物环境保护税适用税额的决定, 2017): the text of
  the decision could not be retrieved here, so the rates are marked verify.

Annex 2 values were checked against published copies of the annex (water classes 1-2 in full,
air items 1-19); the other air items and 烟尘 2.18 are as the annex is commonly reproduced and
as DOMAIN.md §5 states them, marked verify where not seen. pH, colour, coliforms, residual
chlorine and the livestock / small-business tables are not in kg and are out of scope.

Everything the core needs is in a `TaxParameters` version; add a version, never edit one that
returns were computed under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

LAW = "Environmental Protection Tax Law, annex 2"

#: the water classes of annex 2 (and "air")
AIR = "air"
WATER_1 = "water_1"  # first-class water pollutants (第一类水污染物)
WATER_2 = "water_2"  # other water pollutants (第二类水污染物)


@dataclass(frozen=True)
class TaxPollutant:
    """One taxed pollutant of annex 2: kg per pollution equivalent and its class."""

    code: str
    name_zh: str
    klass: str  # air | water_1 | water_2
    value_kg: Decimal
    verify: bool = False

    @property
    def medium(self) -> str:
        return "air" if self.klass == AIR else "water"


def _p(code: str, zh: str, klass: str, value: str, verify: bool = False) -> TaxPollutant:
    return TaxPollutant(code, zh, klass, Decimal(value), verify)


_ANNEX_2018 = [
    # first-class water pollutants (annex 2, table 1)
    _p("Hg", "总汞", WATER_1, "0.0005"), _p("Cd", "总镉", WATER_1, "0.005"),
    _p("Cr", "总铬", WATER_1, "0.04"), _p("Cr6", "六价铬", WATER_1, "0.02"),
    _p("As", "总砷", WATER_1, "0.02"), _p("Pb", "总铅", WATER_1, "0.025"),
    _p("Ni", "总镍", WATER_1, "0.025"), _p("BaP_water", "苯并(a)芘", WATER_1, "0.0000003"),
    _p("Be", "总铍", WATER_1, "0.01"), _p("Ag", "总银", WATER_1, "0.02"),
    # other water pollutants (annex 2, table 2; all checked)
    _p("SS", "悬浮物", WATER_2, "4"), _p("BOD5", "五日生化需氧量", WATER_2, "0.5"),
    _p("COD", "化学需氧量", WATER_2, "1"), _p("TOC", "总有机碳", WATER_2, "0.49"),
    _p("petroleum", "石油类", WATER_2, "0.1"), _p("animal_oil", "动植物油", WATER_2, "0.16"),
    _p("volatile_phenol", "挥发酚", WATER_2, "0.08"), _p("cyanide", "总氰化物", WATER_2, "0.05"),
    _p("sulfide", "硫化物", WATER_2, "0.125"), _p("NH3-N", "氨氮", WATER_2, "0.8"),
    _p("fluoride_water", "氟化物", WATER_2, "0.5"),
    _p("formaldehyde_water", "甲醛", WATER_2, "0.125"),
    _p("aniline_water", "苯胺类", WATER_2, "0.2"),
    _p("nitrobenzene_water", "硝基苯类", WATER_2, "0.2"),
    _p("LAS", "阴离子表面活性剂", WATER_2, "0.2"), _p("Cu", "总铜", WATER_2, "0.1"),
    _p("Zn", "总锌", WATER_2, "0.2"), _p("Mn", "总锰", WATER_2, "0.2"),
    _p("CD2", "彩色显影剂", WATER_2, "0.2"), _p("TP", "总磷", WATER_2, "0.25"),
    _p("P", "单质磷", WATER_2, "0.05"), _p("op_pesticide", "有机磷农药", WATER_2, "0.05"),
    _p("dimethoate", "乐果", WATER_2, "0.05"),
    _p("methyl_parathion", "甲基对硫磷", WATER_2, "0.05"),
    _p("malathion", "马拉硫磷", WATER_2, "0.05"), _p("parathion", "对硫磷", WATER_2, "0.05"),
    _p("PCP", "五氯酚及五氯酚钠", WATER_2, "0.25"), _p("chloroform", "三氯甲烷", WATER_2, "0.04"),
    _p("AOX", "可吸附有机卤化物", WATER_2, "0.25"),
    _p("carbon_tetrachloride", "四氯化碳", WATER_2, "0.04"),
    _p("trichloroethylene", "三氯乙烯", WATER_2, "0.04"),
    _p("tetrachloroethylene", "四氯乙烯", WATER_2, "0.04"),
    _p("benzene_water", "苯", WATER_2, "0.02"), _p("toluene_water", "甲苯", WATER_2, "0.02"),
    _p("ethylbenzene", "乙苯", WATER_2, "0.02"), _p("o_xylene", "邻-二甲苯", WATER_2, "0.02"),
    _p("p_xylene", "对-二甲苯", WATER_2, "0.02"), _p("m_xylene", "间-二甲苯", WATER_2, "0.02"),
    _p("chlorobenzene", "氯苯", WATER_2, "0.02"),
    _p("o_dichlorobenzene", "邻二氯苯", WATER_2, "0.02"),
    _p("p_dichlorobenzene", "对二氯苯", WATER_2, "0.02"),
    _p("p_nitrochlorobenzene", "对硝基氯苯", WATER_2, "0.02"),
    _p("dinitrochlorobenzene", "2,4-二硝基氯苯", WATER_2, "0.02"),
    _p("phenol", "苯酚", WATER_2, "0.02"), _p("m_cresol", "间-甲酚", WATER_2, "0.02"),
    _p("dichlorophenol", "2,4-二氯酚", WATER_2, "0.02"),
    _p("trichlorophenol", "2,4,6-三氯酚", WATER_2, "0.02"),
    _p("DBP", "邻苯二甲酸二丁酯", WATER_2, "0.02"), _p("DOP", "邻苯二甲酸二辛酯", WATER_2, "0.02"),
    _p("acrylonitrile_water", "丙烯腈", WATER_2, "0.125"), _p("Se", "总硒", WATER_2, "0.02"),
    # air pollutants (annex 2, table 5; items 1-19 checked, the rest verify)
    _p("SO2", "二氧化硫", AIR, "0.95"), _p("NOx", "氮氧化物", AIR, "0.95"),
    _p("CO", "一氧化碳", AIR, "16.7"), _p("Cl2", "氯气", AIR, "0.34"),
    _p("HCl", "氯化氢", AIR, "10.75"), _p("fluoride_air", "氟化物", AIR, "0.87"),
    _p("HCN", "氰化氢", AIR, "0.005"), _p("sulfuric_mist", "硫酸雾", AIR, "0.6"),
    _p("chromic_mist", "铬酸雾", AIR, "0.0007"), _p("Hg_air", "汞及其化合物", AIR, "0.0001"),
    _p("general_dust", "一般性粉尘", AIR, "4"), _p("asbestos_dust", "石棉尘", AIR, "0.53"),
    _p("glass_wool_dust", "玻璃棉尘", AIR, "2.13"), _p("carbon_black_dust", "碳黑尘", AIR, "0.59"),
    _p("Pb_air", "铅及其化合物", AIR, "0.02"), _p("Cd_air", "镉及其化合物", AIR, "0.03"),
    _p("Be_air", "铍及其化合物", AIR, "0.0004"), _p("Ni_air", "镍及其化合物", AIR, "0.13"),
    _p("Sn_air", "锡及其化合物", AIR, "0.27"),
    _p("smoke_dust", "烟尘", AIR, "2.18"),  # DOMAIN §5 and the issue; annex item 20
    _p("benzene_air", "苯", AIR, "0.05", True), _p("toluene_air", "甲苯", AIR, "0.18", True),
    _p("xylene_air", "二甲苯", AIR, "0.27", True),
    _p("BaP_air", "苯并(a)芘", AIR, "0.000002", True),
    _p("formaldehyde_air", "甲醛", AIR, "0.09", True),
    _p("acetaldehyde", "乙醛", AIR, "0.45", True),
    _p("acrolein", "丙烯醛", AIR, "0.06", True), _p("methanol", "甲醇", AIR, "0.67", True),
    _p("phenols_air", "酚类", AIR, "0.35", True), _p("asphalt_fume", "沥青烟", AIR, "0.19", True),
    _p("aniline_air", "苯胺类", AIR, "0.21", True),
    _p("chlorobenzenes_air", "氯苯类", AIR, "0.72", True),
    _p("nitrobenzene_air", "硝基苯", AIR, "0.17", True),
    _p("acrylonitrile_air", "丙烯腈", AIR, "0.22", True),
    _p("vinyl_chloride", "氯乙烯", AIR, "0.55", True), _p("phosgene", "光气", AIR, "0.04", True),
    _p("H2S", "硫化氢", AIR, "0.29", True), _p("NH3", "氨", AIR, "9.09", True),
    _p("trimethylamine", "三甲胺", AIR, "0.32", True),
    _p("methyl_mercaptan", "甲硫醇", AIR, "0.04", True),
    _p("dimethyl_sulfide", "甲硫醚", AIR, "0.28", True),
    _p("dimethyl_disulfide", "二甲二硫", AIR, "0.28", True),
    _p("styrene", "苯乙烯", AIR, "25", True), _p("CS2", "二硫化碳", AIR, "20", True),
]

#: pollutants the platform knows that annex 2 gives no equivalent value: listed in a return as
#: "not taxed: no equivalent value" (VOCs as a total are not in annex 2 and Chongqing has not
#: added them; total nitrogen is not in the annex's water tables).
NO_EQUIVALENT_VALUE: dict[str, tuple[str, str]] = {
    "VOCs": ("挥发性有机物", "air"),
    "TN": ("总氮", "water"),
}

#: the platform's "PM" is annex 2's smoke dust (烟尘) for combustion sources and its general
#: dust (一般性粉尘) otherwise (DOMAIN §5; issue 15).
PM = "PM"

#: source kinds of an outlet: combustion (boilers, power plants, kilns: PM is smoke dust);
#: process (other production: PM is general dust); municipal_sewage and municipal_waste
#: (centralised urban-rural sewage and household-waste plants, Art. 12(3)). Waste plants'
#: air outlets are incinerators, so their PM is smoke dust.
SOURCE_KINDS = ("combustion", "process", "municipal_sewage", "municipal_waste")
PM_AS: dict[str, str] = {"combustion": "smoke_dust", "process": "general_dust",
                         "municipal_sewage": "general_dust", "municipal_waste": "smoke_dust"}
#: which media Art. 12(3) exempts for each source kind ("排放相应应税污染物")
EXEMPT_MEDIA: dict[str, tuple[str, ...]] = {"municipal_sewage": ("water",),
                                             "municipal_waste": ("air", "water")}

#: annex 2, table 2, note 2: of these at one outlet only one is taxed (the one with the most
#: equivalents: the platform's reading of the note; verify against local practice)
ONE_OF = ("COD", "BOD5", "TOC")


@dataclass(frozen=True)
class Rate:
    fen: int  # per pollution equivalent
    source: str
    effective: date
    verify: bool = False


@dataclass(frozen=True)
class TaxParameters:
    version: str
    effective: date
    pollutants: dict[str, TaxPollutant]
    #: province → medium → rate
    rates: dict[str, dict[str, Rate]]
    #: statutory band per medium, fen per equivalent (annex 1)
    bands: dict[str, tuple[int, int]] = field(default_factory=lambda: {
        "air": (120, 1200), "water": (140, 1400)})
    #: Art. 9 top-N per class (a province may raise them: Chongqing has not, verify)
    top_n: dict[str, int] = field(default_factory=lambda: {AIR: 3, WATER_1: 5, WATER_2: 3})
    #: Art. 13: (ratio of the month's average to the standard at most, percent payable)
    reductions: tuple[tuple[Decimal, int], ...] = ((Decimal("0.5"), 50), (Decimal("0.7"), 75))
    #: Art. 19: filed within this many days of the quarter's end
    filing_days: int = 15


CQ_SOURCE = ("重庆市人大常委会关于重庆市大气污染物和水污染物环境保护税适用税额的决定 (2017), "
             "from 2018-01-01 (verify)")

VERSIONS: dict[str, TaxParameters] = {
    "2018.1": TaxParameters(
        version="2018.1", effective=date(2018, 1, 1),
        pollutants={p.code: p for p in _ANNEX_2018},
        rates={"CQ": {"air": Rate(240, CQ_SOURCE, date(2018, 1, 1), True),
                      "water": Rate(300, CQ_SOURCE, date(2018, 1, 1), True)}}),
}

DEFAULT_PROVINCE = "CQ"


def parameters_for(day: date) -> TaxParameters:
    """The newest version in force on `day` (the first version for earlier days)."""
    chosen = min(VERSIONS.values(), key=lambda v: v.effective)
    for v in VERSIONS.values():
        if chosen.effective < v.effective <= day:
            chosen = v
    return chosen
