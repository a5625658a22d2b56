"""Utility workspace (/ws/utility): one facility's handover backlog as a table and a map, state changes, ledger.

Thin over `plugins.handover.service` (backlog, get_handover, complete_item) and the PATCH
/api/v1/handovers/COMPOUND/FACILITY route of web/api_edit.py (state changes, 409 on a stale version).
Jurisdiction: a utility account works on its own facility only (`?utility=` of another → 403, audited);
admin/bureau pick any of the four with `?utility=`. Every write re-checks `edit_handover` on the row.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)

from geoplatform import models as m
from geoplatform.i18n import add_messages, catalogue
from geoplatform.labels import LABELS, label
from web.auth import current_user, require
from web.lang import current_lang

bp = Blueprint("ws_utility", __name__, url_prefix="/ws/utility")

MAX_ROWS = 600  # rows rendered in the table (the filters narrow the rest; the count says how many matched)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

add_messages({
    "zh": {
        "ws_utility.title": "专业经营单位工作台", "ws_utility.facility": "设施",
        "ws_utility.backlog": "{facility}移交待办", "ws_utility.street": "街镇", "ws_utility.all_streets": "全部街镇",
        "ws_utility.state": "状态", "ws_utility.all_states": "全部状态", "ws_utility.only_overdue": "只看逾期",
        "ws_utility.apply": "筛选", "ws_utility.reset": "清除",
        "ws_utility.counts": "未完成 {total} 项，逾期 {overdue} 项", "ws_utility.shown": "显示 {shown} / {total} 项",
        "ws_utility.export": "导出本单位整改台账（XLSX）",
        "ws_utility.col.compound": "小区", "ws_utility.col.street": "街镇", "ws_utility.col.state": "状态",
        "ws_utility.col.since": "状态起始", "ws_utility.col.deadline": "期限", "ws_utility.col.items": "未完成整改项",
        "ws_utility.col.overdue": "逾期", "ws_utility.col.actions": "操作",
        "ws_utility.handle": "办理", "ws_utility.show": "定位", "ws_utility.yes": "是", "ws_utility.no": "否",
        "ws_utility.next_state": "下一状态", "ws_utility.same_state": "保持「{state}」（仅补充备注/期限/整改项）",
        "ws_utility.note": "办理说明", "ws_utility.note_ph": "例：2025-06-03 组织验收，管网漏损未通过",
        "ws_utility.deadline": "期限", "ws_utility.unit": "责任单位",
        "ws_utility.items": "整改台账项", "ws_utility.add_item": "添加整改项", "ws_utility.item_content": "整改内容",
        "ws_utility.item_ph": "例：更换小区供水主管 120 米", "ws_utility.items_only_rectifying": "整改项只能在「整改中」状态下添加",
        "ws_utility.save": "保存", "ws_utility.cancel": "取消", "ws_utility.saved": "已保存：{compound} → {state}",
        "ws_utility.done": "标记完成", "ws_utility.done_ok": "整改项已完成", "ws_utility.no_items": "暂无整改项",
        "ws_utility.final": "已是最终状态，无后续步骤",
        "ws_utility.not_allowed": "不允许的状态变更。当前允许的下一状态：{allowed}",
        "ws_utility.conflict": "该记录刚被其他人修改过，请重新加载后再办理。", "ws_utility.reload": "重新加载",
        "ws_utility.forbidden": "无权办理其他专业经营单位的设施", "ws_utility.error": "操作失败：{message}",
        "ws_utility.version": "版本", "ws_utility.history": "最近变更",
        "ws_utility.map_note": "地图：各小区本设施的移交状态", "ws_utility.detail": "详情",
        "ws_utility.none": "没有符合条件的待办", "ws_utility.truncated": "仅显示前 {n} 项，请用筛选缩小范围",
    },
    "en": {
        "ws_utility.title": "Utility workspace", "ws_utility.facility": "Facility",
        "ws_utility.backlog": "{facility} handover backlog", "ws_utility.street": "Street",
        "ws_utility.all_streets": "All streets", "ws_utility.state": "State", "ws_utility.all_states": "All states",
        "ws_utility.only_overdue": "Overdue only", "ws_utility.apply": "Filter", "ws_utility.reset": "Clear",
        "ws_utility.counts": "{total} open, {overdue} overdue", "ws_utility.shown": "showing {shown} of {total}",
        "ws_utility.export": "Export our rectification ledger (XLSX)",
        "ws_utility.col.compound": "Compound", "ws_utility.col.street": "Street", "ws_utility.col.state": "State",
        "ws_utility.col.since": "Since", "ws_utility.col.deadline": "Deadline", "ws_utility.col.items": "Open items",
        "ws_utility.col.overdue": "Overdue", "ws_utility.col.actions": "Actions",
        "ws_utility.handle": "Update", "ws_utility.show": "Show", "ws_utility.yes": "yes", "ws_utility.no": "no",
        "ws_utility.next_state": "Next state", "ws_utility.same_state": "Stay “{state}” (add note/deadline/items only)",
        "ws_utility.note": "Note", "ws_utility.note_ph": "e.g. 2025-06-03 acceptance inspection failed: leaking mains",
        "ws_utility.deadline": "Deadline", "ws_utility.unit": "Responsible unit",
        "ws_utility.items": "Ledger items", "ws_utility.add_item": "Add a ledger item",
        "ws_utility.item_content": "Rectification item", "ws_utility.item_ph": "e.g. replace 120 m of water main",
        "ws_utility.items_only_rectifying": "Ledger items can only be added in the “rectifying” state",
        "ws_utility.save": "Save", "ws_utility.cancel": "Cancel", "ws_utility.saved": "Saved: {compound} → {state}",
        "ws_utility.done": "Mark done", "ws_utility.done_ok": "Ledger item done", "ws_utility.no_items": "no items",
        "ws_utility.final": "Final state: no further steps",
        "ws_utility.not_allowed": "Transition not allowed. Allowed next states: {allowed}",
        "ws_utility.conflict": "Someone else changed this row. Reload it, then try again.",
        "ws_utility.reload": "Reload", "ws_utility.forbidden": "Not allowed: another utility's facility",
        "ws_utility.error": "Failed: {message}", "ws_utility.version": "version", "ws_utility.history": "Recent changes",
        "ws_utility.map_note": "Map: this facility's handover state per compound", "ws_utility.detail": "Details",
        "ws_utility.none": "Nothing matches these filters", "ws_utility.truncated": "Only the first {n} rows are shown; narrow the filters",
    },
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _service() -> Any:
    if _ctx().pm.get_plugin("handover") is None:
        abort(404, "the handover plugin is not enabled")
    from plugins.handover import service

    return service


def facility_of_request(asked: str | None) -> str:
    """The facility this request works on: the utility's own (another → 403, audited) or `?utility=` for admin/bureau."""
    user = current_user()
    if user is None:
        abort(401)
    if asked is not None and asked not in m.UTILITY_FACILITIES:
        abort(404, "unknown utility")
    facility = asked or (user.utility if user.role == "utility" else None) or m.UTILITY_FACILITIES[0]
    require("edit_handover", {"kind": "handover", "id": f"*:{facility}", "facility": facility, "street_code": None})
    if user.role not in ("utility", "admin", "bureau"):  # street officers edit handovers in their street workspace
        abort(403, "the utility workspace is for utility accounts")
    return facility


def backlog_rows(session: Any, facility: str, street: str | None, state: str | None, overdue_only: bool,
                 lang: str) -> dict[str, Any]:
    """The facility's open rows (plugins.handover backlog) filtered, labelled, overdue first."""
    from plugins.handover.settings import settings_for

    data = _service().backlog(session, _ctx().today, settings_for(_ctx()), facility, street)
    counts = data["counts"]
    items = [i for i in data["items"] if (state is None or i["state"] == state) and (not overdue_only or i["overdue"])]
    for i in items:
        i["state_label"] = label("handover_state", i["state"], lang)
    items.sort(key=lambda i: (not i["overdue"], i["street_code"] or "", i["compound_name"] or "", i["compound_id"]))
    filtered = state is not None or overdue_only  # the map then shows these compounds only (all of them, untruncated)
    return {"items": items[:MAX_ROWS], "matched": len(items), "counts": counts,
            "ids": [i["compound_id"] for i in items] if filtered else None}


def _map_config(facility: str, street: str | None, lang: str) -> dict[str, Any]:
    from web.api import visible_layers
    from web.maplayers import layer_meta

    layer_id = f"handover_{facility}"
    metas = [layer_meta(spec, lang) for spec in visible_layers(_ctx()) if spec.id == layer_id]
    return {
        "facility": facility, "street": street, "lang": lang, "layers": metas,
        "labels": {e: {v: (zh if lang == "zh" else en) for v, (zh, en) in vals.items()} for e, vals in LABELS.items()},
        "features": url_for("api.layer_features", layer_id="__ID__"),
        "handover_api": url_for("api_edit.get_handover", compound_id="__ID__", facility=facility),
        "done_url": url_for("ws_utility.item_done", item_id=0).replace("/0/", "/__ID__/"),
        "compound_page": url_for("ws_compound.page", compound_id="__ID__"),
        "messages": {k: v for k, v in catalogue(lang).items() if k.startswith(("ws_utility.", "map."))},
        "rectifying": "rectifying",
    }


@bp.get("")
def page() -> str:
    """The backlog of one facility with filters (street, state, overdue only), the map and the export link."""
    from web.mapview import offline_map, render_folium
    from web.queries import resolve_street, street_list
    from web.security import csp_nonce, csrf_token

    facility = facility_of_request(request.args.get("utility") or None)
    lang = current_lang()
    ctx = _ctx()
    street = None
    if request.args.get("street"):
        street = resolve_street(ctx, request.args["street"][:100])
        if street is None:
            abort(404, "unknown street")
    from plugins.handover import rules

    state = request.args.get("state") or None
    if state is not None and state not in rules.machine(facility):
        abort(400, f"unknown state {state!r}")
    overdue_only = request.args.get("overdue") in ("1", "on", "true")
    with ctx.session(readonly=True) as s:
        data = backlog_rows(s, facility, street, state, overdue_only, lang)
    streets = street_list(ctx)
    info = next((x for x in streets if x["code"] == street), None)
    fm = offline_map(location=(40.64, 109.83), zoom_start=12, tiles=None, control_scale=True, prefer_canvas=True,
                     max_zoom=20, min_zoom=9)
    if info and info.get("bbox"):
        minx, miny, maxx, maxy = info["bbox"]
        fm.fit_bounds([[miny, minx], [maxy, maxx]])
    user = current_user()
    states = [(s_, label("handover_state", s_, lang)) for s_ in rules.states(facility) if s_ not in rules.FINAL_STATES]
    return render_template(
        "workspaces/utility.html", folium=render_folium(fm, csp_nonce()), facility=facility,
        facility_label=label("facility", facility, lang), data=data, streets=streets, street=street, state=state,
        overdue_only=overdue_only, states=states, can_pick=user.role in ("admin", "bureau"),
        facilities=[(f, label("facility", f, lang)) for f in m.UTILITY_FACILITIES], max_rows=MAX_ROWS,
        config={**_map_config(facility, street, lang), "map": fm.get_name(), "csrf": csrf_token(), "only": data["ids"]},
        export_url=url_for("ws_utility.export", utility=facility if user.role != "utility" else None, street=street))


@bp.post("/items/<int:item_id>/done")
def item_done(item_id: int) -> Response:
    """Mark a ledger item done (today or `done_date`); only on the caller's own facility (403 + audit otherwise)."""
    service = _service()
    body = request.get_json(silent=True) or {}
    raw = body.get("done_date") if isinstance(body, dict) else None
    try:
        done = dt.date.fromisoformat(raw) if isinstance(raw, str) and raw else _ctx().today
    except ValueError:
        abort(400, "done_date must be YYYY-MM-DD")
    ctx = _ctx()
    with ctx.session() as s:
        item = s.get(m.LedgerItem, item_id)
        if item is None:
            abort(404, "unknown ledger item")
        row = s.get(m.Handover, item.handover_id)
        compound = s.get(m.Compound, row.compound_id)
        user = require("edit_handover", {"kind": "handover", "id": f"{row.compound_id}:{row.facility}",
                                         "facility": row.facility, "street_code": compound.street_code})
        if item.done_date is not None:
            abort(409, "ledger item is already done")
        result = service.complete_item(s, user, item_id, done)
    return jsonify({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in result.items()})


@bp.get("/ledger.xlsx")
def export() -> Response:
    """This facility's 整改台账 as XLSX (the handover-ledger exporter's rows, limited to one facility)."""
    from plugins.handover.ledger import ledger_rows, write_ledger
    from web.queries import resolve_street

    facility = facility_of_request(request.args.get("utility") or None)
    ctx = _ctx()
    street = resolve_street(ctx, request.args["street"][:100]) if request.args.get("street") else None
    require("export", {"kind": "export", "id": "handover-ledger", "street_code": street, "format": "xlsx"})
    with ctx.session(readonly=True) as s:
        compounds, rows, items = _service().load_rows(s, street_code=street, facilities=(facility,))
    tmpdir = tempfile.TemporaryDirectory(prefix="gp-ledger-")
    path = Path(tmpdir.name) / f"handover-ledger-{facility}.xlsx"
    write_ledger(ledger_rows(compounds, rows, items, ctx.today), path, "xlsx")

    @after_this_request
    def _cleanup(response: Response) -> Response:
        response.call_on_close(tmpdir.cleanup)
        return response

    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=path.name)

