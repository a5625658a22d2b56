"""What the bundling plugin adds to the shared screens: the street workspace's bundling tab (proposals to
accept/reject/revert, possible new bundles, orphans without a host, the bundling map layers) and the
compound page's bundling section. Read models over `plugins.bundling.service`; called inside a request.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from geoplatform import models as m
from geoplatform import webshell
from geoplatform.i18n import t
from geoplatform.labels import label
from geoplatform.screens import AuditRef, Panel, Section
from geoplatform.sqlin import in_values

MAP_LAYERS = ("bundling_hosts", "bundling_new_bundles", "bundling_orphans", "bundling_links")
OPEN_STATES = ("proposed", "reverted")  # decidable (see service.DECIDABLE)

MESSAGES = {
    "zh": {
        "group.打包管理": "打包管理",
        'bundling.ws.tab.bundles': '打包管理',
        'bundling.ws.replan': '重新规划',
        'bundling.ws.replan_hint': '按当前数据为本街镇重新计算打包建议并保存（已决定的建议保持不变）',
        'bundling.ws.replanned': '已重新规划：新增 {inserted}，更新 {updated}，保留已决定 {kept_decided}，移除过期 {removed_stale}',
        'bundling.ws.proposals': '打包建议',
        'bundling.ws.no_proposals': '本街镇暂无打包建议',
        'bundling.ws.col.orphan': '单体楼栋/小规模小区',
        'bundling.ws.col.kind': '类型',
        'bundling.ws.col.host': '建议并入小区',
        'bundling.ws.col.distance': '间距(米)',
        'bundling.ws.col.area': '合并后面积(㎡)',
        'bundling.ws.col.households': '合并后户数',
        'bundling.ws.col.status': '状态',
        'bundling.ws.col.actions': '操作',
        'bundling.ws.col.orphan_area': '自身面积(㎡)',
        'bundling.ws.accept': '同意打包',
        'bundling.ws.reject': '驳回',
        'bundling.ws.show': '定位',
        'bundling.ws.consent': '表决说明（选填，如业主大会日期、材料编号）',
        'bundling.ws.vote': '业主表决结果（必填，民法典第二百七十八条：参与表决≥2/3，同意>参与的1/2）',
        'bundling.ws.vote_area': '按专有部分面积（㎡）', 'bundling.ws.vote_owners': '按业主人数',
        'bundling.ws.vote_total': '总数', 'bundling.ws.vote_participating': '参与表决', 'bundling.ws.vote_yes': '同意',
        'bundling.ws.need_vote': '请填写表决结果：面积和人数的总数、参与表决数、同意数',
        'bundling.ws.vote_summary': '业主表决：面积 {a_t}㎡，参与 {a_p}㎡，同意 {a_y}㎡；人数 {o_t}，参与 {o_p}，同意 {o_y}',
        'bundling.ws.host_firm_agreed': '；承接物业企业：{firm}（已协商同意）',
        'bundling.ws.consent_ph': '例：2025年5月业主大会，表决材料编号2025-07',
        'bundling.ws.reason': '驳回理由（必填）',
        'bundling.ws.reason_ph': '例：两小区之间有围墙且业主不同意',
        'bundling.ws.confirm_accept': '确认同意',
        'bundling.ws.confirm_reject': '确认驳回',
        'bundling.ws.need_consent': '请填写业主大会表决情况',
        'bundling.ws.need_reason': '请填写驳回理由',
        'bundling.ws.accepted_ok': '已同意：楼栋/小区已并入 {host}',
        'bundling.ws.rejected_ok': '已驳回',
        'bundling.ws.not_saved': '未保存（同意时自动保存）',
        'bundling.ws.not_in_plan': '当前规划中已无此建议，请重新规划',
        'bundling.ws.decided_by': '{who} 于 {at}',
        'bundling.ws.new_bundles': '可组成的新管理区域（国企兜底候选）',
        'bundling.ws.no_new_bundles': '无',
        'bundling.ws.unmatched': '暂无可打包对象',
        'bundling.ws.no_unmatched': '无',
        'bundling.ws.col.id': '编号',
        'bundling.ws.col.members': '组成',
        'bundling.ws.col.floor_area': '建筑面积(㎡)',
        'bundling.ws.col.reason': '原因',
        'bundling.ws.col.nearest': '最近专业化小区(米)',
        'bundling.ws.revert': '撤销打包',
        'bundling.ws.reverted_ok': '已撤销，楼栋/小区已恢复原状',
        'bundling.ws.revert_reason': '撤销理由（必填，记入审计）', 'bundling.ws.revert_ph': '例：表决材料不全，需重新表决',
        'bundling.ws.confirm_revert': '确认撤销打包', 'bundling.ws.need_revert_reason': '请填写撤销理由',
        'bundling.ws.revert_question': '撤销后，楼栋/小区恢复到打包前的状态。确定撤销这条已同意的打包建议吗？',
        'bundling.ws.close': '知道了',
        'bundling.ws.buildings': '楼栋 {ids}',
        'bundling.ws.at_address': '{address}（{n} 栋）', 'bundling.ws.no_address': '无门牌地址：楼栋 {ids}',
        'bundling.ws.building_codes': '楼栋编号',
        'bundling.ws.unsaved_note': '其中 {n} 条建议尚未保存：决定时自动保存，或点击“重新规划”全部保存。',
        "bundling.section.title": "打包管理", "bundling.section.no_proposals": "不涉及打包建议",
        "bundling.section.as_host": "作为承接小区", "bundling.section.as_orphan": "作为被打包对象",
        "bundling.section.plan_host": "当前规划：承接 {n} 条打包建议",
        "bundling.section.plan_orphan": "当前规划：本小区不成管理规模（{status}）",
        "bundling.audit.entity": "打包建议", "bundle_proposal.col.status": "状态",
        "bundle_proposal.col.reason": "驳回理由", "bundling.need_note": "请填写{what}",
        "bundling.note.consent_note": "业主大会表决情况", "bundling.note.reason": "驳回理由", "bundling.note.note": "撤销理由",
        "bundling.need_street": "请指定街镇（street）",
    },
    "en": {
        "group.打包管理": "Bundled management",
        'bundling.ws.tab.bundles': 'Bundling',
        'bundling.ws.replan': 'Re-plan',
        'bundling.ws.replan_hint': "Recompute and save this street's proposals (decided ones stay)",
        'bundling.ws.replanned': 'Re-planned: {inserted} new, {updated} updated, {kept_decided} decided kept, {removed_stale} stale removed',
        'bundling.ws.proposals': 'Bundling proposals',
        'bundling.ws.no_proposals': 'No proposals in this street',
        'bundling.ws.col.orphan': 'Orphan building / small compound',
        'bundling.ws.col.kind': 'Kind',
        'bundling.ws.col.host': 'Proposed host',
        'bundling.ws.col.distance': 'Distance (m)',
        'bundling.ws.col.area': 'Merged floor area (m²)',
        'bundling.ws.col.households': 'Merged households',
        'bundling.ws.col.status': 'Status',
        'bundling.ws.col.actions': 'Actions',
        'bundling.ws.col.orphan_area': 'Own area (m²)',
        'bundling.ws.accept': 'Accept',
        'bundling.ws.reject': 'Reject',
        'bundling.ws.show': 'Show',
        'bundling.ws.consent': "Note on the vote (optional: assembly date, record number)",
        'bundling.ws.vote': "The owners' vote (required, Civil Code §278: participants ≥ 2/3, yes > 1/2 of them)",
        'bundling.ws.vote_area': 'By floor area (m²)', 'bundling.ws.vote_owners': 'By owners',
        'bundling.ws.vote_total': 'Total', 'bundling.ws.vote_participating': 'Took part', 'bundling.ws.vote_yes': 'Yes',
        'bundling.ws.need_vote': 'Give the vote: total, participating and yes, by area and by owners',
        'bundling.ws.vote_summary': ("Owners' vote: area {a_t} m², took part {a_p} m², yes {a_y} m²; owners {o_t}, "
                                     "took part {o_p}, yes {o_y}"),
        'bundling.ws.host_firm_agreed': '; host firm: {firm} (agreed)',
        'bundling.ws.consent_ph': "e.g. owners' assembly May 2025, record 2025-07",
        'bundling.ws.reason': 'Reason for rejecting (required)',
        'bundling.ws.reason_ph': 'e.g. walled off, owners object',
        'bundling.ws.confirm_accept': 'Confirm accept',
        'bundling.ws.confirm_reject': 'Confirm reject',
        'bundling.ws.need_consent': "Record the owners' assembly vote",
        'bundling.ws.need_reason': 'Give a reason',
        'bundling.ws.accepted_ok': 'Accepted: now managed with {host}',
        'bundling.ws.rejected_ok': 'Rejected',
        'bundling.ws.not_saved': 'not saved yet (saved when decided)',
        'bundling.ws.not_in_plan': 'no longer in the current plan: re-plan',
        'bundling.ws.decided_by': '{who} at {at}',
        'bundling.ws.new_bundles': 'Possible new management areas (takeover candidates)',
        'bundling.ws.no_new_bundles': 'none',
        'bundling.ws.unmatched': 'Orphans without a host',
        'bundling.ws.no_unmatched': 'none',
        'bundling.ws.col.id': 'ID',
        'bundling.ws.col.members': 'Members',
        'bundling.ws.col.floor_area': 'Floor area (m²)',
        'bundling.ws.col.reason': 'Why',
        'bundling.ws.col.nearest': 'Nearest host (m)',
        'bundling.ws.revert': 'Revert',
        'bundling.ws.reverted_ok': 'Reverted: the orphans are back as they were',
        'bundling.ws.revert_reason': 'Reason for undoing (required, audited)', 'bundling.ws.revert_ph': 'e.g. the vote records are incomplete',
        'bundling.ws.confirm_revert': 'Confirm undo', 'bundling.ws.need_revert_reason': 'Give the reason for undoing',
        'bundling.ws.revert_question': 'Undoing restores the buildings/compounds as they were before. Undo this accepted proposal?',
        'bundling.ws.close': 'Got it',
        'bundling.ws.buildings': 'buildings {ids}',
        'bundling.ws.at_address': '{address} ({n} buildings)', 'bundling.ws.no_address': 'no address: buildings {ids}',
        'bundling.ws.building_codes': 'building codes',
        'bundling.ws.unsaved_note': '{n} proposals are not saved yet: deciding one saves it, re-planning saves all.',
        "bundling.section.title": "Bundled management", "bundling.section.no_proposals": "No bundling proposals",
        "bundling.section.as_host": "as host", "bundling.section.as_orphan": "as orphan",
        "bundling.section.plan_host": "Current plan: host of {n} proposals",
        "bundling.section.plan_orphan": "Current plan: under management scale ({status})",
        "bundling.audit.entity": "bundling", "bundle_proposal.col.status": "status",
        "bundle_proposal.col.reason": "reason", "bundling.need_note": "{what} is required",
        "bundling.note.consent_note": "the owners' assembly vote", "bundling.note.reason": "a reason",
        "bundling.note.note": "the reason for undoing",
        "bundling.need_street": "name the street to plan (street)",
    },
}


def _buildings(session: Any, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Orphan buildings by id: address and a point inside each (for the list and the map highlight)."""
    from geoplatform.store import read_frame

    if not ids:
        return {}
    frame = read_frame(session, "building", where=[in_values(m.Building.id, ids)], columns=["id", "address", "geom"])
    out = {}
    for bid, address, geom in zip(frame["id"], frame["address"], frame.geometry, strict=True):
        pt = geom.representative_point() if geom is not None and not geom.is_empty else None
        out[str(bid)] = {"id": str(bid), "address": address if isinstance(address, str) and address else None,
                         "lat": round(pt.y, 6) if pt else None, "lon": round(pt.x, 6) if pt else None}
    return out


def by_address(buildings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Orphan buildings grouped by address (the order first seen): [{"address", "ids"}]; no address → its own row."""
    groups: dict[str, dict[str, Any]] = {}
    for b in buildings:
        key = b["address"] or f"\0{b['id']}"
        groups.setdefault(key, {"address": b["address"], "ids": []})["ids"].append(b["id"])
    return list(groups.values())


def _names(session: Any, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(m.Compound.id, m.Compound.name).where(in_values(m.Compound.id, ids))).all())


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a (Geo)DataFrame as dicts, without geometry columns."""
    geo = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
    return frame.drop(columns=geo).to_dict("records")


def proposal_rows(context: Any, session: Any, street: str) -> list[dict[str, Any]]:
    """Stored proposals of the street plus the current plan's unsaved ones, open first, then by distance."""
    from plugins.bundling import service

    plan = service.cached_plan(context)
    planned = plan.proposals[plan.proposals["street"] == street]
    stored = {p["id"]: p for p in service.list_proposals(session, street)}
    rows: list[dict[str, Any]] = []
    for r in _records(planned):
        p = stored.pop(r["id"], None)
        if p is None:
            p = {"id": r["id"], "street": street, "orphan_kind": r["orphan_kind"], "orphan_ids": list(r["orphan_ids"]),
                 "host_compound_id": r["host_compound_id"], "distance_m": round(float(r["distance_m"]), 1),
                 "merged_floor_area_m2": round(float(r["merged_floor_area_m2"]), 1),
                 "merged_households": int(r["merged_households"]), "status": "proposed", "saved": False,
                 "version": None, "consent_note": None, "reason": None, "decided_by": None, "decided_at": None,
                 "vote": None, "host_firm": None}
        else:
            p = {**p, "saved": True}
        p["in_plan"] = True
        p["orphan_floor_area_m2"] = round(float(r["orphan_floor_area_m2"]), 1)
        rows.append(p)
    rows += [{**p, "saved": True, "in_plan": False, "orphan_floor_area_m2": None} for p in stored.values()]
    compound_ids = {p["host_compound_id"] for p in rows if p["host_compound_id"]}
    compound_ids |= {i for p in rows if p["orphan_kind"] == "compound" for i in p["orphan_ids"]}
    names = _names(session, compound_ids)
    buildings = _buildings(session, {i for p in rows if p["orphan_kind"] != "compound" for i in p["orphan_ids"]})
    for p in rows:
        p["host_name"] = names.get(p["host_compound_id"], p["host_compound_id"])
        p["orphan_names"] = [names.get(i, i) for i in p["orphan_ids"]] if p["orphan_kind"] == "compound" \
            else list(p["orphan_ids"])
        if p["orphan_kind"] != "compound":
            found = [buildings[i] for i in p["orphan_ids"] if i in buildings]
            p["orphan_addresses"] = by_address(found)
            p["orphan_points"] = [[b["lat"], b["lon"]] for b in found if b["lat"] is not None]
        p["open"] = p["status"] in OPEN_STATES
    rows.sort(key=lambda p: (not p["open"], p["status"], p["distance_m"] or 0.0, p["id"]))
    return rows


def plan_leftovers(context: Any, street: str, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The street's possible new bundles and unmatched orphans (with readable reasons) from the current plan."""
    from plugins.bundling import service

    plan = service.cached_plan(context)
    bundles = [{"id": b["id"], "orphan_ids": list(b["orphan_ids"]), "floor_area_m2": round(float(b["floor_area_m2"]), 1),
                "households": int(b["households"])}
               for b in _records(plan.new_bundles) if b["street"] == street]
    unmatched = []
    for u in plan.unmatched.to_dict("records"):
        if u["street"] != street:
            continue
        near = u["nearest_host_distance_m"]
        unmatched.append({"orphan_id": u["orphan_id"], "kind": label("orphan_kind", u["orphan_kind"], lang),
                          "reason": label("bundle_reason", u["reason"], lang),
                          "nearest": None if near is None or near != near else round(float(near))})
    return bundles, unmatched


def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Panel]:
    """The street workspace's bundling tab (first tab), with the bundling layers on the workspace map."""
    if where != "street" or not street_code:
        return []
    from plugins.bundling import service

    lang = webshell.lang()
    with context.session(readonly=True) as s:
        proposals = proposal_rows(context, s, street_code)
    bundles, unmatched = plan_leftovers(context, street_code, lang)
    settings = service.settings_for(context)
    data = {
        "proposals": proposals, "bundles": bundles, "unmatched": unmatched,
        "thresholds": t("bundling.thresholds", lang, **settings.as_dict()),
        "can_revert": context.allowed(user, "revert_bundle", {"kind": "bundle", "street_code": street_code}),
        "compound_page": webshell.shell().url("compound_page"),
        "config": {"actions": {"plan": url_for("ws_bundling.replan"),
                               "accept": url_for("ws_bundling.accept", proposal_id="__ID__"),
                               "reject": url_for("ws_bundling.reject", proposal_id="__ID__"),
                               "revert": url_for("ws_bundling.revert", proposal_id="__ID__")}},
    }
    return [Panel(id="bundles", title="bundling.ws.tab.bundles", template="bundling/street_panel.html",
                  where="street", order=10, data=data, badge=str(sum(p["open"] for p in proposals)),
                  badge_class="bg-warning text-dark", layers=MAP_LAYERS, messages=("bundling.ws.",),
                  scripts=(url_for("ws_bundling.static", filename="street_bundles.js"),))]


def compound_sections(context: Any, compound_id: str, user: Any) -> list[Section]:
    """Stored bundle proposals naming the compound as host or orphan, and its role in the current plan."""
    lang = webshell.lang()
    values = context.compound_attribute_values()
    with context.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id)
        if c is None:
            return []
        rows = s.execute(select(m.BundleProposal).where(m.BundleProposal.street_code == c.street_code)
                         .order_by(m.BundleProposal.id)).scalars().all()
        out = []
        mine = [p for p in rows if p.host_compound_id == c.id or c.id in (p.orphan_ids or [])]
        names = _names(s, {p.host_compound_id for p in mine} | {i for p in mine if p.orphan_kind == "compound"
                                                                  for i in p.orphan_ids or []})
        for p in mine:
            role = "host" if p.host_compound_id == c.id else "orphan" if c.id in (p.orphan_ids or []) else None
            if role is None:
                continue
            out.append({"id": p.id, "role": t(f"bundling.section.as_{role}", lang),
                        "kind": label("orphan_kind", p.orphan_kind, lang),
                        "orphans": "、".join(names.get(i, i) for i in p.orphan_ids or []),
                        "host": p.host_compound_id, "host_name": names.get(p.host_compound_id, p.host_compound_id), "distance": p.distance_m, "area": p.merged_floor_area_m2,
                        "households": p.merged_households, "status": p.status,
                        "status_label": label("bundle_status", p.status, lang), "note": p.consent_note or p.reason})
    plan = {k: values.get(f"bundling_{k}", {}).get(compound_id) for k in ("host_of", "orphan", "status")}
    entity = t("bundling.audit.entity", lang)
    refs = tuple(AuditRef("bundle_proposal", b["id"], label=entity, enums=(("status", "bundle_status"),)) for b in out)
    return [Section(id="bundling", title="bundling.section.title", template="bundling/section.html", order=50,
                    data={"bundles": out, "plan": plan, "compound_page": webshell.shell().url("compound_page")},
                    audit=refs)]
