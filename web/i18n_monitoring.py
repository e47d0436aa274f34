"""Chinese texts of the pages for monitoring (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Substituted hours": "修约小时数",
    "HJ 75: flow_nm3_h is the dry standard flow and SO2_mg_m3 etc. the measured "
    "concentrations, which give the mass; o2_pct (measured O2), o2_ref_pct (reference O2) "
    "and SO2_ref_mg_m3 etc. (O2-corrected) judge the limits. status: N valid, F stopped, C, "
    "M, D, T, B, S invalid. Missing and invalid hours are substituted (gap of at most 24 h: "
    "mean of the hours around it; longer: largest of the 720 valid hours before) and counted "
    "as substituted hours.":
        "HJ 75：flow_nm3_h 为干烟气标态流量，SO2_mg_m3 等为实测浓度，二者相乘得排放量；"
        "o2_pct（实测氧含量）、o2_ref_pct（基准氧含量）与 SO2_ref_mg_m3 等（折算浓度）"
        "用于判定是否超标。status：N 有效，F 停运，C、M、D、T、B、S 无效。缺失和无效小时"
        "按规则修约（缺失不超过 24 小时：取前后有效小时均值；更长：取之前 720 个有效小时"
        "中的最大值），并计入修约小时数。",
}
