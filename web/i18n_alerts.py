"""Chinese texts of the pages for alerts (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Alert levels cut actual emissions by at least: yellow 10 %, orange 20 %, red 30 %. "
    "Each affected permit (confirmed or not) gets, per air pollutant with a permitted "
    "quantity that year, a daily cap = baseline daily emissions × (1 − its cut), rounded "
    "down to whole kg, and a monthly cap (daily cap × alert days in the month).":
        "预警级别按实际排放量至少削减：黄色 10%、橙色 20%、红色 30%。每个受影响的排污许可证"
        "（无论是否已确权）就当年有许可排放量的每种大气污染物获得日上限 = 基准日排放量 ×"
        "（1 − 其减排比例），向下取整到千克；月上限 = 日上限 × 当月预警天数。",
    "Baseline: the mean of the permit's monitored daily emissions on the days with data in "
    "the 30 days before the alert's first day; without monitoring data, the permitted "
    "quantity ÷ the operating days (the days of the year). Cut: the permit's emergency "
    "measure for the level; else its performance grade's default (A: voluntary, 0 %); else "
    "the alert's cut.":
        "基准：预警首日前 30 天内有监测数据各日的日排放量均值；无监测数据时为许可排放量 ÷ "
        "生产天数（全年天数）。减排比例：许可证对该级别的应急减排措施；否则为其绩效等级的"
        "默认值（A 级自主减排，0%）；否则为预警的减排比例。",
    "Baseline basis": "基准依据",
    "Baseline kg/d": "基准 千克/日",
    "Baseline over the alert (t)": "预警期基准排放量（吨）",
    "Caps over the alert (t)": "预警期排放上限（吨）",
    "Cut achieved %": "实际削减比例 %",
    "Emergency measures of a permit": "排污许可证的应急减排措施",
    "From the emergency emission-reduction list: the permit's performance grade and, per "
    "alert level, a cut in percent of its baseline; where the measure is e.g. stopping a "
    "named process line, write it and its equivalent cut. A level left blank takes the "
    "grade's default.":
        "依据应急减排清单：许可证的绩效等级，以及各预警级别相对基准的减排比例；措施为停用"
        "某条生产线等时，填写措施及其等效减排比例。留空的级别采用绩效等级的默认值。",
    "Measure": "减排措施",
    "Meets the target": "是否达到目标",
    "No permit has emergency measures": "尚无许可证设置应急减排措施",
    "Performance grade": "绩效等级",
    "Region total cut against the target": "区域总削减与目标对比",
    "Save the measures": "保存措施",
    "Set by": "设置人",
    "Target %": "目标 %",
    "The level's target is a cut of the whole society's emissions; this table counts the "
    "permitted sources only.": "预警级别的目标针对全社会排放量；本表仅统计持证排污单位。",
    "default": "默认",
    "e.g. stop sinter line 2": "例如：停用 2 号烧结生产线",
    "monitored mean": "监测均值",
    "permitted ÷ operating days": "许可量 ÷ 生产天数",
    "cut from measure": "按减排措施",
    "cut from grade": "按绩效等级默认",
    "cut from alert": "按预警比例",
    "A": "A级",
    "B": "B级",
    "C": "C级",
    "D": "D级",
    "unclassified": "未分级",
}
