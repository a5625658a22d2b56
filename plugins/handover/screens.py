"""What the handover plugin adds to the shared screens: the compound page's section, the bureau
dashboard's backlog panel, the street workspace's ledger tab and the utility workspace's menu link.

Read models only (over `plugins.handover.service`); the shell renders the templates in
plugins/handover/templates/handover/. Called inside a web request (URLs, the page language).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import url_for

from geoplatform import models as m
from geoplatform import webshell
from geoplatform.labels import label
from geoplatform.screens import AuditRef, MenuLink, Panel, Section

MESSAGES = {
    "zh": {
        "group.设施移交": "设施移交",
        "handover.section.title": "专业经营设施移交", "handover.section.facility": "设施", "handover.section.state": "状态",
        "handover.section.deadline": "期限", "handover.section.overdue": "逾期", "handover.section.ledger": "整改台账",
        "handover.section.no_items": "无整改项", "handover.section.done": "完成于 {date}",
        "handover.audit.entity": "设施移交",
        "handover.panel.title": "专业经营设施移交待办（按单位）", "handover.panel.utility": "单位",
        "handover.panel.total": "未完成", "handover.panel.overdue": "逾期", "handover.panel.open": "打开",
        "handover.ws.tab": "移交台账", "handover.ws.total": "未完成 {total} 项，其中逾期 {overdue} 项",
        "handover.ws.only_overdue": "只看逾期", "handover.ws.export": "导出整改台账（XLSX）",
        "handover.ws.col.compound": "小区", "handover.ws.col.facility": "设施", "handover.ws.col.state": "状态",
        "handover.ws.col.since": "状态起始", "handover.ws.col.deadline": "期限", "handover.ws.col.items": "整改内容",
        "handover.ws.col.overdue": "逾期",
        "handover.col.note": "备注",
        "handover.unknown_compound": "未知小区“{compound}”", "handover.unknown_item": "未知整改项 {item}",
        "handover.item_already_done": "整改项 {item} 已于 {date} 完成，不能再次完成",
        "handover.denied": "用户 {user}（{role}）无权办理 {row}（超出本单位设施或本街镇范围）",
        "handover.unknown_utility": "未知专业经营单位“{utility}”", "handover.unknown_state_filter": "未知状态“{state}”",
        "handover.unknown_facility": "未知设施“{facility}”，可选：{choices}",
        "handover.bad_date": "{field} 日期无效：{value}（格式 YYYY-MM-DD）",
        "handover.bad_field": "{field} 必须是文字（不超过 {max} 字）", "handover.bad_items": "整改项格式无效",
        "handover.need_version": "缺少 version（读取时的版本号，整数）", "handover.unknown_fields": "未知字段：{names}",
        # the utility workspace (/ws/utility)
        'ws_utility.title': '专业经营单位工作台',
        'ws_utility.facility': '设施',
        'ws_utility.backlog': '{facility}移交待办',
        'ws_utility.street': '街镇',
        'ws_utility.all_streets': '全部街镇',
        'ws_utility.state': '状态',
        'ws_utility.all_states': '全部状态',
        'ws_utility.only_overdue': '只看逾期',
        'ws_utility.apply': '筛选',
        'ws_utility.reset': '清除',
        'ws_utility.counts': '未完成 {total} 项，逾期 {overdue} 项',
        'ws_utility.shown': '显示 {shown} / {total} 项',
        'ws_utility.export': '导出本单位整改台账（XLSX）',
        'ws_utility.col.compound': '小区',
        'ws_utility.col.street': '街镇',
        'ws_utility.col.state': '状态',
        'ws_utility.col.since': '状态起始',
        'ws_utility.col.deadline': '期限',
        'ws_utility.col.items': '未完成整改项',
        'ws_utility.col.overdue': '逾期',
        'ws_utility.col.actions': '操作',
        'ws_utility.handle': '办理',
        'ws_utility.show': '定位',
        'ws_utility.yes': '是',
        'ws_utility.no': '否',
        'ws_utility.next_state': '下一状态',
        'ws_utility.same_state': '保持「{state}」（仅补充备注/期限/整改项）',
        'ws_utility.note': '办理说明',
        'ws_utility.note_ph': '例：2025-06-03 组织验收，管网漏损未通过',
        'ws_utility.deadline': '期限',
        'ws_utility.unit': '责任单位',
        'ws_utility.items': '整改台账项',
        'ws_utility.add_item': '添加整改项',
        'ws_utility.item_content': '整改内容',
        'ws_utility.item_ph': '例：更换小区供水主管 120 米',
        'ws_utility.items_only_rectifying': '已完成的状态不能再登记整改项',
        'ws_utility.save': '保存',
        'ws_utility.cancel': '取消',
        'ws_utility.saved': '已保存：{compound} → {state}',
        'ws_utility.done': '标记完成',
        'ws_utility.done_ok': '整改项已完成',
        'ws_utility.no_items': '暂无整改项',
        'ws_utility.final': '已是最终状态，无后续步骤',
        'ws_utility.not_allowed': '不允许的状态变更。当前允许的下一状态：{allowed}',
        'ws_utility.conflict': '该记录刚被其他人修改过，请重新加载后再办理。',
        'ws_utility.reload': '重新加载',
        'ws_utility.forbidden': '无权办理其他专业经营单位的设施',
        'ws_utility.error': '操作失败：{message}',
        'ws_utility.version': '版本',
        'ws_utility.history': '最近变更',
        'ws_utility.map_note': '地图：各小区本设施的移交状态',
        'ws_utility.detail': '详情',
        'ws_utility.none': '没有符合条件的待办',
        'ws_utility.truncated': '仅显示前 {n} 项，请用筛选缩小范围',
        "handover.stale": "{compound} 刚被其他人修改（当前版本 {version}，您读取的是 {sent}），请重新加载后再办理",
        "handover.unknown_state": "未知状态“{state}”，可选：{states}",
        "handover.already_in_state": "{compound} 已是“{current}”；可改为：{allowed_text}",
        "handover.not_allowed": "{compound} 不能从“{current}”改为“{target}”；可改为：{allowed_text}",
        "handover.items_open_only": "整改项只能登记在未完成的状态（所选状态为“{state}”；未摸排须先登记摸排结果）",
        "handover.rectifying_needs_item": "{compound} 进入“整改中”须至少有一项未完成、写明整改期限的整改项："
                                          "请登记整改项（整改内容|责任单位|整改期限）",
        "handover.rectifying_needs_deadline": "{compound} 进入“整改中”须至少有一项未完成的整改项写明整改期限："
                                              "现有整改项都没有整改期限",
        "handover.needs_district_government": "{compound} 从“{current}”直接进入“{target}”须由区政府组织验收"
                                              "（组织单位：区政府，--organised-by district_government）；"
                                              "否则可改为：{allowed_text}",
        "handover.unknown_organiser": "未知验收组织单位“{value}”，可选：{choices}",
        "handover.acceptance_fields_only": "{compound}：验收组织单位、验收日期、参加单位只能在进入或结束验收时登记"
                                           "（“{current}”→“{target}”不是验收）",
        "handover.section.acceptances": "验收记录", "handover.section.held_on": "验收日期",
        "handover.section.organiser": "组织单位", "handover.section.participants": "参加单位",
        "handover.section.result": "验收结果", "handover.section.defects": "发现问题（整改项）",
        "handover.section.pending": "待验收",
        "ws_utility.organised_by": "验收组织单位", "ws_utility.participants": "参加单位",
        "ws_utility.held_on": "验收日期", "ws_utility.acceptance": "验收记录",
        "ws_utility.district_path": "{state}（区政府组织，无需业主表决）",
        "ws_utility.rectifying_hint": "进入“整改中”须至少一项写明整改期限的整改项",
        "handover.ws.add_item": "登记整改项", "handover.ws.item_saved": "已登记整改项",
        "handover.ws.export_acceptances": "导出验收记录（XLSX）",
        "handover.item_needs_content": "整改项须填写整改内容",
        "handover.bulk_nothing": "请选择目标状态或填写责任单位",
        "handover.bulk_none_selected": "请先勾选要办理的小区",
        "handover.bulk_bad_rows": "勾选的小区格式无效",
        'ws_utility.late.deadline': '办理期限 {date} 已过 {days} 天',
        'ws_utility.late.item': '整改项“{content}”逾期 {days} 天',
        'ws_utility.late.more': '（共 {count} 项逾期）',
        'ws_utility.page': '第 {page} / {pages} 页', 'ws_utility.prev': '上一页', 'ws_utility.next': '下一页',
        'ws_utility.select_all': '全选本页', 'ws_utility.select_row': '选择 {compound}',
        'ws_utility.bulk': '批量办理', 'ws_utility.bulk_selected': '已选 {n} 个小区',
        'ws_utility.bulk_state': '改为状态', 'ws_utility.bulk_keep_state': '不改状态',
        'ws_utility.bulk_unit': '责任单位（可不填）', 'ws_utility.bulk_apply': '批量办理…',
        'ws_utility.bulk_confirm': '确认将已选的 {n} 个小区{what}？', 'ws_utility.bulk_confirm_state': '改为“{state}”',
        'ws_utility.bulk_confirm_unit': '的责任单位设为“{unit}”', 'ws_utility.bulk_yes': '确认办理',
        'ws_utility.bulk_done': '已办理 {n} 个小区', 'ws_utility.deadline_keep': '留空则保留原期限；清除期限请点“清除期限”',
        'ws_utility.clear_deadline': '清除期限',
    },
    "en": {
        "group.设施移交": "Facility handover",
        "handover.section.title": "Utility facility handover","handover.section.facility": "Facility",
        "handover.section.state": "State", "handover.section.deadline": "Deadline", "handover.section.overdue": "Overdue",
        "handover.section.ledger": "Rectification ledger", "handover.section.no_items": "no ledger items",
        "handover.section.done": "done {date}", "handover.audit.entity": "handover",
        "handover.panel.title": "Utility handover backlog (per utility)", "handover.panel.utility": "Utility",
        "handover.panel.total": "Open", "handover.panel.overdue": "Overdue", "handover.panel.open": "open",
        "handover.ws.tab": "Handover ledger", "handover.ws.total": "{total} open, {overdue} overdue",
        "handover.ws.only_overdue": "Overdue only", "handover.ws.export": "Export ledger (XLSX)",
        "handover.ws.col.compound": "Compound", "handover.ws.col.facility": "Facility", "handover.ws.col.state": "State",
        "handover.ws.col.since": "Since", "handover.ws.col.deadline": "Deadline", "handover.ws.col.items": "Ledger items",
        "handover.ws.col.overdue": "Overdue",
        "handover.col.note": "note",
        "handover.unknown_compound": "unknown compound {compound!r}", "handover.unknown_item": "unknown ledger item {item}",
        "handover.item_already_done": "ledger item {item} is already done (on {date}); it cannot be done twice",
        "handover.denied": "user {user!r} ({role}) may not change {row} (outside its facility or street)",
        "handover.unknown_utility": "unknown utility {utility!r}", "handover.unknown_state_filter": "unknown state {state!r}",
        "handover.unknown_facility": "unknown facility {facility!r}; choose one of: {choices}",
        "handover.bad_date": "{field} must be a date YYYY-MM-DD, not {value!r}",
        "handover.bad_field": "{field} must be text of at most {max} characters",
        "handover.bad_items": "items must be a list of {{content, responsible_unit, deadline, done_date}}",
        "handover.need_version": "`version` (the version you read) is required and must be an integer",
        "handover.unknown_fields": "unknown field(s): {names}",
        'ws_utility.title': 'Utility workspace',
        'ws_utility.facility': 'Facility',
        'ws_utility.backlog': '{facility} handover backlog',
        'ws_utility.street': 'Street',
        'ws_utility.all_streets': 'All streets',
        'ws_utility.state': 'State',
        'ws_utility.all_states': 'All states',
        'ws_utility.only_overdue': 'Overdue only',
        'ws_utility.apply': 'Filter',
        'ws_utility.reset': 'Clear',
        'ws_utility.counts': '{total} open, {overdue} overdue',
        'ws_utility.shown': 'showing {shown} of {total}',
        'ws_utility.export': 'Export our rectification ledger (XLSX)',
        'ws_utility.col.compound': 'Compound',
        'ws_utility.col.street': 'Street',
        'ws_utility.col.state': 'State',
        'ws_utility.col.since': 'Since',
        'ws_utility.col.deadline': 'Deadline',
        'ws_utility.col.items': 'Open items',
        'ws_utility.col.overdue': 'Overdue',
        'ws_utility.col.actions': 'Actions',
        'ws_utility.handle': 'Update',
        'ws_utility.show': 'Show',
        'ws_utility.yes': 'yes',
        'ws_utility.no': 'no',
        'ws_utility.next_state': 'Next state',
        'ws_utility.same_state': 'Stay “{state}” (add note/deadline/items only)',
        'ws_utility.note': 'Note',
        'ws_utility.note_ph': 'e.g. 2025-06-03 acceptance inspection failed: leaking mains',
        'ws_utility.deadline': 'Deadline',
        'ws_utility.unit': 'Responsible unit',
        'ws_utility.items': 'Ledger items',
        'ws_utility.add_item': 'Add a ledger item',
        'ws_utility.item_content': 'Rectification item',
        'ws_utility.item_ph': 'e.g. replace 120 m of water main',
        'ws_utility.items_only_rectifying': 'A finished state takes no more ledger items',
        'ws_utility.save': 'Save',
        'ws_utility.cancel': 'Cancel',
        'ws_utility.saved': 'Saved: {compound} → {state}',
        'ws_utility.done': 'Mark done',
        'ws_utility.done_ok': 'Ledger item done',
        'ws_utility.no_items': 'no items',
        'ws_utility.final': 'Final state: no further steps',
        'ws_utility.not_allowed': 'Transition not allowed. Allowed next states: {allowed}',
        'ws_utility.conflict': 'Someone else changed this row. Reload it, then try again.',
        'ws_utility.reload': 'Reload',
        'ws_utility.forbidden': "Not allowed: another utility's facility",
        'ws_utility.error': 'Failed: {message}',
        'ws_utility.version': 'version',
        'ws_utility.history': 'Recent changes',
        'ws_utility.map_note': "Map: this facility's handover state per compound",
        'ws_utility.detail': 'Details',
        'ws_utility.none': 'Nothing matches these filters',
        'ws_utility.truncated': 'Only the first {n} rows are shown; narrow the filters',
        "handover.stale": "{compound} was just changed by someone else (version {version}, you read {sent}); reload",
        "handover.unknown_state": "unknown state “{state}”; states: {states}",
        "handover.already_in_state": "{compound} is already “{current}”; it can move to: {allowed_text}",
        "handover.not_allowed": "{compound} cannot move from “{current}” to “{target}”; it can move to: {allowed_text}",
        "handover.items_open_only": "ledger items attach to an open state (the chosen state is “{state}”; "
                                    "an unsurveyed row needs its survey result first)",
        "handover.rectifying_needs_item": "{compound}: entering “rectifying” needs at least one open ledger item with "
                                          "a deadline; add one (content|responsible unit|deadline)",
        "handover.rectifying_needs_deadline": "{compound}: entering “rectifying” needs an open ledger item with a "
                                              "deadline; none of the open items has one",
        "handover.needs_district_government": "{compound}: “{current}” → “{target}” directly needs an acceptance "
                                              "organised by the district government (organised_by = "
                                              "district_government, --organised-by district_government); otherwise "
                                              "it can move to: {allowed_text}",
        "handover.unknown_organiser": "unknown acceptance organiser “{value}”; choose one of: {choices}",
        "handover.acceptance_fields_only": "{compound}: organiser, acceptance date and participants belong to entering "
                                           "or ending an acceptance (“{current}” → “{target}” is none)",
        "handover.section.acceptances": "Acceptances", "handover.section.held_on": "Date",
        "handover.section.organiser": "Organised by", "handover.section.participants": "Participants",
        "handover.section.result": "Result", "handover.section.defects": "Defects (ledger items)",
        "handover.section.pending": "pending",
        "ws_utility.organised_by": "Acceptance organised by", "ws_utility.participants": "Participants",
        "ws_utility.held_on": "Acceptance date", "ws_utility.acceptance": "Acceptance",
        "ws_utility.district_path": "{state} (organised by the district government, no owners' vote)",
        "ws_utility.rectifying_hint": "entering “rectifying” needs at least one ledger item with a deadline",
        "handover.ws.add_item": "Add a ledger item", "handover.ws.item_saved": "Ledger item added",
        "handover.ws.export_acceptances": "Export acceptances (XLSX)",
        "handover.item_needs_content": "a ledger item needs its content",
        "handover.bulk_nothing": "choose a target state or a responsible unit",
        "handover.bulk_none_selected": "tick the compounds first",
        "handover.bulk_bad_rows": "the ticked rows are malformed",
        'ws_utility.late.deadline': 'deadline {date} passed {days} days ago',
        'ws_utility.late.item': 'ledger item “{content}” {days} days late',
        'ws_utility.late.more': ' ({count} late items)',
        'ws_utility.page': 'page {page} / {pages}', 'ws_utility.prev': 'previous', 'ws_utility.next': 'next',
        'ws_utility.select_all': 'select this page', 'ws_utility.select_row': 'select {compound}',
        'ws_utility.bulk': 'Bulk update', 'ws_utility.bulk_selected': '{n} compounds selected',
        'ws_utility.bulk_state': 'move to', 'ws_utility.bulk_keep_state': 'keep the state',
        'ws_utility.bulk_unit': 'responsible unit (optional)', 'ws_utility.bulk_apply': 'Apply…',
        'ws_utility.bulk_confirm': 'Apply to the {n} selected compounds: {what}?', 'ws_utility.bulk_confirm_state': 'move to “{state}”',
        'ws_utility.bulk_confirm_unit': ' responsible unit “{unit}”', 'ws_utility.bulk_yes': 'Confirm',
        'ws_utility.bulk_done': '{n} compounds updated', 'ws_utility.deadline_keep': 'leave empty to keep the deadline',
        'ws_utility.clear_deadline': 'clear the deadline',
    },
}


def _settings(context: Any) -> Any:
    from plugins.handover.settings import settings_for

    return settings_for(context)


def menu_links(context: Any, user: Any) -> list[MenuLink]:
    """The utility workspace, for utility, telecom and fire accounts (their home page: their backlog) and the
    bureau/admin."""
    from plugins.handover.pages import OWN_ROLES, WORKSPACE_ROLES

    if getattr(user, "role", None) not in WORKSPACE_ROLES:
        return []
    return [MenuLink(href=url_for("ws_utility.page"), label="ws_utility.title", order=20, id="gp-nav-ws-utility",
                     home=user.role in OWN_ROLES)]


def compound_sections(context: Any, compound_id: str, user: Any) -> list[Section]:
    """Each facility's handover state with its ledger items (shown when the compound has a surveyed row)."""
    from plugins.handover import service

    lang = webshell.lang()
    settings = _settings(context)
    rows = []
    with context.session(readonly=True) as s:
        for facility in m.FACILITIES:
            if not context.allowed(user, "view", {"kind": "handover", "facility": facility}):
                continue  # the read rule of handover rows (docs/security.md): e.g. a utility sees its own only
            h = service.get_handover(s, compound_id, facility, today=context.today, settings=settings)
            if h["version"] == 0 and facility not in m.UTILITY_FACILITIES:
                continue
            h["facility_label"] = label("facility", facility, lang)
            h["state_label"] = label("handover_state", h["state"], lang)
            rows.append(h)
    if not rows:
        return []
    events = [{**a, "facility": h["facility"], "facility_label": h["facility_label"],
               "organiser_label": label("acceptance_organiser", a["organised_by"], lang),
               "result_label": label("acceptance_result", a["result"], lang) if a["result"] else None}
              for h in rows for a in h["acceptances"]]
    entity = _t("handover.audit.entity", lang)
    refs = tuple(AuditRef("handover", f"{compound_id}:{f}", label=f"{entity} · {label('facility', f, lang)}",
                          enums=(("state", "handover_state"), ("facility", "facility"))) for f in m.FACILITIES)
    return [Section(id="handover", title="handover.section.title", template="handover/section.html",
                    data={"rows": rows, "acceptances": events}, order=20, audit=refs)]


def _t(key: str, lang: str, **kw: Any) -> str:
    from geoplatform.i18n import t

    return t(key, lang, **kw)


def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Panel]:
    """The bureau's backlog per utility; the street workspace's ledger tab."""
    if where == "bureau":
        return [bureau_panel(context)]
    if where == "street" and street_code:
        return [street_panel(context, street_code)]
    return []


def bureau_panel(context: Any) -> Panel:
    """Per utility: open rows by state and overdue count (the service's backlog)."""
    from plugins.handover import rules, service

    lang = webshell.lang()
    with context.session(readonly=True) as s:
        data = service.backlog(s, context.today, _settings(context), None, None)
    states = [st for st in rules.states("water") if st not in rules.FINAL_STATES]
    table = []
    for f in m.UTILITY_FACILITIES:
        items = [i for i in data["items"] if i["facility"] == f]
        by_state = Counter(i["state"] for i in items)
        table.append({"facility": f, "label": label("facility", f, lang), "total": len(items),
                      "overdue": sum(i["overdue"] for i in items), "by_state": [by_state.get(st, 0) for st in states],
                      "href": url_for("ws_utility.page", utility=f)})
    return Panel(id="handover", title="handover.panel.title", template="handover/bureau_panel.html", where="bureau",
                 order=40, data={"states": [(st, label("handover_state", st, lang)) for st in states], "rows": table})


def street_panel(context: Any, street: str) -> Panel:
    """The street's open handover rows with their ledger items, overdue first (the ledger tab); a row in an open
    state takes a new ledger item here (the survey's findings, RULES §2)."""
    from plugins.handover import rules, service

    lang = webshell.lang()
    today = context.today
    with context.session(readonly=True) as s:
        data = service.backlog(s, today, _settings(context), None, street)
        _, rows, items = service.load_rows(s, street)
    by_key = {(r["compound_id"], r["facility"]): items.get(r["id"], []) for r in rows}
    for item in data["items"]:
        item["facility_label"] = label("facility", item["facility"], lang)
        item["state_label"] = label("handover_state", item["state"], lang)
        item["items_allowed"] = rules.items_allowed(item["facility"], item["state"])  # the survey's ledger on
        item["ledger"] = [{"content": i["content"], "deadline": i["deadline"], "done": i["done_date"] is not None,
                           "late": i["done_date"] is None and i["deadline"] is not None and i["deadline"] < today}
                          for i in by_key.get((item["compound_id"], item["facility"]), [])]
    data["items"].sort(key=lambda i: (not i["overdue"], i["compound_name"] or "", i["facility"]))
    shell = webshell.shell()
    data["export_url"] = shell.url("export", name="handover-ledger", format="xlsx", street=street)
    data["acceptances_url"] = shell.url("export", name="handover-acceptances", format="xlsx", street=street)
    data["compound_page"] = shell.url("compound_page")
    data["row_api"] = url_for("handover_api.get_handover", compound_id="__ID__", facility="__F__")
    return Panel(id="ledger", title="handover.ws.tab", template="handover/street_panel.html", where="street",
                 order=90, data=data, badge=str(data["counts"]["overdue"]), badge_class="bg-danger",
                 scripts=(url_for("ws_utility.static", filename="street_ledger.js"),))
