"""The compound detail page (/compounds/<id>): attributes, a small map, the plugins' sections and the change history.

The shell shows the core attributes, the map and the audit trail; every plugin result (handover
rows, charging decisions, takeover score, bundle proposals, coverage flags) is a `Section` a plugin
returns from the `compound_sections` hook, and the audit entities a section names (`Section.audit`)
join the change history. Everything user-typed is escaped by the templates.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, abort, render_template, url_for
from shapely.geometry import mapping
from sqlalchemy import and_, func, or_, select

from geoplatform import audit
from geoplatform import edits as _edits  # noqa: F401  (registers the compound.field.* labels)
from geoplatform import models as m
from geoplatform.i18n import add_messages, t
from geoplatform.labels import label
from geoplatform.screens import AuditRef
from web.auth import require
from web.lang import current_lang

bp = Blueprint("ws_compound", __name__)

ATTRIBUTE_FIELDS = ("id", "name", "aliases", "street_code", "community_code", "address", "build_year", "households",
                    "floor_area_m2", "management_mode", "company", "contract_end", "owners_org", "renovation",
                    "fee_collection_rate", "complaints_per_year", "demolition_planned", "takeover_cost",
                    "managed_by_id", "source", "version", "updated_at")
ENUM_FIELDS = {"management_mode": "management_mode", "owners_org": "owners_org", "renovation": "renovation",
               "facility": "facility"}
HISTORY_LIMIT = 200
HIDDEN_IN_HISTORY = frozenset({"version", "items_added", "id", "year", "compound_id"})  # bookkeeping and identity

add_messages({
    "zh": {
        "ws_compound.title": "小区详情", "ws_compound.attributes": "基本信息", "ws_compound.map": "位置与边界",
        "ws_compound.boundary_missing": "边界缺失（台账仅有位置点）", "ws_compound.buildings": "楼栋 {n} 栋",
        "ws_compound.managed_by": "已并入 {host} 统一管理", "ws_compound.history": "修改记录",
        "ws_compound.no_history": "暂无修改记录", "ws_compound.when": "时间", "ws_compound.who": "操作人",
        "ws_compound.what": "内容", "ws_compound.change": "修改", "ws_compound.hidden": "（仅本街镇与区住建局可见）",
        "ws_compound.geometry_changed": "（几何已修改）", "ws_compound.yes": "是", "ws_compound.no": "否",
        "ws_compound.workspace": "返回街镇工作台", "ws_compound.open_map": "在地图中查看",
        "ws_compound.entity.compound": "小区",
        "ws_compound.action.update": "修改", "ws_compound.action.create": "新建", "ws_compound.action.accept": "同意",
        "ws_compound.action.reject": "驳回", "ws_compound.action.revert": "撤销", "ws_compound.action.import": "导入",
        "map.compound_details": "小区详情 →",
    },
    "en": {
        "ws_compound.title": "Compound", "ws_compound.attributes": "Attributes", "ws_compound.map": "Location and boundary",
        "ws_compound.boundary_missing": "Boundary missing (the ledger gave only a point)",
        "ws_compound.buildings": "{n} buildings",
        "ws_compound.managed_by": "Managed together with {host}", "ws_compound.history": "Change history",
        "ws_compound.no_history": "No recorded changes", "ws_compound.when": "When", "ws_compound.who": "Who",
        "ws_compound.what": "What", "ws_compound.change": "Change",
        "ws_compound.hidden": "(visible to the street and the bureau)",
        "ws_compound.geometry_changed": "(geometry changed)", "ws_compound.yes": "yes", "ws_compound.no": "no",
        "ws_compound.workspace": "Back to the street workspace", "ws_compound.open_map": "Show on the map",
        "ws_compound.entity.compound": "compound",
        "ws_compound.action.update": "update", "ws_compound.action.create": "create", "ws_compound.action.accept": "accept",
        "ws_compound.action.reject": "reject", "ws_compound.action.revert": "revert", "ws_compound.action.import": "import",
        "map.compound_details": "Compound details →",
    },
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def show(field: str, value: Any, lang: str, enums: dict[str, str] | None = None) -> str:
    """A value as the page shows it: enum labels, yes/no, rounded numbers, ISO dates, "–" for nothing."""
    if value is None or value == "" or value != value:  # NaN
        return "–"
    if isinstance(value, bool):
        return t("ws_compound.yes" if value else "ws_compound.no", lang)
    enum = (enums or {}).get(field) or ENUM_FIELDS.get(field)
    if enum:
        return label(enum, value, lang)
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


def field_label(field: str, lang: str, entity: str = "compound") -> str:
    """The label of a field: the entity's own (`<entity>.col.*`), else a compound field's (`compound.field.*`)."""
    keys = (f"{entity}.col.{field}", f"compound.field.{field}")
    for key in keys if entity != "compound" else keys[::-1]:
        text = t(key, lang)
        if text != key:
            return text
    return field


# ---------------------------------------------------------------------------------------------
# The core parts (the plugins' parts are sections)


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


def history(session: Any, c: m.Compound, refs: list[AuditRef], lang: str, names: bool) -> list[dict[str, Any]]:
    """Committed changes of the compound and of the audit entities the sections name, newest first."""
    e = m.AuditEvent
    by_key = {(r.entity, r.entity_id): r for r in refs}
    conds = [and_(e.entity == "compound", e.entity_id == c.id)]
    by_entity: dict[str, list[str]] = {}
    for r in refs:
        by_entity.setdefault(r.entity, []).append(r.entity_id)
    conds += [and_(e.entity == entity, e.entity_id.in_(ids)) for entity, ids in by_entity.items()]
    stmt = (select(e).where(or_(*conds), e.outcome == "ok").order_by(e.at.desc(), e.id.desc()).limit(HISTORY_LIMIT))
    out = []
    for ev in session.execute(stmt).scalars():
        ref = by_key.get((ev.entity, ev.entity_id))
        enums = dict(ref.enums) if ref else {}
        before, after = ev.before or {}, ev.after or {}
        keys = [k for k in audit.changed_keys(before, after) if k not in HIDDEN_IN_HISTORY]
        changes = [{"field": field_label(k, lang, ev.entity),
                    "before": None if ev.action == "create" else show(k, before.get(k), lang, enums),
                    "after": show(k, after.get(k), lang, enums)} for k in keys
                   if not isinstance(before.get(k), dict) and not isinstance(after.get(k), dict)
                   or "coordinates" in (after.get(k) or {})]
        what = ref.label if ref and ref.label else t(f"ws_compound.entity.{ev.entity}", lang)
        out.append({"at": show("at", ev.at, lang), "who": ev.user_name if names else None,
                    "action": t(f"ws_compound.action.{ev.action}", lang), "what": what, "changes": changes,
                    "detail": audit.detail_text(ev.detail, lang)})
    return out


def _geometry(c: m.Compound) -> dict[str, Any]:
    from geoalchemy2.shape import to_shape

    boundary = to_shape(c.boundary) if c.boundary is not None else None
    point = to_shape(c.location) if c.location is not None else None
    return {"boundary": mapping(boundary) if boundary is not None else None,
            "point": [point.x, point.y] if point is not None else None}


@bp.get("/compounds/<compound_id>")
def page(compound_id: str) -> str:
    """Everything known about one compound (read permission on the compound)."""
    from web.shell import compound_sections, render_block

    ctx = _ctx()
    lang = current_lang()
    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id[:64])
        if c is None:
            abort(404, "unknown compound")
        cid = c.id
        user = require("view", {"kind": "compound", "id": c.id, "street_code": c.street_code})
    sections = compound_sections(ctx, cid, user)
    rendered = [(sec, render_block(sec)) for sec in sections]
    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, cid)
        names = ctx.allowed(user, "view_audit", {"kind": "audit", "street_code": c.street_code}) or (
            user.role == "street_officer" and user.street_code == c.street_code)
        street = s.get(m.Street, c.street_code)
        host = s.get(m.Compound, c.managed_by_id) if c.managed_by_id else None
        refs = [ref for sec in sections for ref in sec.audit]
        data = {
            "c": SimpleNamespace(**{f: getattr(c, f) for f in ATTRIBUTE_FIELDS}),
            "street_name": street.name if street else c.street_code, "attributes": attributes(s, c, lang),
            "buildings": s.scalar(select(func.count()).select_from(m.Building).where(m.Building.compound_id == c.id)),
            "history": history(s, c, refs, lang, names), "names_shown": names,
            "host": SimpleNamespace(id=host.id, name=host.name) if host else None, "geometry": _geometry(c),
            "mode_label": label("management_mode", c.management_mode, lang),
        }
    c = data["c"]
    from web.mapview import offline_map, render_folium
    from web.security import csp_nonce

    fm = offline_map(location=(40.64, 109.83), zoom_start=16, tiles=None, control_scale=True, max_zoom=20)
    workspace = None
    if ctx.allowed(user, "work_street", {"kind": "street", "street_code": c.street_code}):
        workspace = url_for("ws_street.page", street=c.street_code) if user.role != "street_officer" \
            else url_for("ws_street.page")
    from web.maplayers import MODE_COLORS

    config = {"map": fm.get_name(), "geometry": data["geometry"], "color": MODE_COLORS.get(c.management_mode, "#607d8b"),
              "missing": t("ws_compound.boundary_missing", lang)}
    return render_template("workspaces/compound.html", folium=render_folium(fm, csp_nonce()), config=config,
                           workspace=workspace, sections=rendered, **data)
