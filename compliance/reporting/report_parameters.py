"""Execution-report parameters (pure, versioned): which reports a permit owes by its management
class and sector, when each is due, which structured fields each kind must carry, and the
shortest holding time that makes a period reportable.

Sources (read through public mirrors of the standard and of issued permits; the full text of
HJ 944-2018 could not be read, so each value says how sure it is):

- HJ 944-2018 排污单位环境管理台账及排污许可证执行报告技术规范 总则, §5.3: the report is
  annual, (half-yearly), quarterly or monthly; the annual report covers basic information
  with products, output and production load, treatment facilities' operation, self-monitoring,
  the environmental management records (台账), actual emissions and compliance, the
  environmental protection tax (排污费) paid, and carries the unit's commitment (承诺书) that
  its contents are true (mirror: sf850.com/news/265999_3.html, §5.3 and §5.3.1).
- Report frequencies and deadlines as issued permits write them (mirror of
  permit.mee.gov.cn texts, chngreenchain.com/File/PWExecutiveReport?Id=165613, a cement
  permit): annual "每年1月底之前", quarterly "每季度结束后15日内"; the quarterly report at
  least carries the actual emissions, the compliance analysis (monitoring results) and the
  abnormal operation of treatment facilities.
- The 2016 thermal-power specification's permit text (same mirror, Id=162944): annual by
  15 January of the next year, quarterly by the 15th of the quarter's next month, monthly by
  the 15th of the next month; a unit that held its permit less than 3 months of a year need
  not file that annual report (it goes into the next one), less than 1 month of a quarter
  need not file that quarterly report, and a unit filing the annual report may skip the
  same period's quarterly one.
- Regulation Art. 22: reports follow the contents, frequency and times the permit sets, so
  the permit's management class and sector decide, not a fixed day.
- Management classes by sector: 固定污染源排污许可分类管理名录 (2019): thermal power, iron and
  steel, cement clinker are key (重点) management; pulp/paper, chemicals and sewage plants
  are key above the list's thresholds; boilers not on a key-unit list are simplified
  (简化). The permit register does not record the class yet (another issue adds it): until
  then it is this table's default by sector. Marked "verify" where the threshold decides.

Monthly reports (the 2016 thermal-power and paper specifications) are not modelled: the
platform stores annual and quarterly reports; a permit whose spec demands monthly ones is
flagged by `monthly_required` so the bureau can see it (verify).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

KEY, SIMPLIFIED = "key", "simplified"
CLASSES = (KEY, SIMPLIFIED)
ANNUAL, QUARTERLY = "annual", "quarterly"

#: structured fields of a report (API JSON names = import column names)
FIELDS = ("operating_hours", "output", "output_unit", "capacity", "facility_normal_hours",
          "facility_abnormal_hours", "abnormal_reason", "monitoring_samples",
          "monitoring_exceedances", "records_kept", "tax_paid_fen", "commitment",
          "commitment_by")

#: units of the production output (the sector's product): tonnes, MWh, cubic metres
OUTPUT_UNITS = ("t", "MWh", "m3")


@dataclass(frozen=True)
class ReportRule:
    """What a permit of one class (and sector) files and when."""

    kinds: tuple[str, ...]
    #: the annual report is due by this (month, day) of the next year
    annual_due: tuple[int, int]
    #: a quarterly report is due this many days after the quarter's last day
    quarterly_due_days: int
    source: str
    verify: bool = False
    #: the sector's specification also asks for monthly reports (not modelled)
    monthly_required: bool = False


@dataclass(frozen=True)
class ReportParameters:
    version: str
    valid_from: date
    #: sector → management class, until the permit register records the class
    default_class: Mapping[str, str]
    #: (class, sector) or (class, None) for every sector → rule
    rules: Mapping[tuple[str, str | None], ReportRule]
    #: shortest holding in a period (days) that makes a report of that kind due
    min_held_days: Mapping[str, int]
    #: fields every report of the kind must carry
    required: Mapping[str, tuple[str, ...]]
    sources: Mapping[str, str] = field(default_factory=dict)

    def management_class(self, sector: str | None) -> str:
        """The class of a permit in `sector`: the table's default; key when the sector is
        unknown (the stricter duty: more reports, never fewer)."""
        return self.default_class.get(sector or "", KEY)

    def rule(self, management_class: str, sector: str | None = None) -> ReportRule:
        r = self.rules.get((management_class, sector))
        return r if r is not None else self.rules[(management_class, None)]


_ANNUAL_FIELDS = ("operating_hours", "output", "output_unit", "capacity",
                  "facility_normal_hours", "facility_abnormal_hours", "monitoring_samples",
                  "monitoring_exceedances", "records_kept", "tax_paid_fen", "commitment",
                  "commitment_by")
_QUARTERLY_FIELDS = ("facility_abnormal_hours", "monitoring_samples",
                     "monitoring_exceedances")

_HJ944 = ("HJ 944-2018 §5.3; permit texts: annual by end of January, quarterly within 15 "
          "days of the quarter's end")
_POWER = ("2016 thermal-power specification's permit text: annual by 15 January, quarterly "
          "by the 15th of the next month, monthly too (verify against HJ 944 / the current "
          "permit)")

V2018 = ReportParameters(
    # the platform's first rule: a fixed 15th of the month after the period, any class; kept
    # to explain the due dates stored on reports filed under it
    version="2018.1",
    valid_from=date(2018, 1, 1),
    default_class=MappingProxyType({}),
    rules=MappingProxyType({
        (KEY, None): ReportRule((ANNUAL, QUARTERLY), (1, 15), 15, "fixed day (superseded)",
                                verify=True),
        (SIMPLIFIED, None): ReportRule((ANNUAL, QUARTERLY), (1, 15), 15,
                                       "fixed day (superseded)", verify=True),
    }),
    min_held_days=MappingProxyType({ANNUAL: 0, QUARTERLY: 0}),
    required=MappingProxyType({ANNUAL: (), QUARTERLY: ()}),
)

V2026 = ReportParameters(
    version="2026.1",
    valid_from=date(2026, 1, 1),
    default_class=MappingProxyType({
        "thermal_power": KEY,       # 名录 2019: 火力发电 all key
        "steel": KEY,               # 炼铁, 炼钢, 烧结 key
        "cement": KEY,              # clinker key (grinding-only plants simplified: verify)
        "chemicals": KEY,           # verify: depends on the product line
        "paper": KEY,               # pulp key; paper making without pulping simplified: verify
        "sewage": KEY,              # ≥ 20 000 t/d key, 500-20 000 t/d simplified: verify
        "industrial_boiler": SIMPLIFIED,  # not on a key-unit list: verify
    }),
    rules=MappingProxyType({
        (KEY, None): ReportRule((ANNUAL, QUARTERLY), (1, 31), 15, _HJ944),
        (KEY, "thermal_power"): ReportRule((ANNUAL, QUARTERLY), (1, 15), 15, _POWER,
                                           verify=True, monthly_required=True),
        (SIMPLIFIED, None): ReportRule((ANNUAL,), (1, 31), 15,
                                       "HJ 944-2018: simplified units file the annual report "
                                       "(quarterly only where the sector spec says)"),
    }),
    min_held_days=MappingProxyType({ANNUAL: 90, QUARTERLY: 30}),
    required=MappingProxyType({ANNUAL: _ANNUAL_FIELDS, QUARTERLY: _QUARTERLY_FIELDS}),
    sources=MappingProxyType({
        "contents": "HJ 944-2018 §5.3.1 (annual), permit texts (quarterly subset)",
        "classes": "固定污染源排污许可分类管理名录 (2019), defaults by sector: verify",
        "min_held_days": "permit texts after HJ 944: < 3 months no annual, < 1 month no "
                         "quarterly report (verify)",
    }),
)

VERSIONS: Mapping[str, ReportParameters] = MappingProxyType(
    {V2018.version: V2018, V2026.version: V2026})
CURRENT = V2026.version


def report_parameters(version: str | None = None) -> ReportParameters:
    """The named version, or the current one."""
    return VERSIONS[version or CURRENT]
