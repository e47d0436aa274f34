"""The header of an hourly monitoring CSV (pure): which columns it has, their pollutant,
medium and unit (see `compliance.supervision.monitoring` for the format)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kernel.pollutants import Pollutant

#: the units of a concentration column, by medium
CONC_UNITS = {"air": ("mg_m3", "mg_nm3"), "water": ("mg_l",)}
FLOW_COLUMNS = {"flow_nm3_h": "air", "flow_m3_h": "water"}
#: O2 columns (air only, % vol in dry flue gas): measured O2 and the reference O2 the
#: corrected concentration refers to
O2_COLUMNS = ("o2_pct", "o2_ref_pct")
REQUIRED = ("permit", "outlet", "hour")

@dataclass(frozen=True)
class Column:
    """One column of the file: its header text and its canonical name in the frame."""

    header: str
    name: str  # permit | outlet | hour | flow_nm3_h | flow_m3_h | power_kwh | pollutant code
    kind: str  # key | flow | conc | power
    medium: str | None = None


@dataclass(frozen=True)
class Header:
    columns: tuple[Column, ...]

    @property
    def pollutants(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "conc")

    @property
    def numeric(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind not in ("key", "status"))

    @property
    def corrected(self) -> tuple[str, ...]:
        """Pollutants whose O2-corrected concentration the file gives."""
        return tuple(c.name[:-4] for c in self.columns if c.kind == "corr")

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)


class HeaderError(ValueError):
    def __init__(self, field: str | None, detail: str) -> None:
        super().__init__(detail)
        self.field, self.detail = field, detail


def _pollutant_of(name: str) -> tuple[Pollutant, str] | None:
    """The pollutant a concentration header names, and the unit after it."""
    low = name.lower()
    for p in sorted(Pollutant, key=lambda x: -len(x.value)):
        prefix = p.value.lower() + "_"
        if low.startswith(prefix):
            return p, low[len(prefix):]
    return None


def parse_header(names: Iterable[str]) -> Header:
    """The columns of a header line, or HeaderError naming the column at fault."""
    cols: list[Column] = []
    seen: set[str] = set()
    for raw in names:
        h = raw.strip().strip('"').strip()
        low = h.lower()
        if low in REQUIRED:
            col = Column(h, low, "key")
        elif low in FLOW_COLUMNS:
            col = Column(h, low, "flow", FLOW_COLUMNS[low])
        elif low.startswith("flow_"):
            raise HeaderError(h, f"column {h!r}: flow unit must be flow_nm3_h (air, Nm3/h) "
                                 f"or flow_m3_h (water, m3/h)")
        elif low == "power_kwh":
            col = Column(h, low, "power")
        elif low in O2_COLUMNS:
            col = Column(h, low, "o2", "air")
        elif low.startswith("o2"):
            raise HeaderError(h, f"column {h!r}: O2 must be given as o2_pct (measured) or "
                                 f"o2_ref_pct (reference), % in dry flue gas")
        elif low == "status":
            col = Column(h, low, "status")
        elif low.startswith("power"):
            raise HeaderError(h, f"column {h!r}: power use must be given as power_kwh")
        else:
            found = _pollutant_of(h)
            if found is None:
                raise HeaderError(h or None, f"unknown column {h!r}")
            pol, unit = found
            medium = pol.medium
            if medium == "air" and unit.startswith("ref_") and unit[4:] in CONC_UNITS["air"]:
                col = Column(h, pol.value + "_ref", "corr", "air")
                if col.name in seen:
                    raise HeaderError(h, f"column {h!r} appears twice")
                seen.add(col.name)
                cols.append(col)
                continue
            if unit not in CONC_UNITS[medium]:
                want = "mg_m3 (mg/Nm3)" if medium == "air" else "mg_l (mg/L)"
                raise HeaderError(h, f"column {h!r}: wrong unit {unit!r} for {pol.value}, "
                                     f"a {medium} pollutant: expected {pol.value}_{want}")
            col = Column(h, pol.value, "conc", medium)
        if col.name in seen:
            raise HeaderError(h, f"column {h!r} appears twice")
        seen.add(col.name)
        cols.append(col)
    absent = [r for r in REQUIRED if r not in seen]
    if absent:
        raise HeaderError(absent[0], f"header lacks column(s): {', '.join(absent)}")
    if not any(c.kind == "conc" for c in cols):
        raise HeaderError(None, "header has no concentration column (e.g. SO2_mg_m3)")
    for c in cols:
        if c.kind == "conc":
            flow = "flow_nm3_h" if c.medium == "air" else "flow_m3_h"
            if flow not in seen:
                raise HeaderError(c.header, f"column {c.header!r} needs the {flow} column")
        if c.kind == "corr" and c.name[:-4] not in seen:
            raise HeaderError(c.header, f"column {c.header!r} needs the measured "
                                        f"{c.name[:-4]}_mg_m3 column (mass is measured "
                                        f"concentration × dry standard flow)")
    return Header(tuple(cols))
