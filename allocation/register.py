"""The permit register's rules (pure): reading a permit export row by row, the permit's
content, and the permit's life (term, renewal window, shown status).

Guarantees:
- `parse_permit_rows` never raises for bad data: every problem is a `RowError` naming the
  file line (1 = the header) and the column; rows are grouped into one `PermitRecord` per
  permit code, and a permit any of whose rows is wrong is reported, never half-read.
- quantities are whole kilograms: a tonne figure with more than 3 decimals is an error,
  never rounded (published permits give tonnes to 3 decimals, DOMAIN §2).
- a permit's term is at most 5 years (排污许可管理条例 Art. 14: 有效期为5年):
  valid_to ≤ valid_from + 5 years − 1 day.
- renewal (延续) is applied for at least 60 days before expiry (Art. 14: 应当于排污许可证有效期
  届满60日前向审批部门提出申请): later but before expiry it is accepted and flagged late;
  after expiry it is refused (`RenewalAfterExpiry`).
- `content_hash` is the same for the same permit content whatever the row order, so
  importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from kernel.beijing import beijing_today
from kernel.clock import system_clock
from kernel.errors import Conflict, InvalidInput, NotFound
from kernel.ids import CREDIT_ALPHABET, credit_check_char
from kernel.pollutants import Pollutant

TERM_YEARS = 5
RENEWAL_NOTICE_DAYS = 60

# --------------------------------------------------------------------------- errors


class PermitFileRejected(InvalidInput):
    """A permit file has row errors (all or nothing): `details["errors"]` lists them."""

    code = "bad_permit_file"


class PermitTermTooLong(InvalidInput):
    code = "permit_term_too_long"


class RenewalAfterExpiry(Conflict):
    """A renewal applied for after the permit expired: a new application, not a renewal."""

    code = "renewal_after_expiry"


class PermitNotActive(Conflict):
    """Revoked or cancelled permits are not changed, renewed or ended again."""

    code = "permit_not_active"


class BadLifeStep(InvalidInput):
    code = "bad_permit_step"


class ImportNotFound(NotFound):
    code = "permit_import_not_found"


# --------------------------------------------------------------------------- vocabularies

#: management class (分类管理名录): code -> Chinese
MANAGEMENT_CLASSES = {"key": "重点管理", "simplified": "简化管理", "registration": "登记管理"}
_CLASS_ALIASES = {"key": "key", "重点": "key", "重点管理": "key",
                  "simplified": "simplified", "简化": "simplified", "简化管理": "simplified",
                  "registration": "registration", "登记": "registration",
                  "登记管理": "registration"}
#: outlet type: code -> Chinese
OUTLET_TYPES = {"main": "主要排放口", "general": "一般排放口", "fugitive": "无组织排放"}
_OUTLET_ALIASES = {"main": "main", "主要排放口": "main", "主要": "main",
                   "general": "general", "一般排放口": "general", "一般": "general",
                   "fugitive": "fugitive", "无组织": "fugitive", "无组织排放": "fugitive"}
#: concentration units by medium
UNITS = {"air": ("mg/m3", "mg/Nm3"), "water": ("mg/L",)}
#: GB/T 4754-2017 industry codes of the platform's sectors: code -> (sector, name).
#: The form is a section letter and 2-4 digits; a well-formed code not listed is refused
#: as unknown (the platform computes quantities only for these sectors).
INDUSTRY_CODES: dict[str, tuple[str, str]] = {
    "D4411": ("thermal_power", "火力发电"),
    "D4412": ("thermal_power", "热电联产"),
    "D4430": ("industrial_boiler", "热力生产和供应"),
    "C3110": ("steel", "炼铁"),
    "C3120": ("steel", "炼钢"),
    "C3130": ("steel", "钢压延加工"),
    "C3011": ("cement", "水泥制造"),
    "C2611": ("chemicals", "无机酸制造"),
    "C2613": ("chemicals", "无机盐制造"),
    "C2614": ("chemicals", "有机化学原料制造"),
    "C2619": ("chemicals", "其他基础化学原料制造"),
    "C2621": ("chemicals", "氮肥制造"),
    "C2651": ("chemicals", "初级形态塑料及合成树脂制造"),
    "C2211": ("paper", "木竹浆制造"),
    "C2221": ("paper", "机制纸及纸板制造"),
    "D4620": ("sewage", "污水处理及其再生利用"),
}
_INDUSTRY_RE = re.compile(r"^[A-T][0-9]{2,4}$")
_OUTLET_RE = re.compile(r"^[A-Za-z0-9\-_]{1,20}$")
_QTY_COL = re.compile(r"^quantity_(\d{4})_t$")
_QTY_ANY = re.compile(r"^quantity_")
_NOISE_PERIODS = ("day", "night")
MAX_TEXT = 500

REQUIRED = ("permit_code", "credit_code", "enterprise_name", "industry_code",
            "management_class", "district", "valid_from", "valid_to")
OUTLET_COLUMNS = ("outlet_id", "outlet_type", "pollutant", "limit_concentration",
                  "limit_unit")
OPTIONAL = ("medium", "eia_number", "eia_date", "eia_approved_t", "eia_requirements",
            "noise_zone_class", "noise_day_db", "noise_night_db", "solid_waste")
#: the columns in the documented order (quantity columns follow: quantity_YYYY_t)
COLUMNS = REQUIRED + OUTLET_COLUMNS + OPTIONAL


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    code: str
    message: str
    permit: str = ""


@dataclass(frozen=True, slots=True)
class Outlet:
    outlet_id: str
    outlet_type: str  # main | general | fugitive
    medium: str  # air | water
    pollutant: str
    limit: str  # decimal text, as published
    unit: str
    #: year -> kg (main and fugitive outlets of traded pollutants)
    quantities: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class NoiseLimit:
    period: str  # day | night
    zone_class: str  # GB 12348 functional zone class 0..4
    limit_db: int


@dataclass(frozen=True, slots=True)
class SolidWaste:
    kind: str
    self_disposal: str
    transfer: str


@dataclass
class PermitRecord:
    """One permit (or registration record) as the file gives it."""

    code: str
    credit_code: str
    enterprise_name: str
    industry_code: str
    management_class: str
    district: str
    valid_from: date
    valid_to: date
    outlets: list[Outlet] = field(default_factory=list)
    eia_number: str = ""
    eia_date: date | None = None
    eia_kg: dict[str, int] = field(default_factory=dict)
    eia_requirements: str = ""
    noise: list[NoiseLimit] = field(default_factory=list)
    solid_waste: list[SolidWaste] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    _content: dict[str, object] | None = field(default=None, repr=False, compare=False)
    _hash: str | None = field(default=None, repr=False, compare=False)

    @property
    def site_seq(self) -> int:
        return int(self.code[18:21])

    @property
    def sector(self) -> str:
        return INDUSTRY_CODES[self.industry_code][0]

    def quantities(self) -> dict[tuple[str, int], int]:
        """(pollutant, year) -> kg: the permit's annual permitted quantities, summed over its
        outlets."""
        out: dict[tuple[str, int], int] = {}
        for o in self.outlets:
            for year, kg in o.quantities:
                out[(o.pollutant, year)] = out.get((o.pollutant, year), 0) + kg
        return out

    def content(self) -> dict[str, object]:
        """The permit's content as stored (JSON-able, canonical order)."""
        if self._content is None:
            self._content = self._make_content()
        return self._content

    def _make_content(self) -> dict[str, object]:
        return dict(
            code=self.code, credit_code=self.credit_code,
            enterprise_name=self.enterprise_name, industry_code=self.industry_code,
            management_class=self.management_class, district=self.district,
            valid_from=self.valid_from.isoformat(), valid_to=self.valid_to.isoformat(),
            outlets=sorted((dict(outlet_id=o.outlet_id, outlet_type=o.outlet_type,
                                 medium=o.medium, pollutant=o.pollutant, limit=o.limit,
                                 unit=o.unit, quantities=[list(q) for q in o.quantities])
                            for o in self.outlets),
                           key=lambda o: (o["outlet_id"], o["pollutant"])),
            eia_number=self.eia_number,
            eia_date=self.eia_date.isoformat() if self.eia_date else None,
            eia_kg=dict(sorted(self.eia_kg.items())), eia_requirements=self.eia_requirements,
            noise=sorted((asdict(n) for n in self.noise),
                         key=lambda n: (n["period"], n["zone_class"])),
            solid_waste=sorted((asdict(w) for w in self.solid_waste),
                               key=lambda w: w["kind"]))

    def content_hash(self) -> str:
        if self._hash is None:
            text = json.dumps(self.content(), sort_keys=True, ensure_ascii=False,
                              separators=(",", ":"))
            self._hash = hashlib.sha256(text.encode()).hexdigest()
        return self._hash


# --------------------------------------------------------------------------- small rules


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def term_end_limit(valid_from: date) -> date:
    """The last day a permit starting on `valid_from` may be valid (5-year term)."""
    return add_years(valid_from, TERM_YEARS) - timedelta(days=1)


def check_term(valid_from: date, valid_to: date, field: str = "valid_to") -> None:
    if valid_to < valid_from:
        raise PermitTermTooLong(f"valid_to {valid_to} is before valid_from {valid_from}",
                                field=field)
    if valid_to > term_end_limit(valid_from):
        raise PermitTermTooLong(
            f"a permit is valid for at most {TERM_YEARS} years: valid_to must be on or before "
            f"{term_end_limit(valid_from).isoformat()}", field=field)


def renewal_deadline(valid_to: date) -> date:
    """The last day to apply for renewal on time (60 days before expiry)."""
    return valid_to - timedelta(days=RENEWAL_NOTICE_DAYS)


def renewal_is_late(applied_on: date, valid_to: date) -> bool:
    """True if applied within the 60 days before expiry; refused after expiry."""
    if applied_on > valid_to:
        raise RenewalAfterExpiry(
            f"the permit expired on {valid_to.isoformat()}: a renewal must be applied for "
            f"before expiry (by {renewal_deadline(valid_to).isoformat()}), apply for a new "
            "permit", field="applied_on")
    return applied_on > renewal_deadline(valid_to)


def shown_status(status: str, valid_to: date, today: date) -> str:
    """The status to show: a permit past its validity whose stored status still says valid
    is expired."""
    if status == "valid" and today > valid_to:
        return "expired"
    return status


def permit_status(status: str, valid_to: date, now: datetime | None = None) -> str:
    """The status of a permit as every page, API response and the public register shows it
    (issue 18): valid, expired, revoked or cancelled at today's date in Beijing; a permit
    whose stored status still says valid after its last valid day is expired."""
    return shown_status(status, valid_to, beijing_today(now or system_clock()))


def expiring(valid_to: date, today: date) -> bool:
    """Within the renewal notice window (or expired) and so to be flagged."""
    return valid_to <= today + timedelta(days=RENEWAL_NOTICE_DAYS)


def overlaps(a_from: date, a_to: date, b_from: date, b_to: date) -> bool:
    return a_from <= b_to and b_from <= a_to


@lru_cache(maxsize=1 << 16)
def credit_code_error(code: str) -> str | None:
    """Why a unified social credit code is not valid (GB 32100-2015), or None."""
    if len(code) != 18:
        return f"credit code {code!r} is not 18 characters"
    if any(c not in CREDIT_ALPHABET for c in code) or not code[2:8].isdigit():
        return f"credit code {code!r} has characters outside GB 32100"
    if credit_check_char(code[:17]) != code[17]:
        return f"credit code {code!r} fails its check digit"
    return None


def permit_code_error(code: str, credit_code: str) -> str | None:
    if len(code) != 22:
        return f"permit code {code!r} is not 22 characters"
    if not code[18:21].isdigit():
        return f"permit code {code!r}: characters 19-21 must be the site sequence"
    if credit_code and code[:18] != credit_code:
        return f"permit code {code!r} does not start with the credit code {credit_code}"
    return None


def tonnes_to_kg(text: str) -> int:
    """'12.345' tonnes -> 12345 kg; more than 3 decimals, a unit or a negative is refused."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number of tonnes") from None
    if not d.is_finite() or d < 0:
        raise ValueError(f"{text!r} is not a non-negative number of tonnes")
    kg = d * 1000
    if kg != kg.to_integral_value():
        raise ValueError(f"{text!r} t is not a whole number of kg (at most 3 decimals)")
    if kg > 10**13:
        raise ValueError(f"{text!r} t is out of range")
    return int(kg)


def parse_class(text: str) -> str | None:
    return _CLASS_ALIASES.get(text.strip().lower() if text.isascii() else text.strip())


def parse_outlet_type(text: str) -> str | None:
    return _OUTLET_ALIASES.get(text.strip().lower() if text.isascii() else text.strip())


def industry_error(code: str) -> str | None:
    if not _INDUSTRY_RE.match(code):
        return f"industry code {code!r} is not a GB/T 4754 code (a letter and 2-4 digits)"
    if code not in INDUSTRY_CODES:
        return f"unknown industry code {code!r}"
    return None


_POLLUTANTS = {k: p for p in Pollutant for k in (p.value, p.value.upper(), p.name)}


def _pollutant(text: str) -> Pollutant | None:
    """The traded pollutant a text names (code, any case, or enum name), or None."""
    return _POLLUTANTS.get(text) or _POLLUTANTS.get(text.upper())


def _date(text: str) -> date:
    return date.fromisoformat(text.strip())


def _medium_of(outlet_id: str, pollutant: str, given: str) -> str | None:
    if given:
        return given if given in ("air", "water") else None
    p = _pollutant(pollutant)
    if p is not None:
        return p.medium
    if outlet_id.upper().startswith("DW"):
        return "water"
    return "air"


def parse_noise(zone_class: str, day: str, night: str) -> list[NoiseLimit]:
    out: list[NoiseLimit] = []
    if not zone_class and not day and not night:
        return out
    if zone_class not in ("0", "1", "2", "3", "4", "4a", "4b"):
        raise ValueError(f"noise zone class {zone_class!r} is not 0-4 (GB 12348)")
    for period, text in (("day", day), ("night", night)):
        if text:
            if not text.isdigit() or not 30 <= int(text) <= 90:
                raise ValueError(f"noise {period} limit {text!r} is not 30-90 dB(A)")
            out.append(NoiseLimit(period, zone_class, int(text)))
    return out


def parse_solid_waste(text: str) -> list[SolidWaste]:
    """'kind:self-disposal:transfer; ...' (any of the three parts may be empty but kind)."""
    out = []
    for item in (x.strip() for x in text.split(";")):
        if not item:
            continue
        parts = [p.strip() for p in item.split(":")]
        if len(parts) > 3 or not parts[0]:
            raise ValueError(f"solid waste {item!r} is not kind:self-disposal:transfer")
        parts += [""] * (3 - len(parts))
        out.append(SolidWaste(parts[0][:100], parts[1][:MAX_TEXT], parts[2][:MAX_TEXT]))
    return out


# --------------------------------------------------------------------------- the file


@dataclass
class Parsed:
    records: list[PermitRecord]
    errors: list[RowError]
    #: codes of permits with at least one error (never imported)
    rejected: set[str]
    rows: int


_PERMIT_FIELDS = ("credit_code", "enterprise_name", "industry_code", "management_class",
                  "district", "valid_from", "valid_to", "eia_number", "eia_date",
                  "eia_requirements", "noise_zone_class", "noise_day_db", "noise_night_db",
                  "solid_waste")


def _guarded(rows: Iterable[Sequence[str]], sink: list[RowError]
             ) -> Iterator[Sequence[str]]:
    """The rows of a reader until it finds the file malformed (`csv.Error`: a field longer
    than the csv module's limit, a stray quote in strict mode): that is one error in `sink`
    (field "file", code "malformed_csv", at the reader's line), never an exception."""
    it = iter(rows)
    n = 0
    while True:
        try:
            row = next(it)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(rows, "line_num", n + 1) or n + 1
            sink.append(RowError(line, "file", "malformed_csv", f"malformed CSV: {exc}"))
            return
        n += 1
        yield row


def parse_permit_rows(rows: Iterable[Sequence[str]], *, districts: Iterable[str]
                      ) -> Parsed:
    """Read the rows of a permit export (the first row is the header) into permits.

    `districts`: the known district codes. Checks that need the database (validity overlap
    with stored permits of the same site) are the service's."""
    read_errors: list[RowError] = []
    it = _guarded(rows, read_errors)
    known = set(districts)
    errors: list[RowError] = []
    try:
        header = [h.strip().lower() for h in next(it)]
    except StopIteration:
        return Parsed([], read_errors or [RowError(1, "file", "empty",
                                                   "the file has no header row")], set(), 0)
    index = {h: i for i, h in enumerate(header)}
    years: dict[int, int] = {}
    for i, h in enumerate(header):
        m = _QTY_COL.match(h)
        if m:
            years[i] = int(m.group(1))
        elif _QTY_ANY.match(h):
            errors.append(RowError(1, h, "bad_unit", f"column {h!r}: quantities are given in "
                                   "tonnes, as quantity_YYYY_t"))
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        errors.append(RowError(1, missing[0], "missing_column",
                               f"missing column(s): {', '.join(missing)}"))
    if errors:
        return Parsed([], errors, set(), 0)

    def cell(cells: Sequence[str], name: str) -> str:
        i = index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    records: dict[str, PermitRecord] = {}
    first: dict[str, tuple[int, dict[str, str]]] = {}
    seen_outlets: dict[tuple[str, str, str], int] = {}
    rejected: set[str] = set()
    n = 0
    for line, cells in enumerate(it, start=2):
        if not any(c.strip() for c in cells):
            continue
        n += 1
        code = cell(cells, "permit_code")
        row_errors: list[RowError] = []

        def bad(col: str, why: str, kind: str = "invalid", _code: str = code,
                _line: int = line, _errs: list[RowError] = row_errors) -> None:
            _errs.append(RowError(_line, col, kind, why, _code))

        credit = cell(cells, "credit_code")
        why = credit_code_error(credit)
        if why:
            bad("credit_code", why, "bad_credit_code")
        why = permit_code_error(code, "" if why else credit)
        if why:
            bad("permit_code", why, "bad_permit_code")
        name = cell(cells, "enterprise_name")
        if not name or len(name) > 120:
            bad("enterprise_name", "enterprise_name must be 1-120 characters")
        industry = cell(cells, "industry_code").upper()
        why = industry_error(industry)
        if why:
            bad("industry_code", why, "unknown_industry_code")
        mclass = parse_class(cell(cells, "management_class"))
        if mclass is None:
            bad("management_class", "management_class must be key/simplified/registration "
                "(重点/简化/登记)", "bad_management_class")
        district = cell(cells, "district")
        if district not in known:
            bad("district", f"unknown district {district!r}", "unknown_district")
        vf = vt = None
        for col in ("valid_from", "valid_to"):
            try:
                d = _date(cell(cells, col))
                vf, vt = (d, vt) if col == "valid_from" else (vf, d)
            except ValueError:
                bad(col, f"{col} {cell(cells, col)!r} is not a date (YYYY-MM-DD)")
        if vf and vt:
            try:
                check_term(vf, vt)
            except PermitTermTooLong as exc:
                bad("valid_to", exc.message, exc.code)
        eia_date = None
        if cell(cells, "eia_date"):
            try:
                eia_date = _date(cell(cells, "eia_date"))
            except ValueError:
                bad("eia_date", f"eia_date {cell(cells, 'eia_date')!r} is not a date")
        noise: list[NoiseLimit] = []
        try:
            noise = parse_noise(cell(cells, "noise_zone_class"), cell(cells, "noise_day_db"),
                                cell(cells, "noise_night_db"))
        except ValueError as exc:
            bad("noise_zone_class", str(exc))
        waste: list[SolidWaste] = []
        try:
            waste = parse_solid_waste(cell(cells, "solid_waste"))
        except ValueError as exc:
            bad("solid_waste", str(exc))
        for col in ("eia_number", "eia_requirements"):
            if len(cell(cells, col)) > MAX_TEXT:
                bad(col, f"{col} is longer than {MAX_TEXT} characters")

        # the outlet and pollutant of this row
        outlet: Outlet | None = None
        oid, otype_text = cell(cells, "outlet_id"), cell(cells, "outlet_type")
        pol_text = cell(cells, "pollutant")
        qty_cells = {y: cells[i].strip() for i, y in years.items()
                     if i < len(cells) and cells[i].strip()}
        if oid or otype_text or pol_text:
            otype = parse_outlet_type(otype_text)
            if otype is None:
                bad("outlet_type", "outlet_type must be main/general/fugitive "
                    "(主要排放口/一般排放口/无组织)", "bad_outlet_type")
            if not _OUTLET_RE.match(oid):
                bad("outlet_id", f"outlet_id {oid!r} is not an outlet code (e.g. DA001)")
            p = _pollutant(pol_text)
            pollutant = p.value if p is not None else pol_text
            if not pollutant or len(pollutant) > 30:
                bad("pollutant", "pollutant must be 1-30 characters")
            medium = _medium_of(oid, pollutant, cell(cells, "medium").lower())
            if medium is None:
                bad("medium", "medium must be air or water")
            limit_text, unit = cell(cells, "limit_concentration"), cell(cells, "limit_unit")
            if limit_text:
                try:
                    lim = Decimal(limit_text)
                    if not lim.is_finite() or lim < 0:
                        raise InvalidOperation
                except InvalidOperation:
                    bad("limit_concentration",
                        f"limit_concentration {limit_text!r} is not a number")
                if medium and unit not in UNITS[medium]:
                    bad("limit_unit", f"limit_unit {unit!r} is not a {medium} concentration "
                        f"unit ({', '.join(UNITS[medium])})", "bad_unit")
            quantities: list[tuple[int, int]] = []
            for year, text in sorted(qty_cells.items()):
                col = f"quantity_{year}_t"
                try:
                    kg = tonnes_to_kg(text)
                except ValueError as exc:
                    bad(col, str(exc), "bad_quantity")
                    continue
                if mclass == "registration":
                    bad(col, "a registration record (登记管理) carries no quantities",
                        "registration_with_quantity")
                elif otype == "general":
                    bad(col, "a general outlet carries concentrations only, no quantities",
                        "general_outlet_quantity")
                elif p is None:
                    bad(col, f"no permitted quantity is kept for {pollutant!r}: quantities "
                        "are for SO2, NOx, PM, VOCs, COD, NH3-N", "untraded_pollutant")
                elif vf and vt and not vf.year <= year <= vt.year:
                    bad(col, f"year {year} is outside the validity {vf}..{vt}",
                        "year_outside_permit")
                else:
                    quantities.append((year, kg))
            if otype and medium and not any(e.field in ("outlet_id", "pollutant")
                                            for e in row_errors):
                outlet = Outlet(oid, otype, medium, pollutant, limit_text, unit,
                                tuple(quantities))
                key = (code, oid, pollutant)
                if key in seen_outlets:
                    bad("outlet_id", f"duplicate row: outlet {oid} pollutant {pollutant} "
                        f"is also on line {seen_outlets[key]}", "duplicate_row")
                else:
                    seen_outlets[key] = line
        elif qty_cells:
            bad("outlet_id", "quantities need an outlet and a pollutant")
        elif mclass in ("key", "simplified"):
            bad("outlet_id", "a permit row needs outlet_id, outlet_type and pollutant")

        # permit-level values must agree on every row of the permit
        values = {f: cell(cells, f) for f in _PERMIT_FIELDS}
        if code in first:
            line0, values0 = first[code]
            for f in _PERMIT_FIELDS:
                if values[f] != values0[f]:
                    bad(f, f"{f} differs from line {line0} of permit {code}", "conflicting_row")
        eia_t = cell(cells, "eia_approved_t")
        eia_kg = None
        if eia_t:
            try:
                eia_kg = tonnes_to_kg(eia_t)
            except ValueError as exc:
                bad("eia_approved_t", str(exc), "bad_quantity")
        if row_errors:
            errors.extend(row_errors)
            rejected.add(code)
            continue
        assert vf is not None and vt is not None and mclass is not None
        rec = records.get(code)
        if rec is None:
            first[code] = (line, values)
            rec = records[code] = PermitRecord(
                code, credit, name, industry, mclass, district, vf, vt,
                eia_number=cell(cells, "eia_number"), eia_date=eia_date,
                eia_requirements=cell(cells, "eia_requirements"), noise=noise,
                solid_waste=waste)
        rec.lines.append(line)
        if outlet is not None:
            rec.outlets.append(outlet)
            if eia_kg is not None:
                prev = rec.eia_kg.get(outlet.pollutant)
                if prev is not None and prev != eia_kg:
                    errors.append(RowError(line, "eia_approved_t", "conflicting_row",
                                           f"eia_approved_t for {outlet.pollutant} differs "
                                           "from an earlier row", code))
                    rejected.add(code)
                rec.eia_kg[outlet.pollutant] = eia_kg

    if read_errors:  # a malformed file is refused whole: nothing of it is imported
        errors = sorted(errors + read_errors, key=lambda e: (e.line, e.field))
        return Parsed([], errors, rejected | set(records), n)
    # one site, one permit at a time: codes of the same credit code and site sequence
    by_site: dict[str, list[PermitRecord]] = {}
    for rec in records.values():
        by_site.setdefault(rec.code[:21], []).append(rec)
    for group in by_site.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if overlaps(a.valid_from, a.valid_to, b.valid_from, b.valid_to):
                    errors.append(RowError(b.lines[0], "valid_from", "validity_overlap",
                                           f"permit {b.code} overlaps permit {a.code} of "
                                           "the same site", b.code))
                    rejected.add(b.code)
    good = [r for c, r in records.items() if c not in rejected]
    errors.sort(key=lambda e: (e.line, e.field))
    return Parsed(good, errors, rejected, n)


def site_overlap_errors(records: Iterable[PermitRecord],
                        stored: Mapping[str, Sequence[tuple[str, date, date, str]]]
                        ) -> list[RowError]:
    """Permits of the file whose validity overlaps a stored permit of the same site.

    `stored`: site key (credit code + 3-digit sequence) -> (code, valid_from, valid_to,
    status) of the stored permits; revoked and cancelled ones do not count."""
    out = []
    for r in records:
        for code, vf, vt, status in stored.get(r.code[:21], ()):
            if code != r.code and status not in ("revoked", "cancelled") and overlaps(
                    r.valid_from, r.valid_to, vf, vt):
                out.append(RowError(r.lines[0], "valid_from", "validity_overlap",
                                    f"permit {r.code} overlaps stored permit {code} of the "
                                    f"same site ({vf}..{vt})", r.code))
    return out
