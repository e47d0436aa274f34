"""Chinese texts of approvals in words, bulk rights confirmation and monitoring import
messages (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    # monitoring imports (web/monitoring_words.py)
    " and {n} more": "等，另有 {n} 项",
    "Monitoring import #{id}: {accepted} rows accepted, {rejected} rejected, "
    "{daily} daily figures":
        "监测数据导入 #{id}：接收 {accepted} 行，拒绝 {rejected} 行，生成日排放量 {daily} 条",
    "{n} problem clues opened from anomalies: {ids}": "异常生成问题线索 {n} 条：{ids}",
    "no anomaly opened a clue": "未发现需生成问题线索的异常",
    "daily cap": "日排放上限", "monthly cap": "月排放上限",
    "#{clue} {enterprise} {pollutant} {day}: {kg} kg against the {period} of {cap} kg":
        "#{clue} {enterprise} {pollutant} {day}：排放 {kg} 千克，{period} {cap} 千克",
    "heavy-pollution alert breaches opened {n} problem clues: {list}":
        "重污染天气预警超限生成问题线索 {n} 条：{list}",
    "{n} heavy-pollution alert breaches found": "发现重污染天气预警超限 {n} 项",
    "Hour {hour} (Beijing time) has not ended yet (now {now}): monitoring data for hours "
    "that have not happened are refused":
        "{hour}（北京时间）时段尚未结束（当前 {now}）：不接受尚未发生时段的监测数据",
    "Hour {hour} (Beijing time) has not ended yet: monitoring data for hours that have not "
    "happened are refused":
        "{hour}（北京时间）时段尚未结束：不接受尚未发生时段的监测数据",
    # approvals in words (web/approval_words.py, approvals.html)
    "{pollutant}, zone {zone}, vintage {vintage}": "{pollutant}，交易区 {zone}，{vintage} 年度",
    "permit {permit}": "许可证 {permit}",
    "permit {permit} of {enterprise}": "{enterprise}（许可证 {permit}）",
    "{pollutant} {year}: {old} t → {new} t": "{pollutant}（{year} 年度）：{old} 吨 → {new} 吨",
    "{pollutant} {year}: → {new} t": "{pollutant}（{year} 年度）：→ {new} 吨",
    "change the permitted quantities of {permit}; reason: {reason}":
        "变更{permit}的许可排放量；理由：{reason}",
    "revoke {permit}": "撤销{permit}", "cancel {permit}": "注销{permit}",
    "{what} from {on}: rights of the later years return to the reserve; reason: {reason}":
        "{what}，自 {on} 起：此后年度的排污权收回储备；理由：{reason}",
    "today": "今日",
    "{pollutant} {year}: {t} t recovered": "{pollutant}（{year} 年度）：收回 {t} 吨",
    "open auction {id}: {t} t of {market} offered at a reserve price of {price} yuan/t; the "
    "offered rights are held in the reserve while it runs":
        "开启拍卖 {id}：出让{market}排污权 {t} 吨，保留价 {price} 元/吨；拍卖期间出让的排污权"
        "在储备中冻结",
    "open auction {id}": "开启拍卖 {id}",
    "list {t} t of reserve rights ({market}) at {price} yuan/t":
        "挂牌出让储备排污权 {t} 吨（{market}），价格 {price} 元/吨",
    "approve negotiated transfer {id}: {t} t of {market} from {seller} to {buyer} at {price} "
    "yuan/t":
        "批准协议转让 {id}：{seller} 向 {buyer} 转让{market}排污权 {t} 吨，价格 {price} 元/吨",
    "approve negotiated transfer {id}": "批准协议转让 {id}",
    "release reserve plan #{plan}: {t} t from the reserve into the permits' confirmed rights":
        "执行储备出让方案 #{plan}：从储备向各许可证出让确权排污权 {t} 吨",
    "release reserve plan #{plan} into the permits' confirmed rights":
        "执行储备出让方案 #{plan}，出让至各许可证的确权排污权",
    "decide standard change flag #{flag}": "处理标准变更标记 #{flag}",
    "recover {t} t of {year} {pollutant} rights from {permit} to the reserve (standard change "
    "flag #{flag}); permitted quantity after: {after} t":
        "从{permit}收回 {year} 年度{pollutant}排污权 {t} 吨至储备（标准变更标记 #{flag}）；"
        "变更后许可排放量 {after} 吨",
    "buy back {t} t of {year} {pollutant} rights from {permit} at {price} yuan/t (standard "
    "change flag #{flag}); permitted quantity after: {after} t":
        "以 {price} 元/吨回购{permit}的 {year} 年度{pollutant}排污权 {t} 吨（标准变更标记 "
        "#{flag}）；变更后许可排放量 {after} 吨",
    "post {n} ledger transfers in one linked batch ({kinds})":
        "以一个关联批次记账 {n} 笔（{kinds}）",
    "reverse ledger transfer {id} in full": "全额冲正账本转账 {id}",
    "reverse {amount} units of ledger transfer {id}": "冲正账本转账 {id} 中的 {amount} 单位",
    "require a second officer for {kind}": "{kind}须经第二人审批",
    "stop requiring a second officer for {kind}": "{kind}不再须经第二人审批",
    "{kind} of {target}": "{target}的{kind}",
    "confirm the unconfirmed rest of the {year} {pollutant} permitted quantity on {permit}":
        "确认{permit} {year} 年度{pollutant}许可排放量中尚未确权的部分",
    "confirm {t} t of {year} {pollutant} rights on {permit}":
        "确认{permit} {year} 年度{pollutant}排污权 {t} 吨",
    "permitted quantity {before} t → {after} t": "许可排放量 {before} 吨 → {after} 吨",
    "{enterprise} ({permit}): {pollutant} {t} t, permitted quantity {before} t → {after} t":
        "{enterprise}（{permit}）：{pollutant} {t} 吨，许可排放量 {before} 吨 → {after} 吨",
    "confirm every waiting pollutant of {n} permits for {year} in one batch: {count} "
    "confirmations, {t} t in all":
        "一次确认 {n} 张许可证全部待确权污染物（{year} 年度）：共 {count} 项确权，合计 {t} 吨",
    "confirm every waiting pollutant of {n} permits for {year} in one batch":
        "一次确认 {n} 张许可证全部待确权污染物（{year} 年度）",
    "{who} asked on {when} (Beijing time): {what}": "{who} 于 {when}（北京时间）申请：{what}",
    "approved by {who} on {when} and carried out": "由 {who} 于 {when} 批准并已执行",
    "approved by {who} on {when} but not carried out: {reason}":
        "由 {who} 于 {when} 批准，但未能执行：{reason}",
    "withdrawn by {who} on {when}": "由 {who} 于 {when} 撤回",
    "rejected by {who} on {when}: {reason}": "由 {who} 于 {when} 驳回：{reason}",
    "approved by {who} on {when}, being carried out": "由 {who} 于 {when} 批准，正在执行",
    "Approval #{id}: {what}": "审批 #{id}：{what}",
    "Approval #{id} waits for a second officer: {what}":
        "审批 #{id} 等待第二名经办人审批：{what}",
    "Done: {what}": "已办理：{what}",
    "What is approved": "审批内容", "Outcome": "办理结果", "{n} items": "共 {n} 项",
    # bulk confirmation page (bulk_confirmation.html)
    "Bulk rights confirmation": "批量确权",
    "Permits whose permitted quantities for the year still wait for confirmation. Check "
    "permits and confirm every waiting pollutant of them in one request.":
        "本年度许可排放量尚待确权的排污许可证。勾选许可证，一次确认其全部待确权污染物。",
    "A second officer approves the whole batch before it takes effect.":
        "整批确权须经第二名经办人审批后生效。",
    "Confirmation state": "确权状态", "waiting or partly confirmed": "待确权或部分确权",
    "nothing confirmed yet": "尚未确权", "partly confirmed": "部分确权",
    "all confirmed": "已全部确权", "{n} permits": "共 {n} 张许可证", "Choose": "选择",
    "Waiting for confirmation": "待确权", "Waiting t": "待确权 吨", "t": "吨",
    "No permits wait for confirmation": "没有待确权的许可证",
    "Confirm every pollutant of the checked permits": "确认所选许可证的全部污染物",
    "Confirm every permit listed on this page": "确认本页列出的全部许可证",
    "Choose at least one permit.": "请至少选择一张许可证。",
    "Permits waiting for confirmation: confirm many at once": "待确权许可证：批量确权",
    "{t} t of {market} offered at a reserve price of {price} yuan/t":
        "出让{market}排污权 {t} 吨，保留价 {price} 元/吨",
    "schedule auction {id}: announced {announce}, opens {open}, closes {close} (Beijing time)":
        "排定拍卖 {id} 日程：{announce} 公告，{open} 开始，{close} 结束（北京时间）",
    "by hand": "人工结束",
}
