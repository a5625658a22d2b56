"""Street officer workspace (/ws/street): the street's map, its compounds (edit form) and the plugins' tabs.

The shell shows the street's compounds with their edit form (PATCH /api/v1/compounds/ID, 409 on a
stale version); every other tab — bundling proposals, the handover ledger, … — is a `Panel` a plugin
returns from the `dashboard_panels` hook (where="street"), with the map layers and scripts it needs.
Every request re-checks jurisdiction with `require("work_street", {street_code})`: a street officer
only for their own street (403 and an audited denial otherwise), admin/bureau for any street (`?street=`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import select

from geoplatform import edits as _edits  # noqa: F401  (registers the compound.field.* labels)
from geoplatform import models as m
from geoplatform.errors import NotFound
from geoplatform.i18n import add_messages, catalogue, t
from geoplatform.labels import LABELS, label
from web.auth import current_user, require
from web.lang import current_lang

bp = Blueprint("ws_street", __name__, url_prefix="/ws/street")

CORE_LAYERS = ("compounds",)
COMPOUNDS_TAB_ORDER = 50  # the shell's own tab among the plugins' panels
# the compound form: field → input kind (validation is the PATCH API's, errors are shown by field)
EDIT_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "text"), ("address", "text"), ("management_mode", "management_mode"),
    ("company", "text"), ("contract_end", "date"),  # owners_org: derived from the 业委会 records
    ("renovation", "renovation"), ("households", "int"), ("floor_area_m2", "float"), ("build_year", "int"),
    ("fee_collection_rate", "rate"), ("complaints_per_year", "int"), ("demolition_planned", "bool"),
)

add_messages({
    "zh": {
        'street.none': '数据库中还没有街镇',
        'ws_street.title': '街镇工作台',
        'ws_street.nav': '街镇工作台',
        'ws_street.street': '街镇',
        'ws_street.tab.compounds': '小区信息',
        'ws_street.cancel': '取消',
        'ws_street.compounds': '本街镇小区',
        'ws_street.filter': '按名称筛选…',
        'ws_street.edit': '编辑',
        'ws_street.save': '保存修改',
        'ws_street.saved': '已保存',
        'ws_street.nothing_changed': '没有修改任何字段',
        'ws_street.conflict': '该小区刚被其他人修改过（版本 {version}）。请重新加载最新数据后再修改。',
        'ws_street.reload': '重新加载',
        'ws_street.forbidden': '无权执行此操作（超出本街镇管辖范围）',
        'ws_street.error': '操作失败：{message}',
        'ws_street.boundary_missing': '边界缺失',
        'ws_street.yes': '是',
        'ws_street.no': '否',
        'ws_street.detail': '详情',
        'ws_street.map_note': '地图：本街镇小区（按管理模式着色）与打包图层',
        'ws_street.version': '版本',
    },
    "en": {
        'street.none': 'no streets in the database',
        'ws_street.title': 'Street workspace',
        'ws_street.nav': 'Street workspace',
        'ws_street.street': 'Street',
        'ws_street.tab.compounds': 'Compounds',
        'ws_street.cancel': 'Cancel',
        'ws_street.compounds': 'Compounds of this street',
        'ws_street.filter': 'Filter by name…',
        'ws_street.edit': 'Edit',
        'ws_street.save': 'Save changes',
        'ws_street.saved': 'Saved',
        'ws_street.nothing_changed': 'Nothing changed',
        'ws_street.conflict': 'Someone else changed this compound (now version {version}). Reload it, then edit again.',
        'ws_street.reload': 'Reload',
        'ws_street.forbidden': 'Not allowed (outside your street)',
        'ws_street.error': 'Failed: {message}',
        'ws_street.boundary_missing': 'boundary missing',
        'ws_street.yes': 'yes',
        'ws_street.no': 'no',
        'ws_street.detail': 'Details',
        'ws_street.map_note': "Map: this street's compounds and the bundling layers",
        'ws_street.version': 'version',
    },
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def jurisdiction(asked: str | None) -> str:
    """The street this request works on: `asked` (code or name) or the officer's own; 403 (audited) outside it."""
    from geoplatform.streets import resolve_street
    from web.queries import street_list

    ctx = _ctx()
    user = current_user()
    if asked:
        with ctx.session(readonly=True) as s:
            code = resolve_street(s, asked[:100])
    elif user is not None and user.street_code:
        code = user.street_code
    else:
        streets = street_list(ctx)
        code = streets[0]["code"] if streets else None
    require("work_street", {"kind": "street", "street_code": code})
    if code is None:
        raise NotFound("street.none")
    return code


def street_compounds(session: Any, street: str) -> list[dict[str, Any]]:
    """The street's compounds for the edit table (no geometry)."""
    c = m.Compound
    stmt = (select(c.id, c.name, c.management_mode, c.households, c.floor_area_m2, c.owners_org, c.version,
                   c.boundary.is_(None).label("boundary_missing"), c.managed_by_id)
            .where(c.street_code == street).order_by(c.name, c.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def _map_config(street: str, lang: str, panels: list[Any]) -> dict[str, Any]:
    from web.shell import WebShell

    wanted = list(dict.fromkeys([*CORE_LAYERS, *(layer for p in panels for layer in p.layers)]))
    prefixes = ("ws_street.", "map.", "field.", *(x for p in panels for x in p.messages))
    return {
        "street": street, "lang": lang,
        "layers": WebShell(_ctx()).layer_meta(wanted, lang),
        "labels": {e: {v: (zh if lang == "zh" else en) for v, (zh, en) in vals.items()} for e, vals in LABELS.items()},
        "features": url_for("api.layer_features", layer_id="__ID__"),
        "compound_api": url_for("api.compound", compound_id="__ID__"),
        "compound_page": url_for("ws_compound.page", compound_id="__ID__"),
        "messages": {k: v for k, v in catalogue(lang).items() if k.startswith(prefixes)},
        "edit_fields": [{"name": n, "kind": k, "label": t(f"compound.field.{n}", lang)} for n, k in EDIT_FIELDS],
        "panels": {p.id: p.data.get("config", {}) for p in panels},
    }


@bp.get("")
def page() -> str:
    """The workspace page of one street (own street for officers; `?street=` for admin/bureau)."""
    from web.mapview import offline_map, render_folium
    from web.queries import street_list
    from web.security import csp_nonce, csrf_token
    from web.shell import dashboard_panels, render_block

    street = jurisdiction(request.args.get("street"))
    lang = current_lang()
    ctx = _ctx()
    user = current_user()
    streets = street_list(ctx)
    info = next((s for s in streets if s["code"] == street), {"code": street, "name": street, "bbox": None})
    with ctx.session(readonly=True) as s:
        compounds = street_compounds(s, street)
    panels = dashboard_panels(ctx, user, "street", street)
    tabs = [(p, render_block(p)) for p in panels]
    fm = offline_map(location=(40.64, 109.83), zoom_start=14, tiles=None, control_scale=True, prefer_canvas=True,
                     max_zoom=20, min_zoom=10)
    if info.get("bbox"):
        minx, miny, maxx, maxy = info["bbox"]
        fm.fit_bounds([[miny, minx], [maxy, maxx]])
    return render_template(
        "workspaces/street.html", folium=render_folium(fm, csp_nonce()), street=info, compounds=compounds,
        tabs=tabs, compounds_order=COMPOUNDS_TAB_ORDER, can_pick=user.role in ("admin", "bureau"), streets=streets,
        scripts=list(dict.fromkeys(x for p in panels for x in p.scripts)),
        config={**_map_config(street, lang, panels), "map": fm.get_name(), "csrf": csrf_token()},
        label=lambda enum, v: label(enum, v, lang))
