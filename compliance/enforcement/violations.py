"""The kinds of violation of the Regulation on the Administration of Pollutant Discharge
Permits (排污许可管理条例, State Council Order 736, in force 2021-03-01), each with its article,
item and statutory fine range (pure, versioned data).

Guarantees:
- `kind(code)` returns the kind's article, item, range in fen, "per instance" flag and the
  Chinese legal basis; an unknown code raises `UnknownViolationKind` naming `field`
  ("kind" unless told), never a KeyError;
- a kind's range for a violation of `n` instances is n × the statutory range where the
  article fines "per instance" (每次, Art. 37), else the statutory range itself; `n` must be
  1 for the other kinds;
- ranges are integer fen; a table version is never edited once used: a change of law is a
  new version (the old one stays so that old violations still show the range they carried).

Sources (checked with the project's search tool, see `SOURCES`): Art. 33 and Art. 34
(200 000 - 1 000 000 yuan; the items quoted) from public copies of the Regulation's text;
Art. 37 (每次 5 000 - 20 000 yuan for not submitting or not truthfully reporting the
execution report) quoted on a public page. Art. 35 (50 000 - 200 000 yuan) and Art. 36
(20 000 - 200 000 yuan) and the item numbers of Art. 36 and Art. 37 could not be read in the
stored references: those kinds carry `verify=True` and the page says so. Art. 35 may add a
higher tier for serious cases (情节严重); not modelled: verify.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.errors import BadViolation, UnknownViolationKind

VERSION = "order736.2021-1"

_YUAN = 100
#: Chinese numerals for articles 30-49 and items 1-9 (enough for chapter 5 of Order 736)
_ZH_DIGITS = "零一二三四五六七八九"
REGULATION_ZH = "《排污许可管理条例》"
REGULATION_EN = "Regulation on the Administration of Pollutant Discharge Permits"

SOURCES: dict[int, str] = {
    33: "Order 736 Art. 33 text quoted at jinhhb.com/cjwt/1932-cn.html",
    34: "Order 736 Art. 34 (items: exceeding permitted concentration or quantity; evading "
        "supervision) summarised at m.taobaogwzx.com/news/2676-cn.html",
    35: "brief of issue 15; not found in the stored references: verify",
    36: "brief of issue 15; not found in the stored references: verify",
    37: "Order 736 Art. 37 quoted at gdxjshb.com/detail/932183.html (每次5千元以上2万元以下; "
        "execution report not submitted or untrue); item numbers: verify",
}


def _zh_number(n: int) -> str:
    if n < 10:
        return _ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class ViolationKind:
    code: str
    name_zh: str
    name_en: str
    article: int
    item: int | None
    min_fen: int
    max_fen: int
    per_instance: bool
    verify: bool

    @property
    def article_ref(self) -> str:
        """"34(1)" for Art. 34 item 1, "33" for a whole article."""
        return f"{self.article}({self.item})" if self.item else str(self.article)

    @property
    def basis_zh(self) -> str:
        """The legal basis as a decision writes it: 《排污许可管理条例》第三十四条第一项."""
        item = f"第{_zh_number(self.item)}项" if self.item else ""
        return f"{REGULATION_ZH}第{_zh_number(self.article)}条{item}"

    @property
    def basis_en(self) -> str:
        return f"Regulation Art. {self.article_ref}"

    @property
    def source(self) -> str:
        return SOURCES[self.article]

    def range_fen(self, instances: int = 1) -> tuple[int, int]:
        """The fine range in fen for a violation of `instances` instances."""
        n = check_instances(self, instances)
        return self.min_fen * n, self.max_fen * n

    def to_dict(self) -> dict[str, object]:
        return dict(code=self.code, name_zh=self.name_zh, name_en=self.name_en,
                    article=self.article, item=self.item, article_ref=self.article_ref,
                    min_fen=self.min_fen, max_fen=self.max_fen,
                    per_instance=self.per_instance, basis_zh=self.basis_zh,
                    source=self.source, verify=self.verify, version=VERSION)


def _k(code: str, zh: str, en: str, art: int, item: int | None, lo_yuan: int, hi_yuan: int,
       *, per_instance: bool = False, verify: bool = False) -> ViolationKind:
    return ViolationKind(code, zh, en, art, item, lo_yuan * _YUAN, hi_yuan * _YUAN,
                         per_instance, verify)


_ORDER736 = (
    _k("no_valid_permit", "无证或超期排污", "Discharging without a valid permit", 33, None,
       200_000, 1_000_000),
    _k("quantity_exceedance", "超许可排放量排污", "Discharging beyond the permitted quantity",
       34, 1, 200_000, 1_000_000),
    _k("concentration_exceedance", "超许可排放浓度排污",
       "Discharging beyond the permitted concentration", 34, 1, 200_000, 1_000_000),
    _k("evading_supervision", "逃避监管方式排污",
       "Evading supervision (hidden pipes, falsified monitoring, facilities not run)",
       34, 2, 200_000, 1_000_000),
    _k("fugitive_emission", "未按规定控制无组织排放", "Fugitive air emissions not controlled",
       35, 1, 50_000, 200_000, verify=True),
    _k("special_period_breach", "特殊时段未停止或限制排污",
       "Not stopping or limiting discharge in a special period", 35, 2, 50_000, 200_000,
       verify=True),
    _k("outlet_nonconformity", "排放口或排放方式不符合许可",
       "Outlets or discharge mode not as permitted", 36, 1, 20_000, 200_000, verify=True),
    _k("monitoring_failure", "自动监测设备未正常运行或监测缺失",
       "Automatic monitoring not installed, networked or running; monitoring gaps", 36, 2,
       20_000, 200_000, verify=True),
    _k("self_monitoring_failure", "未按规定开展自行监测",
       "Self-monitoring not done as the permit requires", 36, 3, 20_000, 200_000,
       verify=True),
    _k("disclosure_failure", "未按规定公开排放信息", "Emission information not disclosed",
       36, 5, 20_000, 200_000, verify=True),
    _k("records_failure", "未建立或未如实记录环境管理台账",
       "Environmental management records missing or untrue", 37, 1, 5_000, 20_000,
       per_instance=True, verify=True),
    _k("report_missing", "未按规定提交执行报告",
       "Execution report missing or late", 37, 3, 5_000, 20_000, per_instance=True,
       verify=True),
    _k("report_untrue", "执行报告未如实报告", "Execution report untrue", 37, 4, 5_000,
       20_000, per_instance=True, verify=True),
)

TABLES: dict[str, dict[str, ViolationKind]] = {VERSION: {k.code: k for k in _ORDER736}}
#: the per-instance ceiling on instances of one violation (a typo guard, not a rule of law)
MAX_INSTANCES = 1000


def kinds(version: str = VERSION) -> list[ViolationKind]:
    return list(TABLES[version].values())


def codes(version: str = VERSION) -> tuple[str, ...]:
    return tuple(TABLES[version])


def kind(code: object, *, version: str = VERSION, field: str = "kind") -> ViolationKind:
    """The kind with this code, or `UnknownViolationKind` naming `field`."""
    table = TABLES[version]
    if not isinstance(code, str) or code.strip() not in table:
        raise UnknownViolationKind(
            f"{field}: unknown violation kind {str(code)[:40]!r} (one of "
            f"{', '.join(table)})", field=field)
    return table[code.strip()]


def check_instances(k: ViolationKind, instances: object) -> int:
    if isinstance(instances, bool) or not isinstance(instances, int):
        raise BadViolation("instances must be a whole number", field="instances")
    if k.per_instance:
        if not 1 <= instances <= MAX_INSTANCES:
            raise BadViolation(f"instances must be 1-{MAX_INSTANCES}", field="instances")
    elif instances != 1:
        raise BadViolation(f"Art. {k.article} fines per violation, not per instance: "
                           "instances must be 1", field="instances")
    return instances


def yuan_text(fen: int) -> str:
    """Whole yuan with thousands separators (fen shown only when present)."""
    whole, part = divmod(fen, 100)
    return f"{whole:,}" + (f".{part:02d}" if part else "")


def range_text(lo_fen: int, hi_fen: int) -> str:
    return f"{yuan_text(lo_fen)}-{yuan_text(hi_fen)} yuan"
