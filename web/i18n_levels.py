"""Chinese texts of bureau levels and departments on the users page (merged into
`web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "District (bureau users; empty: the city)": "所属区县（局内用户；留空为市局）",
    "Department (bureau users)": "所属处室（局内用户）",
    "every department": "全部处室",
    "approval": "审批", "monitoring": "监测", "enforcement": "执法",
    "City": "市局",
    "Level": "层级",
    "Department": "处室",
    "Set": "设置",
}
