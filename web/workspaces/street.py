"""Street officer workspace (/ws/street): bundling planner beside the street's map, compound edits, handover ledger.

Thin over the plugins' services: `plugins.bundling.service` (plan, save, accept, reject) and
`plugins.handover.service` (backlog). Every request re-checks jurisdiction with
`web.auth.require("decide_bundle", {street_code})`: a street officer only for their own street
(403 and an audited denial otherwise), admin/bureau for any street (`?street=`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.i18n import add_messages, t
from geoplatform.labels import LABELS, label
from web.auth import current_user, require
from web.lang import current_lang

bp = Blueprint("ws_street", __name__, url_prefix="/ws/street")

MAP_LAYERS = ("compounds", "bundling_hosts", "bundling_new_bundles", "bundling_orphans", "bundling_links")
OPEN_STATES = ("proposed", "reverted")  # decidable (see plugins.bundling.service.DECIDABLE)
NOTE_MAX = 2000
# the compound form: field → input kind (validation is the PATCH API's, errors are shown by field)
EDIT_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "text"), ("address", "text"), ("management_mode", "management_mode"),
    ("company", "text"), ("contract_end", "date"),  # owners_org: derived from the 业委会 records
    ("renovation", "renovation"), ("households", "int"), ("floor_area_m2", "float"), ("build_year", "int"),
    ("fee_collection_rate", "rate"), ("complaints_per_year", "int"), ("demolition_planned", "bool"),
)

add_messages({
    "zh": {
        "ws_street.title": "街镇工作台", "ws_street.nav": "街镇工作台", "ws_street.street": "街镇",
        "ws_street.tab.bundles": "打包管理", "ws_street.tab.compounds": "小区信息", "ws_street.tab.ledger": "移交台账",
        "ws_street.replan": "重新规划", "ws_street.replan_hint": "按当前数据为本街镇重新计算打包建议并保存（已决定的建议保持不变）",
        "ws_street.replanned": "已重新规划：新增 {inserted}，更新 {updated}，保留已决定 {kept_decided}，移除过期 {removed_stale}",
        "ws_street.proposals": "打包建议", "ws_street.no_proposals": "本街镇暂无打包建议",
        "ws_street.col.orphan": "单体楼栋/小规模小区", "ws_street.col.kind": "类型", "ws_street.col.host": "建议并入小区",
        "ws_street.col.distance": "间距(米)", "ws_street.col.area": "合并后面积(㎡)", "ws_street.col.households": "合并后户数",
        "ws_street.col.status": "状态", "ws_street.col.actions": "操作", "ws_street.col.orphan_area": "自身面积(㎡)",
        "ws_street.accept": "同意打包", "ws_street.reject": "驳回", "ws_street.cancel": "取消", "ws_street.show": "定位",
        "ws_street.consent": "业主大会表决情况（必填）",
        "ws_street.consent_ph": "例：2025年5月业主大会表决，同意户数占比72%、面积占比70%",
        "ws_street.reason": "驳回理由（必填）", "ws_street.reason_ph": "例：两小区之间有围墙且业主不同意",
        "ws_street.confirm_accept": "确认同意", "ws_street.confirm_reject": "确认驳回",
        "ws_street.need_consent": "请填写业主大会表决情况", "ws_street.need_reason": "请填写驳回理由",
        "ws_street.accepted_ok": "已同意：楼栋/小区已并入 {host}", "ws_street.rejected_ok": "已驳回",
        "ws_street.not_saved": "未保存（同意时自动保存）", "ws_street.not_in_plan": "当前规划中已无此建议，请重新规划",
        "ws_street.decided_by": "{who} 于 {at}",
        "ws_street.new_bundles": "可组成的新管理区域（国企兜底候选）", "ws_street.no_new_bundles": "无",
        "ws_street.unmatched": "暂无可打包对象", "ws_street.no_unmatched": "无",
        "ws_street.col.id": "编号", "ws_street.col.members": "组成", "ws_street.col.floor_area": "建筑面积(㎡)",
        "ws_street.col.reason": "原因", "ws_street.col.nearest": "最近专业化小区(米)",
        "ws_street.compounds": "本街镇小区", "ws_street.filter": "按名称筛选…", "ws_street.edit": "编辑",
        "ws_street.save": "保存修改", "ws_street.saved": "已保存", "ws_street.nothing_changed": "没有修改任何字段",
        "ws_street.conflict": "该小区刚被其他人修改过（版本 {version}）。请重新加载最新数据后再修改。",
        "ws_street.reload": "重新加载", "ws_street.forbidden": "无权执行此操作（超出本街镇管辖范围）",
        "ws_street.error": "操作失败：{message}", "ws_street.boundary_missing": "边界缺失",
        "ws_street.ledger": "本街镇专业经营设施移交台账", "ws_street.export": "导出整改台账（XLSX）",
        "ws_street.only_overdue": "只看逾期", "ws_street.ledger_total": "未完成 {total} 项，其中逾期 {overdue} 项",
        "ws_street.col.compound": "小区", "ws_street.col.facility": "设施", "ws_street.col.state": "状态",
        "ws_street.col.since": "状态起始", "ws_street.col.deadline": "期限", "ws_street.col.overdue": "逾期",
        "ws_street.col.open_items": "未完成整改项", "ws_street.yes": "是", "ws_street.no": "否",
        "ws_street.detail": "详情", "ws_street.map_note": "地图：本街镇小区（按管理模式着色）与打包图层",
        "ws_street.revert": "撤销打包", "ws_street.reverted_ok": "已撤销，楼栋/小区已恢复原状",
        "ws_street.buildings": "楼栋 {ids}", "ws_street.version": "版本", "ws_street.col.items": "整改内容",
        "ws_street.unsaved_note": "其中 {n} 条建议尚未保存：决定时自动保存，或点击“重新规划”全部保存。",
    },
    "en": {
        "ws_street.title": "Street workspace", "ws_street.nav": "Street workspace", "ws_street.street": "Street",
        "ws_street.tab.bundles": "Bundling", "ws_street.tab.compounds": "Compounds", "ws_street.tab.ledger": "Handover ledger",
        "ws_street.replan": "Re-plan", "ws_street.replan_hint": "Recompute and save this street's proposals (decided ones stay)",
        "ws_street.replanned": "Re-planned: {inserted} new, {updated} updated, {kept_decided} decided kept, "
                               "{removed_stale} stale removed",
        "ws_street.proposals": "Bundling proposals", "ws_street.no_proposals": "No proposals in this street",
        "ws_street.col.orphan": "Orphan building / small compound", "ws_street.col.kind": "Kind",
        "ws_street.col.host": "Proposed host", "ws_street.col.distance": "Distance (m)",
        "ws_street.col.area": "Merged floor area (m²)", "ws_street.col.households": "Merged households",
        "ws_street.col.status": "Status", "ws_street.col.actions": "Actions", "ws_street.col.orphan_area": "Own area (m²)",
        "ws_street.accept": "Accept", "ws_street.reject": "Reject", "ws_street.cancel": "Cancel", "ws_street.show": "Show",
        "ws_street.consent": "Owners' assembly vote (required)",
        "ws_street.consent_ph": "e.g. owners' assembly May 2025: 72% of households, 70% of area in favour",
        "ws_street.reason": "Reason for rejecting (required)", "ws_street.reason_ph": "e.g. walled off, owners object",
        "ws_street.confirm_accept": "Confirm accept", "ws_street.confirm_reject": "Confirm reject",
        "ws_street.need_consent": "Record the owners' assembly vote", "ws_street.need_reason": "Give a reason",
        "ws_street.accepted_ok": "Accepted: now managed with {host}", "ws_street.rejected_ok": "Rejected",
        "ws_street.not_saved": "not saved yet (saved when decided)",
        "ws_street.not_in_plan": "no longer in the current plan: re-plan", "ws_street.decided_by": "{who} at {at}",
        "ws_street.new_bundles": "Possible new management areas (takeover candidates)", "ws_street.no_new_bundles": "none",
        "ws_street.unmatched": "Orphans without a host", "ws_street.no_unmatched": "none",
        "ws_street.col.id": "ID", "ws_street.col.members": "Members", "ws_street.col.floor_area": "Floor area (m²)",
        "ws_street.col.reason": "Why", "ws_street.col.nearest": "Nearest host (m)",
        "ws_street.compounds": "Compounds of this street", "ws_street.filter": "Filter by name…", "ws_street.edit": "Edit",
        "ws_street.save": "Save changes", "ws_street.saved": "Saved", "ws_street.nothing_changed": "Nothing changed",
        "ws_street.conflict": "Someone else changed this compound (now version {version}). Reload it, then edit again.",
        "ws_street.reload": "Reload", "ws_street.forbidden": "Not allowed (outside your street)",
        "ws_street.error": "Failed: {message}", "ws_street.boundary_missing": "boundary missing",
        "ws_street.ledger": "Utility handover ledger of this street", "ws_street.export": "Export ledger (XLSX)",
        "ws_street.only_overdue": "Overdue only", "ws_street.ledger_total": "{total} open, {overdue} overdue",
        "ws_street.col.compound": "Compound", "ws_street.col.facility": "Facility", "ws_street.col.state": "State",
        "ws_street.col.since": "Since", "ws_street.col.deadline": "Deadline", "ws_street.col.overdue": "Overdue",
        "ws_street.col.open_items": "Open items", "ws_street.yes": "yes", "ws_street.no": "no",
        "ws_street.detail": "Details", "ws_street.map_note": "Map: this street's compounds and the bundling layers",
        "ws_street.revert": "Revert", "ws_street.reverted_ok": "Reverted: the orphans are back as they were",
        "ws_street.buildings": "buildings {ids}", "ws_street.version": "version", "ws_street.col.items": "Ledger items",
        "ws_street.unsaved_note": "{n} proposals are not saved yet: deciding one saves it, re-planning saves all.",
    },
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _bundling() -> Any:
    """The bundling plugin's service module (404 when the plugin is disabled)."""
    if _ctx().pm.get_plugin("bundling") is None:
        abort(404, "the bundling plugin is not enabled")
    from plugins.bundling import service

    return service


def jurisdiction(asked: str | None) -> str:
    """The street this request works on: `asked` (code or name) or the officer's own; 403 (audited) outside it."""
    from web.queries import resolve_street, street_list

    user = current_user()
    if user is None:
        abort(401)
    ctx = _ctx()
    if asked:
        code = resolve_street(ctx, asked[:100])
        if code is None:
            abort(404, "unknown street")
    elif user.street_code:
        code = user.street_code
    else:
        streets = street_list(ctx)
        code = streets[0]["code"] if streets else None
    require("decide_bundle", {"kind": "bundle", "street_code": code})
    if code is None:
        abort(404, "no streets in the database")
    return code


# ---------------------------------------------------------------------------------------------
# Read models of the page


def _names(session: Any, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(m.Compound.id, m.Compound.name).where(m.Compound.id.in_(list(ids)))).all())


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a (Geo)DataFrame as dicts, without geometry columns."""
    geo = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
    return frame.drop(columns=geo).to_dict("records")


def proposal_rows(session: Any, street: str) -> list[dict[str, Any]]:
    """Stored proposals of the street plus the current plan's unsaved ones, open first, then by distance."""
    service = _bundling()
    ctx = _ctx()
    plan = service.cached_plan(ctx)
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
                 "version": None, "consent_note": None, "reason": None, "decided_by": None, "decided_at": None}
        else:
            p = {**p, "saved": True}
        p["in_plan"] = True
        p["orphan_floor_area_m2"] = round(float(r["orphan_floor_area_m2"]), 1)
        rows.append(p)
    rows += [{**p, "saved": True, "in_plan": False, "orphan_floor_area_m2": None} for p in stored.values()]
    compound_ids = {p["host_compound_id"] for p in rows if p["host_compound_id"]}
    compound_ids |= {i for p in rows if p["orphan_kind"] == "compound" for i in p["orphan_ids"]}
    names = _names(session, compound_ids)
    for p in rows:
        p["host_name"] = names.get(p["host_compound_id"], p["host_compound_id"])
        p["orphan_names"] = [names.get(i, i) for i in p["orphan_ids"]] if p["orphan_kind"] == "compound" \
            else list(p["orphan_ids"])
        p["open"] = p["status"] in OPEN_STATES
    rows.sort(key=lambda p: (not p["open"], p["status"], p["distance_m"] or 0.0, p["id"]))
    return rows


def plan_leftovers(street: str, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The street's possible new bundles and unmatched orphans (with readable reasons) from the current plan."""
    plan = _bundling().cached_plan(_ctx())
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


def street_compounds(session: Any, street: str) -> list[dict[str, Any]]:
    """The street's compounds for the edit table (no geometry)."""
    c = m.Compound
    stmt = (select(c.id, c.name, c.management_mode, c.households, c.floor_area_m2, c.owners_org, c.version,
                   c.boundary.is_(None).label("boundary_missing"), c.managed_by_id)
            .where(c.street_code == street).order_by(c.name, c.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def ledger_rows(session: Any, street: str, lang: str) -> dict[str, Any]:
    """The street's open handover rows (plugins.handover backlog) with labels, overdue first."""
    if _ctx().pm.get_plugin("handover") is None:
        return {"items": [], "counts": {"total": 0, "overdue": 0}, "enabled": False}
    from plugins.handover import service
    from plugins.handover.settings import settings_for

    today = _ctx().today
    data = service.backlog(session, today, settings_for(_ctx()), None, street)
    _, rows, items = service.load_rows(session, street)
    by_key = {(r["compound_id"], r["facility"]): items.get(r["id"], []) for r in rows}
    for item in data["items"]:
        item["facility_label"] = label("facility", item["facility"], lang)
        item["state_label"] = label("handover_state", item["state"], lang)
        item["ledger"] = [{"content": i["content"], "deadline": i["deadline"], "done": i["done_date"] is not None,
                           "late": i["done_date"] is None and i["deadline"] is not None and i["deadline"] < today}
                          for i in by_key.get((item["compound_id"], item["facility"]), [])]
    data["items"].sort(key=lambda i: (not i["overdue"], i["compound_name"] or "", i["facility"]))
    data["enabled"] = True
    return data


def _map_config(street: str, lang: str) -> dict[str, Any]:
    from web.api import visible_layers
    from web.maplayers import layer_meta

    wanted = {spec.id: spec for spec in visible_layers(_ctx()) if spec.id in MAP_LAYERS}
    return {
        "street": street, "lang": lang,
        "layers": [layer_meta(wanted[i], lang) for i in MAP_LAYERS if i in wanted],
        "labels": {e: {v: (zh if lang == "zh" else en) for v, (zh, en) in vals.items()} for e, vals in LABELS.items()},
        "features": url_for("api.layer_features", layer_id="__ID__"),
        "compound_api": url_for("api.compound", compound_id="__ID__"),
        "compound_page": url_for("ws_compound.page", compound_id="__ID__"),
        "actions": {"plan": url_for("ws_street.replan"),
                    "accept": url_for("ws_street.accept", proposal_id="__ID__"),
                    "reject": url_for("ws_street.reject", proposal_id="__ID__"),
                    "revert": url_for("ws_street.revert", proposal_id="__ID__")},
        "messages": {k: v for k, v in _catalogue(lang).items() if k.startswith(("ws_street.", "map.", "field."))},
        "edit_fields": [{"name": n, "kind": k, "label": t(f"ws_field.{n}", lang)} for n, k in EDIT_FIELDS],
    }


def _catalogue(lang: str) -> dict[str, str]:
    from geoplatform.i18n import catalogue

    return catalogue(lang)


@bp.get("")
def page() -> str:
    """The workspace page of one street (own street for officers; `?street=` for admin/bureau)."""
    street = jurisdiction(request.args.get("street"))
    lang = current_lang()
    ctx = _ctx()
    service = _bundling()
    from web.mapview import offline_map, render_folium
    from web.queries import street_list
    from web.security import csp_nonce, csrf_token

    streets = street_list(ctx)
    info = next((s for s in streets if s["code"] == street), {"code": street, "name": street, "bbox": None})
    with ctx.session(readonly=True) as s:
        proposals = proposal_rows(s, street)
        compounds = street_compounds(s, street)
        ledger = ledger_rows(s, street, lang)
    bundles, unmatched = plan_leftovers(street, lang)
    settings = service.settings_for(ctx)
    fm = offline_map(location=(40.64, 109.83), zoom_start=14, tiles=None, control_scale=True, prefer_canvas=True,
                     max_zoom=20, min_zoom=10)
    if info.get("bbox"):
        minx, miny, maxx, maxy = info["bbox"]
        fm.fit_bounds([[miny, minx], [maxy, maxx]])
    user = current_user()
    return render_template(
        "workspaces/street.html", folium=render_folium(fm, csp_nonce()), street=info, proposals=proposals,
        bundles=bundles, unmatched=unmatched, compounds=compounds, ledger=ledger,
        thresholds=t("bundling.thresholds", lang, **settings.as_dict()),
        can_pick=user.role in ("admin", "bureau"), streets=streets,
        can_revert=ctx.allowed(user, "revert_bundle", {"kind": "bundle", "street_code": street}),
        config={**_map_config(street, lang), "map": fm.get_name(), "csrf": csrf_token()},
        export_url=url_for("api_edit.export", name="handover-ledger", format="xlsx", street=street),
        label=lambda enum, v: label(enum, v, lang))


# ---------------------------------------------------------------------------------------------
# Actions (JSON in, JSON out; CSRF token in X-CSRF-Token for browser sessions)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and request.form:
        body = request.form.to_dict()
    if not isinstance(body, dict):
        abort(400, "body must be a JSON object")
    return body


def _note(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        return None
    value = (value or "").strip()
    return value[:NOTE_MAX] if value else None


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, "status": status, **extra})
    response.status_code = status
    return response


def _proposal_street(session: Any, service: Any, proposal_id: str) -> str:
    if len(proposal_id) > 64:
        abort(404, "unknown bundle proposal")
    row = session.get(m.BundleProposal, proposal_id)
    street = row.street_code if row is not None else service.street_of_id(proposal_id)
    if street is None:
        abort(404, "unknown bundle proposal")
    return street


def _decide(proposal_id: str, verb: str, key: str) -> Response:
    service = _bundling()
    body = _body()
    text = _note(body, key)
    ctx = _ctx()
    action = "revert_bundle" if verb == "revert" else "decide_bundle"
    with ctx.session() as s:
        street = _proposal_street(s, service, proposal_id)
        user = require(action, {"kind": "bundle", "id": proposal_id, "street_code": street})
        if text is None and verb != "revert":
            return _error(400, f"{key} is required", field=key)
        try:
            if verb == "accept":
                result = service.accept(ctx, s, user, proposal_id, consent_note=text)
            elif verb == "reject":
                result = service.reject(ctx, s, user, proposal_id, reason=text)
            else:
                result = service.revert(ctx, s, user, proposal_id, note=text)
        except service.BundleDenied as exc:
            s.rollback()
            abort(403, str(exc))
        except service.BundleError as exc:
            s.rollback()
            status = 404 if str(exc).startswith("unknown bundle proposal") else 409
            return _error(status, str(exc))
    return jsonify(result)


@bp.post("/proposals/<proposal_id>/accept")
def accept(proposal_id: str) -> Response:
    """Accept a proposal of the caller's street with the owners' consent note (业主大会表决情况, required)."""
    return _decide(proposal_id, "accept", "consent_note")


@bp.post("/proposals/<proposal_id>/reject")
def reject(proposal_id: str) -> Response:
    """Reject a proposal of the caller's street with a reason (required)."""
    return _decide(proposal_id, "reject", "reason")


@bp.post("/proposals/<proposal_id>/revert")
def revert(proposal_id: str) -> Response:
    """Undo an accepted proposal exactly (admin; RULES §5), with an optional note."""
    return _decide(proposal_id, "revert", "note")


@bp.post("/plan")
def replan() -> Response:
    """Re-plan the street (plugins/bundling plan + save); decided proposals are kept as they are."""
    service = _bundling()
    body = _body()
    street = jurisdiction(body.get("street") if isinstance(body.get("street"), str) else None)
    ctx = _ctx()
    user = current_user()
    settings = service.settings_for(ctx)
    with ctx.session() as s:
        plan = service.compute_plan(s, settings, street)
        counts = service.save_plan(s, plan, user, street)
    return jsonify({"street": street, **counts})


add_messages({
    "zh": {f"ws_field.{k}": v for k, v in {
        "name": "小区名称", "address": "地址", "management_mode": "管理模式", "company": "物业公司",
        "contract_end": "合同到期", "owners_org": "业主组织", "renovation": "老旧小区改造", "households": "户数",
        "floor_area_m2": "建筑面积(㎡)", "build_year": "建成年份", "fee_collection_rate": "物业费收缴率(0–1)",
        "complaints_per_year": "年投诉量(12345)", "demolition_planned": "列入拆迁计划", "aliases": "别名",
        "community_code": "所属社区", "takeover_cost": "国企接管年补贴(万元)", "street_code": "街镇",
        "managed_by_id": "打包并入小区", "boundary": "边界", "location": "位置", "id": "编号", "source": "数据来源",
        "version": "版本", "updated_at": "更新时间", "compound_id": "所属小区"}.items()},
    "en": {f"ws_field.{k}": v for k, v in {
        "name": "Name", "address": "Address", "management_mode": "Management mode",
        "company": "Property company", "contract_end": "Contract ends", "owners_org": "Owners' organisation",
        "renovation": "Renovation", "households": "Households", "floor_area_m2": "Floor area (m²)",
        "build_year": "Built", "fee_collection_rate": "Fee collection rate (0–1)",
        "complaints_per_year": "Complaints per year (12345)", "demolition_planned": "Demolition planned",
        "aliases": "Aliases", "community_code": "Community", "takeover_cost": "Takeover subsidy (10k CNY/yr)",
        "street_code": "Street", "managed_by_id": "Bundled into", "boundary": "Boundary", "location": "Location",
        "id": "ID", "source": "Source", "version": "Version", "updated_at": "Updated", "compound_id": "Compound"}.items()},
})
