"""The compound detail page (/compounds/<id>): attributes, a small map, every plugin's result and the change history.

Thin over core and plugin services (handover rows, charging decisions of stored garages, takeover
score components and pipeline, bundle proposals, audit trail); everything user-typed is escaped
by the template.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, abort, render_template, url_for
from shapely.geometry import mapping
from sqlalchemy import and_, func, or_, select

from geoplatform import models as m
from geoplatform.i18n import add_messages, t
from geoplatform.labels import label
from web.auth import require
from web.lang import current_lang

bp = Blueprint("ws_compound", __name__)

ATTRIBUTE_FIELDS = ("id", "name", "aliases", "street_code", "community_code", "address", "build_year", "households",
                    "floor_area_m2", "management_mode", "company", "contract_end", "owners_org", "renovation",
                    "fee_collection_rate", "complaints_per_year", "demolition_planned", "takeover_cost",
                    "managed_by_id", "source", "version", "updated_at")
ENUM_FIELDS = {"management_mode": "management_mode", "owners_org": "owners_org", "renovation": "renovation",
               "state": "handover_state", "status": "bundle_status", "facility": "facility",
               "orphan_status": "orphan_status"}
HISTORY_LIMIT = 200

add_messages({
    "zh": {
        "ws_compound.title": "小区详情", "ws_compound.attributes": "基本信息", "ws_compound.map": "位置与边界",
        "ws_compound.boundary_missing": "边界缺失（台账仅有位置点）", "ws_compound.buildings": "楼栋 {n} 栋",
        "ws_compound.coverage": "物业覆盖与业主组织", "ws_compound.served": "专业化物业服务",
        "ws_compound.owners_org_ok": "已组建业委会/物管会", "ws_compound.handover": "专业经营设施移交",
        "ws_compound.facility": "设施", "ws_compound.state": "状态", "ws_compound.deadline": "期限",
        "ws_compound.overdue": "逾期", "ws_compound.ledger": "整改台账", "ws_compound.no_items": "无整改项",
        "ws_compound.done": "完成于 {date}", "ws_compound.charging": "充电桩安装条件（GB/T 51313-2018）",
        "ws_compound.no_garages": "无车库记录", "ws_compound.garage": "车库", "ws_compound.decision": "结论",
        "ws_compound.reasons": "理由", "ws_compound.takeover": "国企兜底接管评分",
        "ws_compound.not_candidate": "不是国企兜底候选（仅无物业且未列入拆迁的小区）",
        "ws_compound.score": "得分 {score} / 100（全区第 {rank} 名）", "ws_compound.pipeline": "接管进度",
        "ws_compound.tender": "选聘方式", "ws_compound.no_pipeline": "未入选名单",
        "ws_compound.bundling": "打包管理", "ws_compound.no_proposals": "不涉及打包建议",
        "ws_compound.as_host": "作为承接小区", "ws_compound.as_orphan": "作为被打包对象",
        "ws_compound.managed_by": "已并入 {host} 统一管理", "ws_compound.history": "修改记录",
        "ws_compound.no_history": "暂无修改记录", "ws_compound.when": "时间", "ws_compound.who": "操作人",
        "ws_compound.what": "内容", "ws_compound.change": "修改", "ws_compound.hidden": "（仅本街镇与区住建局可见）",
        "ws_compound.geometry_changed": "（几何已修改）", "ws_compound.yes": "是", "ws_compound.no": "否",
        "ws_compound.workspace": "返回街镇工作台", "ws_compound.open_map": "在地图中查看",
        "ws_compound.entity.compound": "小区", "ws_compound.entity.handover": "设施移交",
        "ws_compound.entity.takeover_selection": "国企兜底", "ws_compound.entity.bundle_proposal": "打包建议",
        "ws_compound.action.update": "修改", "ws_compound.action.create": "新建", "ws_compound.action.accept": "同意",
        "ws_compound.action.reject": "驳回", "ws_compound.action.revert": "撤销", "ws_compound.action.import": "导入",
        "ws_compound.plan_host": "当前规划：承接 {n} 条打包建议", "ws_compound.plan_orphan": "当前规划：本小区不成管理规模（{status}）",
        "map.compound_details": "小区详情 →", "ws_compound.year": "年度", "ws_compound.components": "评分构成",
    },
    "en": {
        "ws_compound.title": "Compound", "ws_compound.attributes": "Attributes", "ws_compound.map": "Location and boundary",
        "ws_compound.boundary_missing": "Boundary missing (the ledger gave only a point)",
        "ws_compound.buildings": "{n} buildings", "ws_compound.coverage": "Property service and owners' organisation",
        "ws_compound.served": "Professionally served", "ws_compound.owners_org_ok": "Has an owners' organisation",
        "ws_compound.handover": "Utility facility handover", "ws_compound.facility": "Facility",
        "ws_compound.state": "State", "ws_compound.deadline": "Deadline", "ws_compound.overdue": "Overdue",
        "ws_compound.ledger": "Rectification ledger", "ws_compound.no_items": "no ledger items",
        "ws_compound.done": "done {date}", "ws_compound.charging": "EV charging piles (GB/T 51313-2018)",
        "ws_compound.no_garages": "No garages recorded", "ws_compound.garage": "Garage",
        "ws_compound.decision": "Decision", "ws_compound.reasons": "Reasons",
        "ws_compound.takeover": "State-owned takeover score",
        "ws_compound.not_candidate": "Not a takeover candidate (only unmanaged compounds not due for demolition)",
        "ws_compound.score": "Score {score} / 100 (rank {rank} in the district)", "ws_compound.pipeline": "Pipeline",
        "ws_compound.tender": "Tender mode", "ws_compound.no_pipeline": "Not on a shortlist",
        "ws_compound.bundling": "Bundled management", "ws_compound.no_proposals": "No bundling proposals",
        "ws_compound.as_host": "as host", "ws_compound.as_orphan": "as orphan",
        "ws_compound.managed_by": "Managed together with {host}", "ws_compound.history": "Change history",
        "ws_compound.no_history": "No recorded changes", "ws_compound.when": "When", "ws_compound.who": "Who",
        "ws_compound.what": "What", "ws_compound.change": "Change",
        "ws_compound.hidden": "(visible to the street and the bureau)",
        "ws_compound.geometry_changed": "(geometry changed)", "ws_compound.yes": "yes", "ws_compound.no": "no",
        "ws_compound.workspace": "Back to the street workspace", "ws_compound.open_map": "Show on the map",
        "ws_compound.entity.compound": "compound", "ws_compound.entity.handover": "handover",
        "ws_compound.entity.takeover_selection": "takeover", "ws_compound.entity.bundle_proposal": "bundling",
        "ws_compound.action.update": "update", "ws_compound.action.create": "create", "ws_compound.action.accept": "accept",
        "ws_compound.action.reject": "reject", "ws_compound.action.revert": "revert", "ws_compound.action.import": "import",
        "ws_compound.plan_host": "Current plan: host of {n} proposals",
        "ws_compound.plan_orphan": "Current plan: under management scale ({status})",
        "map.compound_details": "Compound details →", "ws_compound.year": "Year", "ws_compound.components": "Score components",
    },
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _enabled(name: str) -> bool:
    return _ctx().pm.get_plugin(name) is not None


def show(field: str, value: Any, lang: str) -> str:
    """A value as the page shows it: enum labels, yes/no, rounded numbers, ISO dates, "–" for nothing."""
    if value is None or value == "" or value != value:  # NaN
        return "–"
    if isinstance(value, bool):
        return t("ws_compound.yes" if value else "ws_compound.no", lang)
    if field in ENUM_FIELDS:
        return label(ENUM_FIELDS[field], value, lang)
    if field == "fee_collection_rate" and isinstance(value, int | float):
        return f"{value * 100:.0f}%"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "–"
    if isinstance(value, dict):
        return t("ws_compound.geometry_changed", lang) if "coordinates" in value else str(value)
    if isinstance(value, str) and value.startswith(("POLYGON", "MULTIPOLYGON", "POINT")):
        return t("ws_compound.geometry_changed", lang)
    return str(value)


def field_label(field: str, lang: str) -> str:
    """The Chinese/English label of a compound/handover field (the street workspace's catalogue)."""
    import web.workspaces.street  # noqa: F401  (registers the ws_field.* labels)

    text = t(f"ws_field.{field}", lang)
    if text == f"ws_field.{field}":
        text = t(f"handover.col.{field}", lang)
    return field if text == f"handover.col.{field}" else text


# ---------------------------------------------------------------------------------------------
# Sections


def attributes(session: Any, c: m.Compound, lang: str) -> list[tuple[str, str, str | None]]:
    """(label, shown value, link) of every attribute of the compound."""
    street = session.get(m.Street, c.street_code)
    community = session.get(m.Community, c.community_code) if c.community_code else None
    out = []
    for f in ATTRIBUTE_FIELDS:
        value = getattr(c, f)
        link = None
        if f == "street_code" and street is not None:
            value = street.name
        elif f == "community_code" and community is not None:
            value = community.name
        elif f == "managed_by_id" and value:
            link = url_for("ws_compound.page", compound_id=value)
        out.append((field_label(f, lang), show(f, value, lang), link))
    return out


def handover_rows(session: Any, compound_id: str, lang: str) -> list[dict[str, Any]]:
    """Each facility's handover state with its ledger items (unsurveyed utilities read as unknown)."""
    if not _enabled("handover"):
        return []
    from plugins.handover import service
    from plugins.handover.settings import settings_for

    settings = settings_for(_ctx())
    rows = []
    for facility in m.FACILITIES:
        h = service.get_handover(session, compound_id, facility, today=_ctx().today, settings=settings)
        if h["version"] == 0 and facility not in m.UTILITY_FACILITIES:
            continue
        h["facility_label"] = label("facility", facility, lang)
        h["state_label"] = label("handover_state", h["state"], lang)
        rows.append(h)
    return rows


def charging_rows(session: Any, c: m.Compound, lang: str) -> list[dict[str, Any]]:
    """The compound's stored garages with decision, rule, reasons and flags (RULES §3)."""
    if not _enabled("charging"):
        return []
    from plugins.charging.settings import settings_for
    from plugins.charging.stored import evaluate_records, load_garages

    records = [r for r in load_garages(session, c.street_code) if r.get("compound_id") == c.id]
    out = []
    for r in evaluate_records(records, settings_for(_ctx())):
        out.append({"name": r.get("name") or r["id"], "type": label("garage_type", r.get("garage_type"), lang),
                    "decision": r["decision"], "decision_label": label("charging_decision", r["decision"], lang)
                    if r["decision"] else "–", "rule": r["rule"],
                    "reasons": [x.get(lang) or x.get("zh") for x in r["reasons"]] or list(r.get("problems", [])),
                    "flags": [label("charging_flag", f, lang) for f in r["flags"]]})
    return out


def takeover_section(session: Any, c: m.Compound, attrs: dict[str, Any], lang: str) -> dict[str, Any]:
    """Score with components (points of weight) when a candidate, tender mode, and the compound's pipeline rows."""
    if not _enabled("takeover"):
        return {"enabled": False}
    from plugins.takeover.rules import COMPONENTS
    from plugins.takeover.settings import load_settings

    weights = load_settings(_ctx().rules("takeover")).weights()
    candidate = bool(attrs.get("takeover_candidate"))
    components = []
    for name in COMPONENTS:
        pts = attrs.get(f"takeover_pts_{name}")
        if pts is None or pts != pts:
            continue
        w = weights.get(name, 0.0)
        components.append({"label": label("takeover_component", name, lang), "points": float(pts), "weight": w,
                           "share": 0.0 if not w else max(0.0, min(1.0, float(pts) / w))})
    sel = session.execute(select(m.TakeoverSelection).where(m.TakeoverSelection.compound_id == c.id)
                          .order_by(m.TakeoverSelection.year.desc())).scalars().all()
    score = attrs.get("takeover_score")
    return {"enabled": True, "candidate": candidate, "components": components,
            "score": None if score is None or score != score else round(float(score), 1),
            "rank": attrs.get("takeover_rank"),
            "tender": label("tender_mode", attrs.get("takeover_tender_mode"), lang)
            if isinstance(attrs.get("takeover_tender_mode"), str) else None,
            "pipeline": [{"year": r.year, "state": label("takeover_state", r.state, lang),
                          "score": r.score, "by": r.updated_by, "at": show("at", r.updated_at, lang)} for r in sel]}


def bundle_rows(session: Any, c: m.Compound, lang: str) -> list[dict[str, Any]]:
    """Stored bundle proposals naming the compound as host or orphan."""
    rows = session.execute(select(m.BundleProposal).where(m.BundleProposal.street_code == c.street_code)
                           .order_by(m.BundleProposal.id)).scalars().all()
    out = []
    for p in rows:
        role = "host" if p.host_compound_id == c.id else "orphan" if c.id in (p.orphan_ids or []) else None
        if role is None:
            continue
        out.append({"id": p.id, "role": t(f"ws_compound.as_{role}", lang), "kind": label("orphan_kind", p.orphan_kind, lang),
                    "orphans": "、".join(p.orphan_ids or []), "host": p.host_compound_id,
                    "distance": p.distance_m, "area": p.merged_floor_area_m2, "households": p.merged_households,
                    "status": p.status, "status_label": label("bundle_status", p.status, lang),
                    "note": p.consent_note or p.reason})
    return out


def history(session: Any, c: m.Compound, proposal_ids: list[str], lang: str, names: bool) -> list[dict[str, Any]]:
    """Committed changes of the compound, its handover rows, takeover rows and bundle proposals, newest first."""
    e = m.AuditEvent
    conds = [and_(e.entity == "compound", e.entity_id == c.id),
             and_(e.entity == "handover", e.entity_id.like(f"{_like(c.id)}:%", escape="\\")),
             and_(e.entity == "takeover_selection", e.entity_id.like(f"%/{_like(c.id)}", escape="\\"))]
    if proposal_ids:
        conds.append(and_(e.entity == "bundle_proposal", e.entity_id.in_(proposal_ids)))
    stmt = (select(e).where(or_(*conds), e.outcome == "ok").order_by(e.at.desc(), e.id.desc()).limit(HISTORY_LIMIT))
    out = []
    for ev in session.execute(stmt).scalars():
        before, after = ev.before or {}, ev.after or {}
        keys = [k for k in dict.fromkeys([*before, *after]) if k not in ("version", "items_added")]
        changes = [{"field": field_label(k, lang), "before": show(k, before.get(k), lang),
                    "after": show(k, after.get(k), lang)} for k in keys
                   if not isinstance(before.get(k), dict) and not isinstance(after.get(k), dict)
                   or "coordinates" in (after.get(k) or {})]
        what = t(f"ws_compound.entity.{ev.entity}", lang)
        if ev.entity == "handover" and ev.entity_id and ":" in ev.entity_id:
            what += " · " + label("facility", ev.entity_id.rsplit(":", 1)[1], lang)
        out.append({"at": show("at", ev.at, lang), "who": ev.user_name if names else None,
                    "action": t(f"ws_compound.action.{ev.action}", lang), "what": what, "changes": changes,
                    "detail": ev.detail})
    return out


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _geometry(c: m.Compound) -> dict[str, Any]:
    from geoalchemy2.shape import to_shape

    boundary = to_shape(c.boundary) if c.boundary is not None else None
    point = to_shape(c.location) if c.location is not None else None
    return {"boundary": mapping(boundary) if boundary is not None else None,
            "point": [point.x, point.y] if point is not None else None}


@bp.get("/compounds/<compound_id>")
def page(compound_id: str) -> str:
    """Everything known about one compound (read permission on the compound)."""
    ctx = _ctx()
    lang = current_lang()
    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id[:64])
        if c is None:
            abort(404, "unknown compound")
        user = require("view", {"kind": "compound", "id": c.id, "street_code": c.street_code})
        values = ctx.compound_attribute_values()
        attrs = {col: vals.get(c.id) for col, vals in values.items()}
        bundles = bundle_rows(s, c, lang)
        names = ctx.allowed(user, "view_audit", {"kind": "audit", "street_code": c.street_code}) or (
            user.role == "street_officer" and user.street_code == c.street_code)
        street = s.get(m.Street, c.street_code)
        host = s.get(m.Compound, c.managed_by_id) if c.managed_by_id else None
        data = {
            "c": SimpleNamespace(**{f: getattr(c, f) for f in ATTRIBUTE_FIELDS}), "street_name": street.name if street else c.street_code, "attributes": attributes(s, c, lang),
            "buildings": s.scalar(select(func.count()).select_from(m.Building).where(m.Building.compound_id == c.id)),
            "handovers": handover_rows(s, c.id, lang), "garages": charging_rows(s, c, lang),
            "takeover": takeover_section(s, c, attrs, lang), "bundles": bundles,
            "history": history(s, c, [b["id"] for b in bundles], lang, names), "names_shown": names,
            "host": SimpleNamespace(id=host.id, name=host.name) if host else None, "geometry": _geometry(c), "attrs": attrs,
            "mode_label": label("management_mode", c.management_mode, lang),
        }
    c = data["c"]
    from web.mapview import offline_map, render_folium
    from web.security import csp_nonce

    fm = offline_map(location=(40.64, 109.83), zoom_start=16, tiles=None, control_scale=True, max_zoom=20)
    workspace = None
    if user.role in ("admin", "bureau") or (user.role == "street_officer" and user.street_code == c.street_code):
        workspace = url_for("ws_street.page", street=c.street_code) if user.role != "street_officer" \
            else url_for("ws_street.page")
    from web.maplayers import MODE_COLORS

    config = {"map": fm.get_name(), "geometry": data["geometry"], "color": MODE_COLORS.get(c.management_mode, "#607d8b"),
              "missing": t("ws_compound.boundary_missing", lang)}
    return render_template("workspaces/compound.html", folium=render_folium(fm, csp_nonce()), config=config,
                           workspace=workspace, show=lambda f, v: show(f, v, lang), **data)
