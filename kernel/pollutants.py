"""The pollutants the platform trades, with their medium (air or water)."""

from __future__ import annotations

from enum import StrEnum

from kernel.errors import InvalidInput


class Pollutant(StrEnum):
    SO2 = "SO2"
    NOX = "NOx"
    COD = "COD"
    NH3N = "NH3-N"
    VOCS = "VOCs"
    PM = "PM"

    @property
    def medium(self) -> str:
        return "water" if self in (Pollutant.COD, Pollutant.NH3N) else "air"

    @property
    def label_zh(self) -> str:
        return _ZH[self]


_ZH = {
    Pollutant.SO2: "二氧化硫",
    Pollutant.NOX: "氮氧化物",
    Pollutant.COD: "化学需氧量",
    Pollutant.NH3N: "氨氮",
    Pollutant.VOCS: "挥发性有机物",
    Pollutant.PM: "颗粒物",
}


def find_pollutant(text: object) -> Pollutant | None:
    """The pollutant a text names (its code, any case, or its enum name), or None."""
    if isinstance(text, str):
        for p in Pollutant:
            if text == p.value or text.upper() == p.value.upper() or text.upper() == p.name:
                return p
    return None


def parse_pollutant(text: str, field: str = "pollutant") -> Pollutant:
    p = find_pollutant(text)
    if p is None:
        raise InvalidInput(f"unknown pollutant {text!r}", field=field)
    return p
