"""User-facing text of the owners' organisation plugin (zh default, en) and the labels of its enumerations.

`MESSAGES` is what the plugin returns from `register_messages`; it is also added to the catalogues at
import, so the texts work wherever the plugin is loaded. Enum labels (also accepted as import input)
go through `geoplatform.labels.register_labels`.
"""

from __future__ import annotations

from typing import Any

from geoplatform.i18n import add_messages, t
from geoplatform.labels import label, register_labels

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "org_kind": {"owners_committee": ("业委会", "owners' committee"),
                 "management_committee": ("物管会", "management committee")},
    "org_role": {"chair": ("主任", "chair"), "vice_chair": ("副主任", "vice chair"), "member": ("委员", "member"),
                 "alternate": ("候补委员", "alternate")},
    "org_grade": {"excellent": ("优秀", "excellent"), "qualified": ("合格", "qualified"),
                  "unqualified": ("不合格", "unqualified")},
    "org_state": {"none": ("未组建", "none"), "preparing": ("筹备组", "preparing"), "elected": ("已选举", "elected"),
                  "filed": ("已备案", "filed"), "active": ("运行中", "active"), "term_expired": ("任期届满", "term expired"),
                  "re_election_required": ("需换届", "re-election required"), "dissolved": ("已解散", "dissolved"),
                  "unknown": ("待核实", "unknown")},
    "org_class": {"active_owners_committee": ("业委会运行中", "active owners' committee"),
                  "active_management_committee": ("物管会运行中", "active management committee"),
                  "forming": ("组建中（筹备组/已选举）", "forming"), "needs_action": ("已组建·需处理", "needs action"),
                  "lapsed": ("需换届/任期届满", "re-election or expired"), "none": ("未组建", "none"),
                  "unknown": ("待核实", "unknown")},
    "custody_item": {"seal": ("印章", "seal"), "accounts": ("账簿", "accounts"), "vouchers": ("凭证", "vouchers"),
                     "archives": ("档案", "archives")},
    "org_check": {"check_police": ("无犯罪记录审查", "police check"), "check_credit": ("征信审查", "credit check"),
                  "check_community": ("社区表现审查", "community check"),
                  "check_discipline": ("纪工委审查", "discipline check")},
}

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        # import kinds
        "owners_org.kind.owners_orgs": "业委会/物管会台账", "owners_org.kind.org_members": "委员名单",
        "owners_org.kind.org_evaluations": "民主评议", "owners_org.kind.trainings": "培训记录",
        "import.table.owners_org": "业主组织", "import.table.org_member": "委员",
        "import.table.org_evaluation": "民主评议", "import.table.training": "培训",
        "owners_org.import.declared": "已按“业主组织”列为 {n} 个小区登记“台账申报”的业委会/物管会（计入组建率，待补全日期与委员）：{ids}",
        "owners_org.import.kept": "{n} 个小区已有业主组织记录，“业主组织”列以记录为准、未改动：{ids}",
        # refusals (imports and forms)
        "owners_org.refused.eligibility": "{person}：缺少资格审查“{checks}”，不能登记为委员或候补委员（规则 A1）",
        "owners_org.refused.alternates": "候补委员将有 {n} 人，超过正式委员名额 {seats} 的一半（最多 {limit} 人，规则 A3）",
        "owners_org.refused.alternates_no_seats": "请先登记该组织的正式委员名额，再登记候补委员（规则 A3）",
        "owners_org.refused.seats_alternates": "名额改为 {seats} 后候补委员 {n} 人将超过一半（最多 {limit} 人，规则 A3）",
        "owners_org.refused.unknown_org": "未知的业主组织“{org_id}”",
        "owners_org.refused.unknown_compound": "未知的小区“{compound_id}”",
        "owners_org.refused.unknown_member": "未知的委员记录“{member_id}”",
        "owners_org.refused.bad_period": "评议期“{value}”无效，应为 2025H1 或 2025H2 形式",
        "owners_org.refused.period_open": "评议期 {period} 尚未开始，不能登记评议",
        "owners_org.refused.held_before_period": "评议日期 {held_on} 早于评议期 {period} 的开始",
        "owners_org.refused.date_order": "日期顺序有误：{first}（{a}）晚于 {second}（{b}）",
        "owners_org.refused.unknown_street": "未知街镇“{value}”",
        "owners_org.refused.current_exists": "该小区已有业主组织“{org_id}”（{state}），不能另建；换届可在任期届满前 {days} 天内或届满后发起，物管会可由新业委会接替",
        "owners_org.refused.bad_value": "{field}：{value} 无效",
        "owners_org.refused.required": "{field} 为必填项",
        "owners_org.refused.no_vacancy": "该组织没有可由候补委员递补的缺额",
        "owners_org.refused.stale": "记录已被他人修改（当前版本 {version}），请刷新后重试",
        "owners_org.refused.forbidden": "无权操作：超出本街镇/社区的管辖范围",
        "owners_org.refused.owners_org_field": "“业主组织”由业委会/物管会记录自动得出，不能手工修改；请在“业委会”工作台登记组建、备案、委员等信息",
        "owners_org.refused.custody_empty": "请至少勾选一项已接管的物品（印章、账簿、凭证、档案）",
        # findings
        "owners_org.finding.eligibility_missing": "委员 {member_id} 缺少资格审查：{checks}",
        "owners_org.finding.members_missing": "已选举但尚未登记委员名单",
        "owners_org.finding.members_incomplete": "已登记正式委员 {recorded} 人，名额 {seats} 个（备案前请补全）",
        "owners_org.finding.seats_missing": "尚未登记正式委员名额",
        "owners_org.finding.alternates_over": "候补委员 {alternates} 人，超过上限 {limit} 人",
        "owners_org.finding.party_count_low": "党员委员 {party_members} 人，少于 {minimum} 人：宜联建或派驻",
        "owners_org.finding.party_share_low": "党员委员 {party_members} 人，未达正式名额 {seats} 的一半",
        "owners_org.finding.party_org_missing": "党员委员已有 {party_members} 人，应成立党组织（尚未登记）",
        "owners_org.finding.vacancy_fill": "缺额 {vacancies} 个（名额 {seats}）：由候补委员按得票递补并公告",
        "owners_org.finding.re_election_required": "需换届：{reason}",
        "owners_org.reason.vacancy_over_half": "缺额 {vacancies} 个，超过名额 {seats} 的一半",
        "owners_org.reason.two_unqualified": "一年内两次民主评议不合格（{periods}）",
        "owners_org.finding.evaluation_due": "{period} 民主评议待开展（{due} 前）",
        "owners_org.finding.evaluation_overdue": "{period} 民主评议逾期未开展（应于 {due} 前）",
        "owners_org.finding.rectification_due": "{period} 评议不合格，须于 {due} 前完成整改",
        "owners_org.finding.rectification_overdue": "{period} 评议不合格，整改已逾期（{due}）",
        "owners_org.finding.term_expiring": "任期将于 {term_end} 届满（还有 {days} 天），请筹备换届",
        "owners_org.finding.term_expired": "任期已于 {term_end} 届满，尚无新一届",
        "owners_org.finding.custody_due": "街镇应于 {due} 前代管印章、账簿、凭证、档案（尚缺：{missing}）",
        "owners_org.finding.to_complete": "台账申报的组织，待补全：{missing}",
        "owners_org.finding.training_short": "{year} 年委员培训 {trainings} 次，少于 {target} 次",
        "owners_org.finding.training_progress": "{year} 年委员培训已开展 {trainings} 次（目标 {target} 次）",
        "owners_org.severity.error": "须处理", "owners_org.severity.warning": "提醒", "owners_org.severity.info": "提示",
        "owners_org.missing.seats": "委员名额", "owners_org.missing.term_start": "任期开始",
        "owners_org.missing.term_end": "任期届满", "owners_org.missing.filed_on": "备案日期",
        "owners_org.missing.registered_on": "登记日期", "owners_org.missing.members": "委员名单",
        # CLI
        "owners_org.cli.col.org_id": "组织编号", "owners_org.cli.col.compound_id": "小区", "owners_org.cli.col.kind": "类型",
        "owners_org.cli.col.state": "状态", "owners_org.cli.col.findings": "发现的问题",
        "owners_org.cli.col.street_code": "街镇", "owners_org.cli.col.trainings": "本年培训",
        "owners_org.cli.none": "（无业主组织记录）", "owners_org.cli.today": "判断日期：{today}",
        "owners_org.cli.thresholds": "阈值（可在配置 [rules.owners_org] 中修改）：",
        "owners_org.cli.synced": "已同步 {changed} 个小区的“业主组织”字段，新建台账申报组织 {declared} 个",
        # layers
        "owners_org.group": "业主组织", "owners_org.layer": "业委会/物管会组建状态",
        "owners_org.streets_layer": "街镇距组建率95%还差小区数",
        # screens
        "owners_org.nav": "业委会", "owners_org.title": "业委会/物管会工作台",
        "owners_org.section": "业主组织（业委会/物管会）", "owners_org.panel": "业委会（物管会）组建率（按记录）",
        "owners_org.street": "街镇", "owners_org.community": "社区", "owners_org.today": "判断日期 {today}",
        "owners_org.kpi": "本街镇组建率（按记录）", "owners_org.kpi.detail": "已组建 {counting} / 已核实 {known} 个小区，待核实 {unknown} 个",
        "owners_org.kpi.needed": "距 {target} 还差 {needed} 个小区", "owners_org.kpi.reached": "已达 {target}",
        "owners_org.board": "组建进度看板", "owners_org.alerts": "待办提醒", "owners_org.no_alerts": "暂无待办",
        "owners_org.trainings": "委员培训", "owners_org.trainings.count": "{year} 年已开展 {n} 次 / 目标 {target} 次",
        "owners_org.trainings.add": "登记培训", "owners_org.col.compound": "小区", "owners_org.col.state": "状态",
        "owners_org.col.kind": "类型", "owners_org.col.finding": "问题", "owners_org.col.severity": "级别",
        "owners_org.col.held_on": "日期", "owners_org.col.title": "主题", "owners_org.col.audiences": "对象",
        "owners_org.col.person": "姓名", "owners_org.col.role": "职务", "owners_org.col.party": "党员",
        "owners_org.col.servant": "公职人员", "owners_org.col.votes": "得票", "owners_org.col.start": "任职起",
        "owners_org.col.end": "离任", "owners_org.col.checks": "资格审查", "owners_org.col.period": "评议期",
        "owners_org.col.grade": "评议结果", "owners_org.col.rectified_on": "整改完成",
        "owners_org.col.taken_on": "接管日期", "owners_org.col.items": "接管物品", "owners_org.col.note": "备注",
        "owners_org.col.seat_order": "递补顺序",
        "owners_org.open": "办理", "owners_org.back": "返回看板", "owners_org.successor": "新一届：{org_id}（{state}）",
        "owners_org.declared": "台账申报", "owners_org.no_org": "尚无业主组织记录",
        "owners_org.start": "成立筹备组", "owners_org.start.kind": "组织类型", "owners_org.start.date": "筹备组成立日期",
        "owners_org.org": "组织信息", "owners_org.field.seats": "正式委员名额",
        "owners_org.field.prep_group_on": "筹备组成立日期", "owners_org.field.elected_on": "选举日期",
        "owners_org.field.filed_on": "街镇备案日期", "owners_org.field.registered_on": "民政登记日期",
        "owners_org.field.term_start": "任期开始", "owners_org.field.term_end": "任期届满",
        "owners_org.field.party_org_on": "党组织成立日期", "owners_org.field.dissolved_on": "解散日期",
        "owners_org.field.declared": "台账申报（未补全前按运行中计）", "owners_org.field.kind": "组织类型",
        "owners_org.field.person": "姓名", "owners_org.field.role": "职务", "owners_org.field.party_member": "中共党员",
        "owners_org.field.public_servant": "公职人员", "owners_org.field.votes": "得票数",
        "owners_org.field.start": "任职日期", "owners_org.field.end": "离任日期", "owners_org.field.period": "评议期（如 2025H1）",
        "owners_org.field.held_on": "评议日期", "owners_org.field.grade": "评议结果",
        "owners_org.field.rectified_on": "整改完成日期", "owners_org.field.taken_on": "接管日期",
        "owners_org.field.note": "备注", "owners_org.field.title": "培训主题", "owners_org.field.training_on": "培训日期",
        "owners_org.field.audiences": "培训对象", "owners_org.audience.committee_members": "业委会/物管会委员",
        "owners_org.audience.street_staff": "街镇工作人员", "owners_org.audience.community_staff": "社区工作人员",
        "owners_org.save": "保存", "owners_org.saved": "已保存", "owners_org.members": "委员与候补委员",
        "owners_org.add_member": "登记委员/候补委员", "owners_org.fill_seats": "按得票递补缺额",
        "owners_org.filled": "已递补 {n} 个缺额", "owners_org.evaluations": "民主评议（每半年一次）",
        "owners_org.add_evaluation": "登记评议", "owners_org.rectified": "登记整改完成", "owners_org.custody": "街镇代管（印章、账簿、凭证、档案）",
        "owners_org.add_custody": "登记代管", "owners_org.findings": "发现的问题", "owners_org.none": "无",
        "owners_org.history": "往届", "owners_org.yes": "是", "owners_org.no": "否",
        "owners_org.created": "已成立筹备组（{org_id}）", "owners_org.member_added": "已登记 {person}",
        "owners_org.evaluation_added": "已登记 {period} 民主评议", "owners_org.custody_added": "已登记代管",
        "owners_org.training_added": "已登记培训", "owners_org.error": "未保存：{message}",
        "owners_org.new_term": "发起换届（新一届筹备组）", "owners_org.community_only": "本社区小区（社区负责民主评议）",
        "owners_org.thresholds": "本页采用的阈值", "owners_org.state_counts": "{state}：{n}",
        "owners_org.streets": "各街镇（按记录）", "owners_org.col.street": "街镇", "owners_org.col.rate": "组建率",
        "owners_org.col.needed": "距95%还差", "owners_org.col.unknown": "待核实", "owners_org.col.counting": "已组建",
        "owners_org.col.known": "已核实",
    },
    "en": {
        "owners_org.kind.owners_orgs": "Owners' organisations", "owners_org.kind.org_members": "Committee members",
        "owners_org.kind.org_evaluations": "Evaluations", "owners_org.kind.trainings": "Trainings",
        "import.table.owners_org": "owners' organisations", "import.table.org_member": "members",
        "import.table.org_evaluation": "evaluations", "import.table.training": "trainings",
        "owners_org.import.declared": "{n} compounds got a declared owners' organisation from the owners_org column "
                                      "(counted, dates and members to complete): {ids}",
        "owners_org.import.kept": "{n} compounds already have owners' organisation records; their owners_org column "
                                  "follows the records, not the file: {ids}",
        "owners_org.refused.eligibility": "{person}: missing vetting check(s) {checks}; cannot be recorded as a "
                                          "member or alternate (rule A1)",
        "owners_org.refused.alternates": "{n} alternates would exceed half of the {seats} formal seats (at most "
                                         "{limit}, rule A3)",
        "owners_org.refused.alternates_no_seats": "record the organisation's formal seats before its alternates (rule A3)",
        "owners_org.refused.seats_alternates": "with {seats} seats the {n} alternates would exceed half (at most "
                                               "{limit}, rule A3)",
        "owners_org.refused.unknown_org": "unknown owners' organisation {org_id!r}",
        "owners_org.refused.unknown_compound": "unknown compound {compound_id!r}",
        "owners_org.refused.unknown_member": "unknown member record {member_id!r}",
        "owners_org.refused.bad_period": "bad evaluation period {value!r}: write 2025H1 or 2025H2",
        "owners_org.refused.period_open": "the half-year {period} has not started: no evaluation yet",
        "owners_org.refused.held_before_period": "held on {held_on}, before the half-year {period} began",
        "owners_org.refused.date_order": "dates out of order: {first} ({a}) is after {second} ({b})",
        "owners_org.refused.unknown_street": "unknown street {value!r}",
        "owners_org.refused.current_exists": "the compound already has organisation {org_id} ({state}); a new one "
                                             "starts within {days} days of the term's end or after it, or as a "
                                             "committee succeeding a management committee",
        "owners_org.refused.bad_value": "{field}: {value!r} is not valid",
        "owners_org.refused.required": "{field} is required",
        "owners_org.refused.no_vacancy": "no vacancy to fill from the alternates",
        "owners_org.refused.stale": "the record changed (now version {version}); reload and retry",
        "owners_org.refused.forbidden": "not allowed: outside your street or community",
        "owners_org.refused.owners_org_field": "owners_org is derived from the owners' organisation records and "
                                               "cannot be set by hand; record the organisation in the 业委会 workspace",
        "owners_org.refused.custody_empty": "tick at least one item taken into custody (seal, accounts, vouchers, archives)",
        "owners_org.finding.eligibility_missing": "member {member_id} lacks vetting check(s): {checks}",
        "owners_org.finding.members_missing": "elected, but no members recorded",
        "owners_org.finding.members_incomplete": "{recorded} formal members recorded for {seats} seats (complete before filing)",
        "owners_org.finding.seats_missing": "formal seats not recorded",
        "owners_org.finding.alternates_over": "{alternates} alternates, above the limit of {limit}",
        "owners_org.finding.party_count_low": "{party_members} party members, fewer than {minimum}: joint or "
                                              "seconded party building",
        "owners_org.finding.party_share_low": "{party_members} party members, less than half of {seats} seats",
        "owners_org.finding.party_org_missing": "{party_members} party members: a party organisation is due (not recorded)",
        "owners_org.finding.vacancy_fill": "{vacancies} of {seats} seats vacant: alternates take them by votes (announced)",
        "owners_org.finding.re_election_required": "re-election required: {reason}",
        "owners_org.reason.vacancy_over_half": "{vacancies} of {seats} seats vacant, more than half",
        "owners_org.reason.two_unqualified": "two unqualified evaluations within a year ({periods})",
        "owners_org.finding.evaluation_due": "{period} evaluation due (by {due})",
        "owners_org.finding.evaluation_overdue": "{period} evaluation overdue (due {due})",
        "owners_org.finding.rectification_due": "{period} unqualified: rectify by {due}",
        "owners_org.finding.rectification_overdue": "{period} unqualified: rectification overdue ({due})",
        "owners_org.finding.term_expiring": "term ends on {term_end} ({days} days): prepare the re-election",
        "owners_org.finding.term_expired": "term ended on {term_end}, no successor",
        "owners_org.finding.custody_due": "the street takes custody of seal, accounts, vouchers, archives by {due} "
                                          "(missing: {missing})",
        "owners_org.finding.to_complete": "declared by a ledger, to complete: {missing}",
        "owners_org.finding.training_short": "{year}: {trainings} member trainings, fewer than {target}",
        "owners_org.finding.training_progress": "{year}: {trainings} member trainings so far (target {target})",
        "owners_org.severity.error": "action", "owners_org.severity.warning": "warning", "owners_org.severity.info": "note",
        "owners_org.missing.seats": "seats", "owners_org.missing.term_start": "term start",
        "owners_org.missing.term_end": "term end", "owners_org.missing.filed_on": "filing date",
        "owners_org.missing.registered_on": "registration date", "owners_org.missing.members": "members",
        "owners_org.cli.col.org_id": "organisation", "owners_org.cli.col.compound_id": "compound",
        "owners_org.cli.col.kind": "kind", "owners_org.cli.col.state": "state", "owners_org.cli.col.findings": "findings",
        "owners_org.cli.col.street_code": "street", "owners_org.cli.col.trainings": "trainings this year",
        "owners_org.cli.none": "(no owners' organisation records)", "owners_org.cli.today": "as of {today}",
        "owners_org.cli.thresholds": "Thresholds (configurable in [rules.owners_org]):",
        "owners_org.cli.synced": "owners_org kept in step for {changed} compounds; {declared} declared organisations created",
        "owners_org.group": "Owners' organisations", "owners_org.layer": "Owners' committees (业委会/物管会)",
        "owners_org.streets_layer": "Compounds still needed for 95% by street",
        "owners_org.nav": "Owners' orgs", "owners_org.title": "Owners' organisations workspace",
        "owners_org.section": "Owners' organisation", "owners_org.panel": "Owners' organisation rate (from records)",
        "owners_org.street": "Street", "owners_org.community": "Community", "owners_org.today": "as of {today}",
        "owners_org.kpi": "Organisation rate of this street (records)",
        "owners_org.kpi.detail": "{counting} organised of {known} known compounds, {unknown} unknown",
        "owners_org.kpi.needed": "{needed} compounds short of {target}", "owners_org.kpi.reached": "{target} reached",
        "owners_org.board": "Pipeline", "owners_org.alerts": "Alerts", "owners_org.no_alerts": "nothing to do",
        "owners_org.trainings": "Member trainings", "owners_org.trainings.count": "{year}: {n} held / target {target}",
        "owners_org.trainings.add": "Record a training", "owners_org.col.compound": "Compound",
        "owners_org.col.state": "State", "owners_org.col.kind": "Kind", "owners_org.col.finding": "Finding",
        "owners_org.col.severity": "Level", "owners_org.col.held_on": "Date", "owners_org.col.title": "Title",
        "owners_org.col.audiences": "Audience", "owners_org.col.person": "Name", "owners_org.col.role": "Role",
        "owners_org.col.party": "Party member", "owners_org.col.servant": "Public servant", "owners_org.col.votes": "Votes",
        "owners_org.col.start": "From", "owners_org.col.end": "Left", "owners_org.col.checks": "Vetting",
        "owners_org.col.period": "Half-year", "owners_org.col.grade": "Grade", "owners_org.col.rectified_on": "Rectified",
        "owners_org.col.taken_on": "Taken on", "owners_org.col.items": "Items", "owners_org.col.note": "Note",
        "owners_org.col.seat_order": "Seat order",
        "owners_org.open": "Open", "owners_org.back": "Back to the board", "owners_org.successor": "successor: {org_id} ({state})",
        "owners_org.declared": "declared", "owners_org.no_org": "no owners' organisation on record",
        "owners_org.start": "Set up a preparatory group", "owners_org.start.kind": "Kind",
        "owners_org.start.date": "Preparatory group set up on",
        "owners_org.org": "Organisation", "owners_org.field.seats": "Formal seats",
        "owners_org.field.prep_group_on": "Preparatory group on", "owners_org.field.elected_on": "Elected on",
        "owners_org.field.filed_on": "Filed with the street on", "owners_org.field.registered_on": "Registered on",
        "owners_org.field.term_start": "Term starts", "owners_org.field.term_end": "Term ends",
        "owners_org.field.party_org_on": "Party organisation on", "owners_org.field.dissolved_on": "Dissolved on",
        "owners_org.field.declared": "Declared by a ledger (counted as active until completed)",
        "owners_org.field.kind": "Kind", "owners_org.field.person": "Name", "owners_org.field.role": "Role",
        "owners_org.field.party_member": "Party member", "owners_org.field.public_servant": "Public servant",
        "owners_org.field.votes": "Votes", "owners_org.field.start": "Seated on", "owners_org.field.end": "Left on",
        "owners_org.field.period": "Half-year (e.g. 2025H1)", "owners_org.field.held_on": "Held on",
        "owners_org.field.grade": "Grade", "owners_org.field.rectified_on": "Rectified on",
        "owners_org.field.taken_on": "Taken on", "owners_org.field.note": "Note", "owners_org.field.title": "Title",
        "owners_org.field.training_on": "Held on", "owners_org.field.audiences": "Audience",
        "owners_org.audience.committee_members": "committee members", "owners_org.audience.street_staff": "street staff",
        "owners_org.audience.community_staff": "community staff",
        "owners_org.save": "Save", "owners_org.saved": "Saved", "owners_org.members": "Members and alternates",
        "owners_org.add_member": "Record a member or alternate", "owners_org.fill_seats": "Fill vacancies by votes",
        "owners_org.filled": "{n} vacancies filled", "owners_org.evaluations": "Evaluations (one per half-year)",
        "owners_org.add_evaluation": "Record an evaluation", "owners_org.rectified": "Record the rectification",
        "owners_org.custody": "Street custody (seal, accounts, vouchers, archives)",
        "owners_org.add_custody": "Record custody", "owners_org.findings": "Findings", "owners_org.none": "none",
        "owners_org.history": "Earlier organisations", "owners_org.yes": "yes", "owners_org.no": "no",
        "owners_org.created": "Preparatory group set up ({org_id})", "owners_org.member_added": "{person} recorded",
        "owners_org.evaluation_added": "{period} evaluation recorded", "owners_org.custody_added": "Custody recorded",
        "owners_org.training_added": "Training recorded", "owners_org.error": "Not saved: {message}",
        "owners_org.new_term": "Start the re-election (new preparatory group)",
        "owners_org.community_only": "Compounds of your community (communities run the evaluations)",
        "owners_org.thresholds": "Thresholds applied here", "owners_org.state_counts": "{state}: {n}",
        "owners_org.streets": "Streets (from records)", "owners_org.col.street": "Street", "owners_org.col.rate": "Rate",
        "owners_org.col.needed": "Short of 95%", "owners_org.col.unknown": "Unknown", "owners_org.col.counting": "Organised",
        "owners_org.col.known": "Known",
    },
}


def register() -> None:
    """Add the labels and messages to the shared catalogues (idempotent)."""
    for enum, values in LABELS.items():
        register_labels(enum, values)
    add_messages(MESSAGES)
    add_messages({"zh": {f"{e}.{v}": zh for e, vals in LABELS.items() for v, (zh, _) in vals.items()},
                  "en": {f"{e}.{v}": en for e, vals in LABELS.items() for v, (_, en) in vals.items()}})


def all_messages() -> dict[str, dict[str, str]]:
    """Messages and enum labels as `register_messages` returns them."""
    out = {lang: dict(entries) for lang, entries in MESSAGES.items()}
    for e, vals in LABELS.items():
        for v, (zh, en) in vals.items():
            out["zh"][f"{e}.{v}"] = zh
            out["en"][f"{e}.{v}"] = en
    return out


def _join(values: Any, lang: str, enum: str | None = None) -> str:
    sep = "、" if lang == "zh" else ", "
    if not isinstance(values, list | tuple):
        return str(values)
    return sep.join(label(enum, v, lang) if enum else str(v) for v in values)


def finding_text(finding: dict[str, Any], lang: str = "zh") -> str:
    """One finding (as in the check JSON) in words."""
    params = {k: v for k, v in finding.items() if k not in ("code", "severity")}
    if "checks" in params:
        params["checks"] = _join(params["checks"], lang, "org_check")
    if "missing" in params and finding["code"] == "custody_due":
        params["missing"] = _join(params["missing"], lang, "custody_item")
    elif "missing" in params:
        params["missing"] = _join([t(f"owners_org.missing.{m}", lang) for m in params["missing"]], lang)
    if "periods" in params:
        params["periods"] = _join(params["periods"], lang)
    if finding["code"] == "re_election_required":
        params["reason"] = t(f"owners_org.reason.{params.get('reason')}", lang, **params)
    try:
        return t(f"owners_org.finding.{finding['code']}", lang, **params)
    except (KeyError, IndexError, ValueError):  # a finding a newer version added: its code
        return str(finding["code"])
