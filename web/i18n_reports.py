"""Chinese texts of the pages for reports (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Reports due and not filed": "应报未报的执行报告",
    "Which reports a permit owes and when follows its management class and sector "
    "(HJ 944-2018); a report past its due date and not filed is a violation (Regulation "
    "Art. 37).":
        "应提交哪些执行报告及其时限，依排污许可证的管理类别和行业确定（HJ 944-2018）；"
        "逾期未提交执行报告属违法行为（《排污许可管理条例》第三十七条）。",
    "Days overdue": "逾期天数",
    "None": "无",
    "Report fields": "报告内容",
    "Report fields (HJ 944-2018)": "报告内容（HJ 944-2018）",
    "An annual report needs all of them and the commitment; a quarterly report needs the "
    "abnormal hours and the monitoring results and exceedances. Only a period that has ended "
    "can be reported.":
        "年度执行报告须填写全部内容并作出承诺；季度执行报告须填写污染防治设施异常时长、"
        "自行监测结果数及超标数。只能报告已经结束的报告周期。",
    "Operating hours": "生产运行时长（小时）",
    "Output": "产量",
    "Capacity": "设计产能",
    "Output unit": "产量单位",
    "Facilities: normal hours": "污染防治设施正常运行时长（小时）",
    "Abnormal hours": "异常运行时长（小时）",
    "Reason for abnormal operation": "异常原因",
    "Facilities normal / abnormal h": "污染防治设施正常 / 异常（小时）",
    "Monitoring results": "自行监测结果数",
    "Exceedances": "超标数",
    "Monitoring results / exceedances": "自行监测结果数 / 超标数",
    "Records kept": "环境管理台账已按要求记录",
    "Tax paid yuan": "已缴环境保护税 元",
    "The legal representative commits that this report is true (承诺书)":
        "法定代表人（主要负责人）承诺本报告内容真实（承诺书）",
    "Signed by": "签署人",
    "Commitment signed by": "承诺书签署人",
    "Report fields as further columns, once per report: operating_hours, output, "
    "output_unit, capacity, facility_normal_hours, facility_abnormal_hours, abnormal_reason, "
    "monitoring_samples, monitoring_exceedances, records_kept, tax_paid_fen, commitment, "
    "commitment_by.":
        "报告内容作为其余各列，每份报告填写一次：operating_hours（运行小时）、output（产量）、"
        "output_unit（产量单位）、capacity（设计产能）、facility_normal_hours（设施正常小时）、"
        "facility_abnormal_hours（设施异常小时）、abnormal_reason（异常原因）、"
        "monitoring_samples（监测结果数）、monitoring_exceedances（超标数）、"
        "records_kept（台账记录）、tax_paid_fen（已缴环境保护税，分）、"
        "commitment（承诺）、commitment_by（签署人）。",
    "Missing execution reports": "应报未报的执行报告",
    "Reports past their due date and not filed. Which reports a permit owes and when follows "
    "its management class and sector (HJ 944-2018); a report that stays missing is a "
    "violation (Regulation Art. 37).":
        "已过提交时限而未提交的执行报告。应提交哪些报告及其时限，依排污许可证的管理类别和"
        "行业确定（HJ 944-2018）；逾期不提交属违法行为（《排污许可管理条例》第三十七条）。",
    "On": "截至",
    "Missing": "未提交",
    # flags shown on reports
    "output_above_capacity": "产量超过设计产能",
    "monitoring_exceedances": "自行监测有超标",
    "facility_abnormal": "污染防治设施异常运行",
}
