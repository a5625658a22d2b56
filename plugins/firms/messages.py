"""Every text of the firms plugin (zh-CN default, en): labels of its enums and its catalogue entries."""

from __future__ import annotations

from geoplatform.i18n import add_messages
from geoplatform.labels import register_labels

FINDING = {
    "firm_blacklisted": ("物业企业已列入黑名单（建议业主终止合同）", "firm blacklisted (owners advised to end the contract)"),
    "contract_expired": ("物业服务合同已到期（覆盖率存在风险）", "service contract expired (coverage at risk)"),
    "contract_expiring_30": ("合同30天内到期", "contract ends within 30 days"),
    "contract_expiring_90": ("合同90天内到期", "contract ends within 90 days"),
    "professional_without_contract": ("有物业服务但从未登记合同", "served but no contract ever recorded"),
    "company_missing": ("有物业服务但未登记物业企业", "served but no firm recorded"),
    "filing_missing": ("备案缺失", "filing missing"),
    "disclosure_missing": ("半年度收费公示缺失", "half-year fee disclosure missing"),
}
FILING = {
    "selection": ("选聘备案", "selection filing"),
    "area": ("物业管理区域备案", "management-area filing"),
    "contract": ("物业服务合同备案", "contract filing"),
    "acceptance": ("承接查验备案", "acceptance-inspection filing"),
}
STATUS = {
    "blacklisted": ("黑名单", "blacklisted"),
    "ineligible": ("不符合选聘条件", "not eligible"),
    "bad_list": ("差评榜", "bad list"),
    "contract_unfiled": ("合同未备案/未登记", "contract unfiled"),
    "expiring": ("合同到期/即将到期", "contract expiring"),
    "good_list": ("好评榜", "good list"),
    "ok": ("正常", "ok"),
}
DISCLOSURE = {
    "missing": ("公示缺失", "disclosure missing"),
    "pending": ("本半年度待公示", "due this half-year"),
    "compliant": ("按时公示", "disclosed"),
    "not_served": ("无物业服务", "not served"),
}
EVENT = {
    "grade": ("信用等级", "credit grade"),
    "good_list": ("上好评榜", "on the good list"),
    "bad_list": ("上差评榜", "on the bad list"),
    "blacklisted": ("列入黑名单", "blacklisted"),
    "blacklist_lifted": ("移出黑名单", "blacklist lifted"),
    "note": ("信用记录", "credit note"),
    "rectification_refused": ("拒不整改", "rectification refused"),
    "rectification_overdue": ("逾期未整改", "rectification overdue"),
}
GATE = {
    "not_filed": ("未在市平台备案", "not filed on the city platform"),
    "blacklisted": ("已列入黑名单", "blacklisted"),
    "grade_forbidden": ("信用等级不符合选聘条件", "credit grade not allowed"),
    "unknown_firm": ("登记册中没有该企业", "firm not in the registry"),
    "no_grade": ("暂无信用等级", "no credit grade yet"),
    "firm_not_recorded": ("未登记物业企业", "firm not recorded"),
    "filing_unknown": ("备案情况待核实", "filing not known"),
}

for enum, values in (("firm_finding", FINDING), ("firm_filing", FILING), ("firm_status", STATUS),
                     ("disclosure_status", DISCLOSURE), ("credit_event", EVENT), ("firm_gate", GATE)):
    register_labels(enum, values)

_PAIRS: dict[str, tuple[str, str]] = {
    **{f"firms.finding.{k}": v for k, v in FINDING.items()},
    **{f"firms.filing.{k}": v for k, v in FILING.items()},
    **{f"firms.status.{k}": v for k, v in STATUS.items()},
    **{f"firms.disclosure.{k}": v for k, v in DISCLOSURE.items()},
    **{f"firms.event.{k}": v for k, v in EVENT.items()},
    **{f"firms.gate.{k}": v for k, v in GATE.items()},
    # errors (services raise them with these keys)
    "firms.forbidden": ("{user}（{role}）无权进行此操作", "{user} ({role}) may not do this"),
    "firms.bad_quarter": ("季度“{value}”格式不对（应如 2025Q1）", "not a quarter: {value!r} (e.g. 2025Q1)"),
    "firms.quarter_open": ("{quarter} 尚未结束，季度结束后才能发布", "{quarter} has not ended yet; publish it afterwards"),
    "firms.already_published": ("{quarter} 的榜单已发布，不能再修改", "the lists of {quarter} are already published"),
    "firms.no_scores": ("{quarter} 还没有任何街镇评分", "no street has scored any firm for {quarter}"),
    "firms.bad_score": ("评分“{value}”无效（应为 {lo:g}–{hi:g}）", "score {value!r} is not within {lo:g}–{hi:g}"),
    "firms.not_serving_street": ("{company} 未在街镇 {street} 提供物业服务", "{company} does not serve street {street}"),
    "firms.unknown_firm": ("登记册中没有物业企业“{company}”", "no firm {company!r} in the registry"),
    "firms.unknown_compound": ("未知小区“{compound}”", "unknown compound {compound!r}"),
    "firms.unknown_contract": ("未知合同“{contract}”", "unknown contract {contract!r}"),
    "firms.bad_event_kind": ("未知信用记录类型“{kind}”", "unknown credit event kind {kind!r}"),
    "firms.bad_grade": ("信用等级“{grade}”不在等级表中（{scale}）", "grade {grade!r} is not on the scale ({scale})"),
    "firms.blacklist_unchanged": ("{company} 已在黑名单中", "{company} is already blacklisted"),
    "firms.not_blacklisted": ("{company} 不在黑名单中", "{company} is not blacklisted"),
    "firms.bad_name": ("企业名称不能为空，且不超过200字", "a firm name is 1–200 characters"),
    "firms.firm_exists": ("物业企业“{company}”已登记", "firm {company!r} is already registered"),
    "firms.contract_dates_required": ("合同须填写开始和结束日期", "a contract needs a start and an end date"),
    "firms.contract_dates_order": ("合同结束日期 {end} 早于开始日期 {start}", "the contract ends ({end}) before it starts ({start})"),
    "firms.firm_ineligible": ("{company} 不符合选聘条件（{reasons}），不得签订新合同",
                              "{company} is not eligible ({reasons}) and may not be selected for a new contract"),
    "firms.contract_exists": ("合同“{contract}”已存在", "contract {contract!r} already exists"),
    "firms.bad_filing": ("未知备案类型“{filing}”（可选：{choices}）", "unknown filing {filing!r} (one of {choices})"),
    "firms.bad_date": ("日期“{value}”格式不对（应为 YYYY-MM-DD）", "not a date: {value!r} (YYYY-MM-DD)"),
    "firms.import.bad_grade": ("信用等级“{grade}”不在等级表中（{scale}）", "grade {grade!r} is not on the scale ({scale})"),
    "firms.import.end_before_start": ("结束日期 {end} 早于开始日期 {start}", "ends {end} before it starts {start}"),
    # CLI
    "firms.col.compound": ("小区", "compound"),
    "firms.col.finding": ("问题", "finding"),
    "firms.col.company": ("物业企业", "firm"),
    "firms.col.contract": ("合同", "contract"),
    "firms.col.filing": ("备案", "filing"),
    "firms.col.period": ("半年度", "half-year"),
    "firms.check.summary": ("截至 {today} 共 {n} 项问题（合同 {expiring} 天内到期提醒，{urgent} 天内为紧急；收费公示每半年至少一次、"
                            "每次不少于 {days} 天，自 {start} 起检查）",
                            "{n} findings as of {today} (contracts ending within {expiring} days, urgent within {urgent}; "
                            "fees disclosed every half-year for at least {days} days, checked from {start})"),
    "firms.rank.street": ("{street}：第一 {first}；最后 {last}", "{street}: first {first}; last {last}"),
    "firms.rank.good": ("好评榜：{firms}", "good list: {firms}"),
    "firms.rank.bad": ("差评榜：{firms}", "bad list: {firms}"),
    "firms.published": ("已发布 {quarter} 榜单。好评榜：{good}；差评榜：{bad}", "published {quarter}. good: {good}; bad: {bad}"),
    "firms.blacklisted": ("{company} 已列入黑名单，涉及 {n} 个小区（已提示业主）",
                          "{company} blacklisted; {n} compounds flagged (owners advised)"),
    "firms.lifted": ("{company} 已移出黑名单", "{company} is off the blacklist"),
    "firms.graded": ("{company} 信用等级 {grade}（{on}）", "{company} graded {grade} ({on})"),
    # layers, menus, sections, panels
    "firms.group": ("物业企业监管", "Property firms"),
    "firms.layer.status": ("物业企业状况", "Firm status"),
    "firms.layer.disclosure": ("收费公示情况", "Fee disclosure"),
    "firms.menu": ("物业企业", "Property firms"),
    "firms.menu.lists": ("好评榜/差评榜", "Good / bad lists"),
    "firms.section.title": ("物业企业与合同", "Firm and contract"),
    "firms.panel.title": ("物业企业监管", "Property firm supervision"),
}

# workspace pages
_PAIRS.update({
    "firms.ws.title": ("物业企业监管", "Property firm supervision"),
    "firms.ws.street_title": ("本街镇物业企业", "Firms of my street"),
    "firms.ws.bureau_title": ("物业企业登记册与季度榜单", "Firm registry and quarterly lists"),
    "firms.ws.lists_title": ("物业服务企业好评榜/差评榜", "Property firms: good and bad lists"),
    "firms.ws.street": ("街镇", "Street"),
    "firms.ws.quarter": ("季度", "Quarter"),
    "firms.ws.choose": ("选择", "Show"),
    "firms.ws.score": ("评分（{lo:g}–{hi:g}）", "Score ({lo:g}–{hi:g})"),
    "firms.ws.score_help": ("按规范服务、满意度、12345 投诉综合评分", "Service standard, satisfaction and 12345 complaints together"),
    "firms.ws.save": ("保存", "Save"),
    "firms.ws.saved": ("已保存 {company} 的评分：{score:g}", "Saved {company}: {score:g}"),
    "firms.ws.firm": ("物业企业", "Firm"),
    "firms.ws.grade": ("信用等级", "Grade"),
    "firms.ws.filed": ("市平台备案", "Filed"),
    "firms.ws.yes": ("是", "yes"),
    "firms.ws.no": ("否", "no"),
    "firms.ws.unknown": ("待核实", "unknown"),
    "firms.ws.eligible": ("可选聘", "Eligible"),
    "firms.ws.why": ("原因/提示", "Why"),
    "firms.ws.compounds": ("服务小区数", "Compounds"),
    "firms.ws.none": ("无", "none"),
    "firms.ws.published_at": ("{on} 由 {by} 发布", "published {on} by {by}"),
    "firms.ws.not_published": ("{quarter} 尚未发布", "{quarter} is not published yet"),
    "firms.ws.no_published": ("还没有发布过榜单", "No list has been published yet"),
    "firms.ws.good": ("好评榜", "Good list"),
    "firms.ws.bad": ("差评榜", "Bad list"),
    "firms.ws.rank_no": ("名次", "No."),
    "firms.ws.district_score": ("全区得分", "District score"),
    "firms.ws.street_first": ("街镇第一", "First in street"),
    "firms.ws.street_last": ("街镇最后", "Last in street"),
    "firms.ws.publish": ("审核并发布 {quarter} 榜单", "Review and publish {quarter}"),
    "firms.ws.publish_done": ("{quarter} 榜单已发布，已写入企业信用档案", "{quarter} published; credit events written"),
    "firms.ws.print": ("打印版", "Printable page"),
    "firms.ws.xlsx": ("导出 Excel", "Export Excel"),
    "firms.ws.expiring": ("合同到期提醒", "Contracts ending"),
    "firms.ws.filings": ("备案缺失", "Missing filings"),
    "firms.ws.gaps": ("查漏补缺", "Gaps to fill (查漏补缺)"),
    "firms.ws.gap_unfiled": ("未在市平台备案的企业", "Firms not filed on the city platform"),
    "firms.ws.gap_no_contract": ("有物业服务但无合同的小区", "Served compounds without a contract"),
    "firms.ws.gap_no_firm": ("有物业服务但未登记企业的小区", "Served compounds without a firm"),
    "firms.ws.gap_ambiguous": ("迁移时企业名称不唯一的小区", "Compounds whose firm name was ambiguous (migration)"),
    "firms.ws.gap_disclosure": ("收费公示缺失", "Missing fee disclosures"),
    "firms.ws.candidates": ("可能是：{names}", "could be: {names}"),
    "firms.ws.blacklist": ("列入黑名单", "Blacklist"),
    "firms.ws.lift": ("移出黑名单", "Lift blacklisting"),
    "firms.ws.note": ("说明", "Note"),
    "firms.ws.blacklist_done": ("{company} 已列入黑名单；涉及小区：{compounds}", "{company} blacklisted; compounds: {compounds}"),
    "firms.ws.lift_done": ("{company} 已移出黑名单", "{company} is off the blacklist"),
    "firms.ws.compound": ("小区", "Compound"),
    "firms.ws.contract": ("合同", "Contract"),
    "firms.ws.ends": ("到期日", "Ends"),
    "firms.ws.starts": ("开始日", "Starts"),
    "firms.ws.finding": ("问题", "Finding"),
    "firms.ws.period": ("半年度", "Half-year"),
    "firms.ws.nothing": ("暂无", "Nothing"),
    "firms.ws.scored": ("已评 {n} / {total} 家", "{n} of {total} scored"),
    "firms.ws.findings_count": ("{n} 项", "{n}"),
    "firms.ws.credit_file": ("信用档案", "Credit file"),
    "firms.ws.in_force": ("有效", "in force"),
    "firms.ws.expired": ("已过期", "expired"),
    "firms.ws.rules": ("规则：信用等级由高到低 {scale}，{forbidden} 级及黑名单企业不得选聘；合同 {expiring} 天内到期提醒；"
                       "收费公示每半年至少一次、每次不少于 {days} 天（首尾两天都算）。",
                       "Rules: grades best first {scale}; {forbidden} and blacklisted firms may not be selected; "
                       "contracts flagged {expiring} days before they end; fees disclosed every half-year for at "
                       "least {days} days (both ends counted)."),
    "firms.ws.own_street_only": ("只能为本街镇的物业企业评分", "You may score your own street's firms only"),
    "firms.ws.section_none": ("暂无物业企业与合同记录", "No firm or contract recorded"),
    "firms.ws.disclosures": ("收费公示", "Fee disclosures"),
    "firms.ws.days": ("{n} 天", "{n} days"),
    "firms.panel.summary": ("合同到期或即将到期 {expiring} 个小区，备案缺失 {filings} 项，收费公示缺失 {disclosure} 项，"
                            "黑名单企业服务 {blacklisted} 个小区",
                            "{expiring} compounds with contracts ending or ended, {filings} missing filings, "
                            "{disclosure} missing disclosures, {blacklisted} compounds served by blacklisted firms"),
    "firms.panel.link": ("打开物业企业监管", "Open firm supervision"),
    "firms.xlsx.sheet_good": ("好评榜", "Good list"),
    "firms.xlsx.sheet_bad": ("差评榜", "Bad list"),
    "firms.xlsx.sheet_streets": ("各街镇", "Streets"),
    "firms.print.heading": ("昆都仑区物业服务企业 {quarter} 好评榜、差评榜", "Kundulun property firms {quarter}: good and bad lists"),
    "firms.print.footer": ("昆都仑区住房和城乡建设局 {on} 发布", "Published by the district housing bureau on {on}"),
})


def catalogue() -> dict[str, dict[str, str]]:
    """{"zh": {...}, "en": {...}} of every text above (the `register_messages` answer)."""
    return {"zh": {k: v[0] for k, v in _PAIRS.items()}, "en": {k: v[1] for k, v in _PAIRS.items()}}


add_messages(catalogue())
