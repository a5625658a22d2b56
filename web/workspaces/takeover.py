"""State-owned company workspace (/ws/takeover): candidates, optimal selection vs greedy, shortlist, pipeline, print.

Thin over `plugins.takeover.service` (rank, selection_payload, advance, coverage, latest_states):
requests are parsed and checked here, the scores and the selection come from the plugin. Only the
state company, the bureau and admins may open it (`edit_takeover`; others get an audited 403).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from shapely.geometry import mapping

from geoplatform.i18n import t
from geoplatform.principal import Principal
from web.auth import require
from web.lang import current_lang
from web.workspaces import takeover_messages as _messages  # noqa: F401  (catalogue entries)
from web.workspaces.takeover_svg import shortlist_svg

bp = Blueprint("ws_takeover", __name__, url_prefix="/ws/takeover")

PARAM_FIELDS = ("min", "max", "budget", "per_street_max", "contiguity_weight", "include_community_managed", "year")
MAX_COUNT = 500  # more than the district's candidates; bounds the solver's work
MAX_BUDGET = 1e7  # 万元
MAX_WEIGHT = 1000.0
YEARS = (2000, 2100)
COMPONENT_COLOURS = {  # one colour per score component (bars, legend)
    "contiguity": "#1d3557", "age": "#457b9d", "renovation": "#2a9d8f", "fee_viability": "#8ab17d",
    "households": "#e9c46a", "safety_complaints": "#f4a261", "utility_handover": "#e76f51", "owners_org": "#9d4edd",
}


class BadParam(ValueError):
    """A selection parameter that is not a number in range: one message naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Params:
    """The selection parameters of one request (already range-checked)."""

    min_n: int
    max_n: int
    budget: float | None
    per_street_max: int | None
    contiguity_weight: float
    include_community_managed: bool
    year: int


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _service() -> Any:
    """The takeover plugin's service module (404 when the plugin is disabled)."""
    if _ctx().pm.get_plugin("takeover") is None:
        abort(404, "the takeover plugin is not enabled")
    from plugins.takeover import service

    return service


def _settings() -> Any:
    from plugins.takeover.mapping import settings_for

    return settings_for(_ctx())


def allowed_user() -> Principal:
    """The current user if they may work the takeover pipeline (state company, bureau, admin); else 401/403."""
    _service()
    return require("edit_takeover", {"kind": "takeover"})


def _number(src: dict[str, Any], key: str, kind: type, default: Any, lo: float, hi: float) -> Any:
    value = src.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadParam(key, f"{key} must be a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise BadParam(key, f"{key} must be a number") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise BadParam(key, f"{key} must be between {lo:g} and {hi:g}")
    if kind is int:
        if number != int(number):
            raise BadParam(key, f"{key} must be a whole number")
        return int(number)
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def parse_params(src: dict[str, Any], settings: Any, today: dt.date) -> Params:
    """Selection parameters from a query/JSON dict; BadParam (→ 400) on unknown fields, non-numbers or ranges."""
    unknown = sorted(set(src) - set(PARAM_FIELDS))
    if unknown:
        raise BadParam(unknown[0], f"unknown field(s): {', '.join(unknown)}")
    min_n = _number(src, "min", int, settings.select_min, 0, MAX_COUNT)
    max_n = _number(src, "max", int, settings.select_max, 1, MAX_COUNT)
    if min_n > max_n:
        raise BadParam("max", f"max {max_n} < min {min_n}")
    return Params(
        min_n=min_n, max_n=max_n, budget=_number(src, "budget", float, None, 0, MAX_BUDGET),
        per_street_max=_number(src, "per_street_max", int, None, 1, MAX_COUNT),
        contiguity_weight=_number(src, "contiguity_weight", float, 0.0, 0, MAX_WEIGHT),
        include_community_managed=_flag(src.get("include_community_managed")),
        year=_number(src, "year", int, today.year, *YEARS))


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, "status": status, **extra})
    response.status_code = status
    return response


def _params_or_400(src: dict[str, Any]) -> Params | Response:
    try:
        return parse_params(src, _settings(), _ctx().today)
    except BadParam as exc:
        lang = current_lang()
        name = t(f"ws_takeover.param.{exc.field}", lang) if exc.field in PARAM_FIELDS else exc.field
        return _error(400, t("ws_takeover.bad_param", lang, field=name, message=str(exc)), field=exc.field)


def infeasible_message(constraint: str, params: Params, lang: str) -> str:
    """A plain-language explanation of the binding constraint of an infeasible selection."""
    budget = "–" if params.budget is None else f"{params.budget:g}"
    cap = "–" if params.per_street_max is None else params.per_street_max
    key = constraint if constraint in ("budget", "per_street_max", "count") else "solver"
    return t(f"ws_takeover.infeasible.{key}", lang, min=params.min_n, max=params.max_n, budget=budget, cap=cap)


# ---------------------------------------------------------------------------------------------
# Read models


def coverage(session: Any) -> dict[str, Any]:
    """The takeover plugin's professional-coverage figure (served / all compounds)."""
    return _service().coverage(session)


def board(session: Any, year: int, lang: str) -> dict[str, list[dict[str, Any]]]:
    """The year's pipeline rows grouped by state (candidate … serving), best score first, with allowed moves."""
    from sqlalchemy import select

    from geoplatform import models as m

    service = _service()
    rows = service.latest_states(session, year)
    columns: dict[str, list[dict[str, Any]]] = {st: [] for st in service.STATES}
    if rows.empty:
        return columns
    ids = [str(i) for i in rows.index]
    info = {r.id: r for r in session.execute(select(m.Compound.id, m.Compound.name, m.Compound.street_code,
                                                    m.Compound.management_mode).where(m.Compound.id.in_(ids)))}
    names = service.street_names(session)
    for cid, r in rows.iterrows():
        c = info.get(cid)
        columns[r["state"]].append({
            "compound_id": cid, "name": c.name if c else cid, "street_name": names.get(c.street_code, "") if c else "",
            "score": None if r["score"] is None or r["score"] != r["score"] else round(float(r["score"]), 2),
            "state": r["state"], "management_mode": c.management_mode if c else None,
            "updated_by": r["updated_by"], "updated_at": str(r["updated_at"])[:16] if r["updated_at"] else "",
            "next": [{"state": s, "label": t(f"ws_takeover.move.{s}", lang)} for s in service.allowed_next(r["state"])],
        })
    for cards in columns.values():
        cards.sort(key=lambda c: (-(c["score"] or 0.0), c["compound_id"]))
    return columns


def _geometry(frame: Any, cid: str) -> dict[str, Any] | None:
    if cid not in frame.index:
        return None
    geom = frame.geometry.get(cid)
    if geom is None or geom.is_empty:
        geom = frame["location"].get(cid) if "location" in frame else None
    return mapping(geom) if geom is not None and not geom.is_empty else None


def result_features(selected: list[str], greedy: list[str] | None, names: dict[str, str]) -> dict[str, Any]:
    """GeoJSON of the chosen compounds (role selected) and of those only the greedy baseline picked (greedy_only)."""
    frame = _ctx().compounds_frame()
    chosen = set(selected)
    features = []
    for role, ids in (("selected", selected), ("greedy_only", [g for g in greedy or [] if g not in chosen])):
        for n, cid in enumerate(ids, start=1):
            geom = _geometry(frame, cid)
            if geom is not None:
                features.append({"type": "Feature", "id": cid, "geometry": geom,
                                 "properties": {"name": names.get(cid, cid), "role": role, "n": n}})
    return {"type": "FeatureCollection", "features": features}


def selection_view(data: dict[str, Any], params: Params, lang: str) -> dict[str, Any]:
    """The plugin's selection document plus what the page shows: summary line, diff vs greedy, map features."""
    from sqlalchemy import select

    from geoplatform import models as m

    greedy = data.get("baseline_greedy") or []
    chosen = data["selected"]
    only_opt = [c for c in chosen if c not in set(greedy)]
    only_greedy = [c for c in greedy if c not in set(chosen)]
    with _ctx().session(readonly=True) as s:
        ids = list(set(chosen) | set(greedy))
        names = dict(s.execute(select(m.Compound.id, m.Compound.name).where(m.Compound.id.in_(ids))).all()) if ids else {}
    g_obj = data.get("baseline_greedy_objective")
    from plugins.takeover.service import verdict as verdict_of

    verdict = verdict_of(data, lang)
    summary = t("takeover.summary", lang, n=len(chosen), lo=params.min_n, hi=params.max_n,
                budget=t("takeover.unlimited", lang) if params.budget is None else f"{params.budget:g} 万元",
                cap=t("takeover.unlimited", lang) if params.per_street_max is None else params.per_street_max,
                w=f"{params.contiguity_weight:g}", obj=data["objective"], verdict=verdict,
                greedy=t("takeover.greedy_none", lang) if g_obj is None else f"{g_obj:.2f}",
                cost=f"{data['total_cost']:g}", sec=data["solve_seconds"])
    return {**data, "summary": summary, "verdict": verdict, "gain": None if g_obj is None else
            round(data["objective"] - g_obj, 2),
            "diff": {"only_optimal": [{"compound_id": c, "name": names.get(c, c)} for c in only_opt],
                     "only_greedy": [{"compound_id": c, "name": names.get(c, c)} for c in only_greedy]},
            "features": result_features(chosen, greedy, names), "year": params.year}


def component_notes(settings: Any, lang: str) -> list[dict[str, Any]]:
    """Each score component: name, weight (from the settings in force) and how it is scaled, in plain words."""
    from plugins.takeover.messages import COMPONENT
    from plugins.takeover.settings import COMPONENTS

    w = settings.weights()
    values = {"radius": f"{settings.contiguity_radius_m:g}", "sat": settings.contiguity_saturation,
              "old": settings.age_old_until, "mid": settings.age_mid_until, "old_s": settings.age_old_score,
              "mid_s": settings.age_mid_score, "new_s": settings.age_new_score,
              "ren": "、".join(f"{t(f'ws_takeover.renovation.{k}', lang)} {v:g}"
                              for k, v in settings.renovation_scores.items()),
              "fee": f"{settings.fee_full_at:.0%}", "hh": settings.households_full_at,
              "compl": f"{settings.complaints_full_at:g}",
              "org": "、".join(f"{t(f'ws_takeover.org.{k}', lang)} {v:g}" for k, v in settings.owners_org_scores.items())}
    zh = lang == "zh"
    return [{"id": c, "name": COMPONENT[c][0 if zh else 1], "short": t(f"takeover.short.{c}", lang),
             "weight": w[c], "colour": COMPONENT_COLOURS[c], "how": t(f"ws_takeover.how.{c}", lang, **values)}
            for c in COMPONENTS]


def candidate_rows(payload: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The rank payload's candidates with what the table shows (tender label, households, build year)."""
    from geoplatform.labels import label

    frame = _ctx().compounds_frame()
    rows = []
    for n, c in enumerate(payload["candidates"], start=1):
        cid = c["compound_id"]
        extra = frame.loc[cid] if cid in frame.index else None
        households = None if extra is None or extra["households"] != extra["households"] else extra["households"]
        build_year = None if extra is None or extra["build_year"] != extra["build_year"] else extra["build_year"]
        c["unknown_inputs"] = [t(f"takeover.short.{u}", lang) for u in c["unknown_inputs"]]
        rows.append({**c, "rank": n, "tender_label": label("tender_mode", c["tender_mode"], lang),
                     "tender_short": t(f"takeover.tender_short.{c['tender_mode']}", lang),
                     "households": None if households is None else int(households),
                     "build_year": None if build_year is None else int(build_year)})
    return rows


# ---------------------------------------------------------------------------------------------
# Pages


def _year_arg() -> int:
    try:
        year = int(request.args.get("year") or _ctx().today.year)
    except ValueError:
        abort(400, "year must be a whole number")
    if not YEARS[0] <= year <= YEARS[1]:
        abort(400, f"year must be between {YEARS[0]} and {YEARS[1]}")
    return year


@bp.get("")
def page() -> str:
    """The takeover picker: candidates table, parameters and result, map, pipeline board, exports."""
    allowed_user()
    year = _year_arg()
    ctx = _ctx()
    lang = current_lang()
    service = _service()
    settings = _settings()
    cm = _flag(request.args.get("include_community_managed"))
    from web.mapview import offline_map, render_folium
    from web.ogc import district_extent
    from web.security import csp_nonce, csrf_token

    with ctx.session(readonly=True) as s:
        ranked = service.rank_payload(s, settings, include_community_managed=cm)
        cards = board(s, year, lang)
        cov = coverage(s)
    fm = offline_map(location=(40.64, 109.83), zoom_start=13, tiles=None, control_scale=True, prefer_canvas=True,
                     max_zoom=20, min_zoom=9)
    minx, miny, maxx, maxy = district_extent(ctx)
    fm.fit_bounds([[miny, minx], [maxy, maxx]])
    notes = component_notes(settings, lang)
    config = {
        "map": fm.get_name(), "lang": lang, "csrf": csrf_token(), "year": year,
        "features": url_for("api.layer_features", layer_id="__ID__"),
        "layers": [layer for layer in _layer_meta(lang)],
        "compound_page": url_for("ws_compound.page", compound_id="__ID__"),
        "actions": {"select": url_for("ws_takeover.select_view"), "save": url_for("ws_takeover.save"),
                    "advance": url_for("ws_takeover.advance_view")},
        "messages": {k: v for k, v in _catalogue(lang).items() if k.startswith(("ws_takeover.", "takeover.", "map."))},
        "components": [{k: n[k] for k in ("id", "name", "short", "weight", "colour")} for n in notes],
        "states": list(service.STATES),
    }
    exports = {fmt: url_for("api_edit.export", name="takeover-shortlist", format=fmt) for fmt in ("xlsx", "geojson")}
    return render_template(
        "workspaces/takeover.html", folium=render_folium(fm, csp_nonce()), config=config, year=year,
        candidates=candidate_rows(ranked, lang), components=notes, board=cards, states=list(service.STATES),
        coverage=cov, settings=settings, include_cm=cm, exports=exports,
        print_url=url_for("ws_takeover.print_view", year=year),
        state_label=lambda st: t(f"ws_takeover.state.{st}", lang))


def _layer_meta(lang: str) -> list[dict[str, Any]]:
    from web.api import visible_layers
    from web.maplayers import layer_meta

    wanted = ("takeover_candidates", "takeover_shortlist")
    specs = {spec.id: spec for spec in visible_layers(_ctx()) if spec.id in wanted}
    return [layer_meta(specs[i], lang) for i in wanted if i in specs]


def _catalogue(lang: str) -> dict[str, str]:
    from geoplatform.i18n import catalogue

    return catalogue(lang)


def print_rows(session: Any, year: int, lang: str) -> tuple[list[dict[str, Any]], bool]:
    """The year's saved shortlist (shortlisted … serving), or the default optimal suggestion when none is saved."""
    import pandas as pd

    from geoplatform.labels import label
    from plugins.takeover.rules import tender_mode

    service = _service()
    settings = _settings()
    rows = service.latest_states(session, year)
    active = rows[rows["state"].isin(service.ACTIVE_STATES)] if len(rows) else rows
    saved = bool(len(active))
    if saved:
        wide = any(isinstance(p, dict) and p.get("include_community_managed") for p in active["parameters"])
        scored = service.rank(session, settings, include_community_managed=wide)
        ids = list(active.index)
        states = active["state"].to_dict()
    else:
        sel, scored = service.run_selection(session, settings, settings.select_min, settings.select_max)
        ids, states = sel.selected, {}
    names = service.street_names(session)
    frame = _ctx().compounds_frame()
    out = []
    for cid in ids:
        c = frame.loc[cid] if cid in frame.index else None
        if cid in scored.index:
            row = service.candidate_row(scored.loc[cid], settings, names)
        else:  # served compounds left the pool: the score saved with the shortlist, no components
            score = active.at[cid, "score"] if saved else None
            area = None if c is None else c["floor_area_m2"]
            row = {"compound_id": cid, "name": c["name"] if c is not None else cid, "components": {},
                   "street_name": names.get(c["street_code"], "") if c is not None else "",
                   "score": None if score is None or score != score else float(score),
                   "takeover_cost": None if c is None or c["takeover_cost"] != c["takeover_cost"] else c["takeover_cost"],
                   "tender_mode": tender_mode(pd.Series([area], dtype=float), settings).iloc[0],
                   "floor_area_m2": area, "left_pool": True}
        state = states.get(cid)
        row["state_label"] = t(f"ws_takeover.state.{state}", lang) if state else t("ws_takeover.suggested", lang)
        row["tender_label"] = label("tender_mode", row["tender_mode"], lang) if row.get("tender_mode") else "–"
        hh = None if c is None or c["households"] != c["households"] else int(c["households"])
        by = None if c is None or c["build_year"] != c["build_year"] else int(c["build_year"])
        row.update(households=hh, build_year=by)
        out.append(row)
    out.sort(key=lambda r: (-(r["score"] or 0.0), r["compound_id"]))
    return out, saved


@bp.get("/print")
def print_view() -> str:
    """A printable shortlist of `year`: static map, table with score components, how each component is scored."""
    allowed_user()
    year = _year_arg()
    lang = current_lang()
    ctx = _ctx()
    settings = _settings()
    with ctx.session(readonly=True) as s:
        rows, saved = print_rows(s, year, lang)
        cov = coverage(s)
    from geoplatform.store import read_frame

    with ctx.session(readonly=True) as s:
        streets = read_frame(s, "street", columns=["code", "name"])
    notes = component_notes(settings, lang)
    svg = shortlist_svg(ctx.compounds_frame(), streets, [r["compound_id"] for r in rows],
                        ctx.compound_attributes().get("takeover_candidate"))
    return render_template("workspaces/takeover_print.html", rows=rows, saved=saved, year=year, components=notes,
                           coverage=cov, svg=svg, settings=settings, today=ctx.today.isoformat(),
                           back=url_for("ws_takeover.page", year=year))


# ---------------------------------------------------------------------------------------------
# Actions (JSON; browser sessions send the CSRF token in X-CSRF-Token)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "body must be a JSON object")
    return body


def _solve(params: Params, save_as: tuple[Principal, int] | None) -> Response:
    from plugins.takeover.selection import InfeasibleSelection

    ctx = _ctx()
    service = _service()
    lang = current_lang()
    try:
        with ctx.session(readonly=save_as is None) as s:
            data = service.selection_payload(
                s, _settings(), params.min_n, params.max_n, params.budget, params.per_street_max,
                params.contiguity_weight, params.include_community_managed, save_as=save_as, allowed=ctx.allowed)
    except InfeasibleSelection as exc:
        return _error(422, infeasible_message(exc.constraint, params, lang), constraint=exc.constraint,
                      detail=str(exc))
    except service.TakeoverDenied:
        abort(403)
    view = selection_view(data, params, lang)
    if save_as is not None:
        from web.revision import invalidate

        invalidate(ctx)
        saved = data["saved"]
        view["message"] = t("takeover.saved", lang, year=saved["year"], added=len(saved["shortlisted"]),
                            dropped=len(saved["dropped"]), kept=len(saved["kept_in_later_states"]))
        with ctx.session(readonly=True) as s:
            view["board"] = board(s, params.year, lang)
    return jsonify(view)


@bp.get("/select")
def select_view() -> Response:
    """The optimal set for the query's parameters beside the greedy baseline (nothing saved)."""
    allowed_user()
    args = request.args.to_dict()
    args.pop("lang", None)  # the language switch is not a parameter
    params = _params_or_400(args)
    return params if isinstance(params, Response) else _solve(params, None)


@bp.post("/shortlist")
def save() -> Response:
    """Solve with the body's parameters and save the set as the year's shortlist (保存为年度名单)."""
    user = allowed_user()
    params = _params_or_400(_body())
    return params if isinstance(params, Response) else _solve(params, (user, params.year))


@bp.post("/advance")
def advance_view() -> Response:
    """Move {compound_id, state, year} one pipeline step; at serving the compound becomes state-owned."""
    user = allowed_user()
    body = _body()
    lang = current_lang()
    cid, state = body.get("compound_id"), body.get("state")
    if not isinstance(cid, str) or not cid or len(cid) > 64:
        return _error(400, t("ws_takeover.need_compound", lang), field="compound_id")
    if not isinstance(state, str) or len(state) > 32:
        return _error(400, t("ws_takeover.need_state", lang), field="state")
    try:
        year = _number(body, "year", int, _ctx().today.year, *YEARS)
    except BadParam as exc:
        return _error(400, str(exc), field="year")
    ctx = _ctx()
    service = _service()
    with ctx.session() as s:
        before = coverage(s)
        try:
            dates = {k: dt.date.fromisoformat(body[k]) if isinstance(body.get(k), str) and body[k] else None
                     for k in ("contract_start", "contract_end")}
            result = service.advance(s, user, cid, state, year, _settings(), allowed=ctx.allowed,
                                     company=body.get("company") or None, **dates)
        except service.TakeoverDenied as exc:
            s.rollback()
            abort(403, str(exc))
        except (service.TakeoverError, ValueError) as exc:  # ValueError: a contract date not YYYY-MM-DD
            s.rollback()
            return _error(400, str(exc))
        s.flush()
        after = coverage(s)
        cards = board(s, year, lang)
    from web.revision import invalidate

    invalidate(ctx)
    message = t("takeover.moved", lang, cid=cid, year=year, frm=t(f"ws_takeover.state.{result['from']}", lang),
                to=t(f"ws_takeover.state.{result['to']}", lang))
    if state == "serving":
        message += "；" + t("ws_takeover.served", lang, company=result["company"],
                           before=before["coverage_rate"] or 0, after=after["coverage_rate"] or 0)
    return jsonify({**result, "coverage_before": before, "coverage": after, "message": message, "board": cards})
