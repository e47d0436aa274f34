"""Chinese texts of the pages for quantities (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Capacity band": "容量档",
    "Key control area": "重点控制区",
    "General area": "一般区域",
    "Main outlet": "主要排放口",
    "General outlet (concentration limit only)": "一般排放口（仅许可浓度）",
    "Local standard not entered (verify)": "地方标准限值未录入（待核实）",
    "High-sulphur-coal exception": "高硫煤地区限值",
    "Special emission limits": "特别排放限值",
}
