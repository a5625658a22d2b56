"""The takeover plugin's HTTP surface: the state company's workspace (/ws/takeover) and the API (/api/v1/takeover).

Candidates, optimal selection vs greedy, the year's shortlist, the pipeline to serving, a printable
page. Both surfaces parse parameters with `service.parse_params` and call the same service functions
as the CLI; errors (TakeoverError 400, TakeoverDenied 403, Infeasible 422) are answered by the web
shell in one place. Only the state company, the bureau and admins may use the workspace
(`edit_takeover`; others get an audited 403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from shapely.geometry import mapping

from geoplatform import webshell
from geoplatform.i18n import catalogue, t
from geoplatform.principal import Principal
from plugins.takeover import page_messages as _messages  # noqa: F401  (catalogue entries)

COMPONENT_COLOURS = {  # one colour per score component (bars, legend)
    "contiguity": "#1d3557", "age": "#457b9d", "renovation": "#2a9d8f", "fee_viability": "#8ab17d",
    "households": "#e9c46a", "safety_complaints": "#f4a261", "utility_handover": "#e76f51", "owners_org": "#9d4edd",
}


def blueprints(context: Any) -> list[Blueprint]:
    """The workspace and the API, bound to `context`."""
    return [workspace_blueprint(context), api_blueprint(context)]


def _settings(context: Any) -> Any:
    from plugins.takeover.mapping import settings_for

    return settings_for(context)


def _served(context: Any) -> tuple[str, ...]:
    """The plan's professionally served modes (the one definition, `[rules.plan]`)."""
    from geoplatform.config import plan_settings

    return plan_settings(context.config).served_modes


def _args(src: dict[str, Any]) -> dict[str, Any]:
    """Query/body parameters without the language switch (not a selection parameter)."""
    return {k: v for k, v in src.items() if k != "lang"}


# ---------------------------------------------------------------------------------------------
# Read models of the workspace


def board(session: Any, year: int, lang: str) -> dict[str, list[dict[str, Any]]]:
    """The year's pipeline rows grouped by state (candidate … serving), best score first, with allowed moves."""
    from sqlalchemy import select

    from geoplatform import models as m
    from plugins.takeover import service

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


def result_features(context: Any, selected: list[str], greedy: list[str] | None, names: dict[str, str]) -> dict[str, Any]:
    """GeoJSON of the chosen compounds (role selected) and of those only the greedy baseline picked (greedy_only)."""
    frame = context.compounds_frame()
    chosen = set(selected)
    features = []
    for role, ids in (("selected", selected), ("greedy_only", [g for g in greedy or [] if g not in chosen])):
        for n, cid in enumerate(ids, start=1):
            geom = _geometry(frame, cid)
            if geom is not None:
                features.append({"type": "Feature", "id": cid, "geometry": geom,
                                 "properties": {"name": names.get(cid, cid), "role": role, "n": n}})
    return {"type": "FeatureCollection", "features": features}


def selection_view(context: Any, data: dict[str, Any], params: Any, lang: str) -> dict[str, Any]:
    """The plugin's selection document plus what the page shows: summary line, diff vs greedy, map features."""
    from sqlalchemy import select

    from geoplatform import models as m

    greedy = data.get("baseline_greedy") or []
    chosen = data["selected"]
    only_opt = [c for c in chosen if c not in set(greedy)]
    only_greedy = [c for c in greedy if c not in set(chosen)]
    with context.session(readonly=True) as s:
        ids = list(set(chosen) | set(greedy))
        names = dict(s.execute(select(m.Compound.id, m.Compound.name).where(m.Compound.id.in_(ids))).all()) if ids else {}
    g_obj = data.get("baseline_greedy_objective")
    from plugins.takeover.service import verdict as verdict_of

    verdict = verdict_of(data, lang)
    gain = None if g_obj is None else round(data["objective"] - g_obj, 2)
    return {**data, "summary": explain(data, params, lang), "verdict": verdict, "gain": gain,
            "diff": {"only_optimal": [{"compound_id": c, "name": names.get(c, c)} for c in only_opt],
                     "only_greedy": [{"compound_id": c, "name": names.get(c, c)} for c in only_greedy]},
            "features": result_features(context, chosen, greedy, names), "year": params.year}


def explain(data: dict[str, Any], params: Any, lang: str) -> str:
    """The result in one sentence a manager reads: the limits, the set's total score, and what picking by score gives."""
    limits = [t("ws_takeover.explain.count", lang, lo=params.min_n, hi=params.max_n) if params.min_n != params.max_n
              else t("ws_takeover.explain.count_one", lang, lo=params.min_n)]
    if params.budget is not None:
        limits.append(t("ws_takeover.explain.budget", lang, budget=f"{params.budget:g}"))
    if params.per_street_max is not None:
        limits.append(t("ws_takeover.explain.cap", lang, cap=params.per_street_max))
    if params.contiguity_weight > 0:
        limits.append(t("ws_takeover.explain.bonus", lang, w=f"{params.contiguity_weight:g}"))
    obj = f"{data['objective']:.1f}" + (t("ws_takeover.explain.bonus_included", lang) if params.contiguity_weight > 0
                                         else "")
    head = t("ws_takeover.explain.optimal" if data["optimal"] else "ws_takeover.explain.not_optimal", lang,
             limits=("、" if lang == "zh" else ", ").join(limits), n=len(data["selected"]), obj=obj)
    g_obj = data.get("baseline_greedy_objective")
    if g_obj is None:
        tail = t("ws_takeover.explain.no_greedy", lang)
    elif data["objective"] - g_obj > 0.005:
        tail = t("ws_takeover.explain.better", lang, greedy=f"{g_obj:.1f}", gain=f"{data['objective'] - g_obj:.1f}")
    else:
        tail = t("ws_takeover.explain.same", lang)
    return head + tail


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
              "compl": f"{settings.complaints_full_at:g}", "hazards": f"{settings.safety_problems_full_at:g}",
              "org": "、".join(f"{t(f'ws_takeover.org.{k}', lang)} {v:g}" for k, v in settings.owners_org_scores.items())}
    zh = lang == "zh"
    return [{"id": c, "name": COMPONENT[c][0 if zh else 1], "short": t(f"takeover.short.{c}", lang),
             "weight": w[c], "colour": COMPONENT_COLOURS[c], "how": t(f"ws_takeover.how.{c}", lang, **values)}
            for c in COMPONENTS]


def candidate_rows(context: Any, payload: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The rank payload's candidates with what the table shows (tender label, households, build year)."""
    from geoplatform.labels import label

    frame = context.compounds_frame()
    rows = []
    for n, c in enumerate(payload["candidates"], start=1):
        cid = c["compound_id"]
        extra = frame.loc[cid] if cid in frame.index else None
        if extra is None:  # a new bundle (one unit of several members): its summed households, oldest member's year
            households, build_year = c.get("households"), c.get("build_year")
        else:
            households = None if extra["households"] != extra["households"] else extra["households"]
            build_year = None if extra["build_year"] != extra["build_year"] else extra["build_year"]
        c["unknown_inputs"] = [t(f"takeover.short.{u}", lang) for u in c["unknown_inputs"]]
        rows.append({**c, "rank": n, "tender_label": label("tender_mode", c["tender_mode"], lang),
                     "tender_short": t(f"takeover.tender_short.{c['tender_mode']}", lang),
                     "households": None if households is None else int(households),
                     "build_year": None if build_year is None else int(build_year)})
    return rows


def print_rows(context: Any, session: Any, year: int, lang: str) -> tuple[list[dict[str, Any]], bool]:
    """The year's saved shortlist (shortlisted … serving), or the default optimal suggestion when none is saved."""
    import pandas as pd

    from geoplatform.labels import label
    from plugins.takeover import service
    from plugins.takeover.rules import tender_mode

    settings = _settings(context)
    rows = service.latest_states(session, year)
    active = rows[rows["state"].isin(service.ACTIVE_STATES)] if len(rows) else rows
    saved = bool(len(active))
    if saved:
        wide = any(isinstance(p, dict) and p.get("include_community_managed") for p in active["parameters"])
        scored = service.per_compound(service.rank(session, settings, include_community_managed=wide))
        ids = list(active.index)
        states = active["state"].to_dict()
    else:
        from plugins.takeover.selection import InfeasibleSelection

        try:
            sel, scored = service.run_selection(session, settings, settings.select_min, settings.select_max)
        except InfeasibleSelection as exc:  # e.g. fewer candidates than the minimum: a 422 naming it, as /select
            raise service.infeasible(exc, settings.select_min, settings.select_max) from exc
        ids, states = sel.selected, {}
    names = service.street_names(session)
    frame = context.compounds_frame()
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



# ---------------------------------------------------------------------------------------------
# The workspace


def workspace_blueprint(context: Any) -> Blueprint:
    """/ws/takeover: the picker page, /select (compute), /shortlist (save), /advance (pipeline), /print."""
    from plugins.takeover import service

    bp = Blueprint("ws_takeover", __name__, url_prefix="/ws/takeover", template_folder="templates",
                   static_folder="static", static_url_path="/static")

    def allowed_user() -> Principal:
        """The current user if they may work the takeover pipeline (state company, bureau, admin); else 401/403."""
        return webshell.require("edit_takeover", {"kind": "takeover"})

    def year_arg() -> int:
        return service.parse_params({"year": request.args.get("year")}, _settings(context), context.today).year

    @bp.get("")
    def page() -> str:
        """The takeover picker: candidates table, parameters and result, map, pipeline board, exports."""
        allowed_user()
        year = year_arg()
        lang = webshell.lang()
        shell = webshell.shell()
        settings = _settings(context)
        cm = service.parse_params({"include_community_managed": request.args.get("include_community_managed")},
                                  settings, context.today).include_community_managed
        with context.session(readonly=True) as s:
            ranked = service.rank_payload(s, settings, include_community_managed=cm)
            cards = board(s, year, lang)
            cov = service.coverage(s, _served(context))
            firm = service.state_company(s, settings)
        start = context.today
        contract = {"company": firm, "start": start.isoformat(),  # what the contract form proposes; all editable
                    "end": (start + dt.timedelta(days=3 * 365 - 1)).isoformat()}
        fm = shell.map(location=(40.64, 109.83), zoom_start=13, tiles=None, control_scale=True, prefer_canvas=True,
                       max_zoom=20, min_zoom=9, bounds=shell.district_extent())
        notes = component_notes(settings, lang)
        config = {
            "map": fm["name"], "lang": lang, "csrf": shell.csrf_token(), "year": year,
            "features": shell.url("layer_features"),
            "layers": shell.layer_meta(["takeover_candidates", "takeover_shortlist"], lang),
            "compound_page": shell.url("compound_page"),
            "actions": {"select": url_for("ws_takeover.select_view"), "save": url_for("ws_takeover.save"),
                        "advance": url_for("ws_takeover.advance_view")},
            "messages": {k: v for k, v in catalogue(lang).items() if k.startswith(("ws_takeover.", "takeover.", "map."))},
            "components": [{k: n[k] for k in ("id", "name", "short", "weight", "colour")} for n in notes],
            "outlines": shell.layer_meta(["district", "streets"], lang),
            "states": list(service.STATES),
            "contract": contract,
            "tender": {"area": f"{settings.public_tender_min_floor_area_m2 / 10000:g}",
                       "least": settings.invited_tender_min_bidders},
        }
        exports = {fmt: shell.url("export", name="takeover-shortlist", format=fmt) for fmt in ("xlsx", "geojson")}
        candidates = candidate_rows(context, ranked, lang)
        streets = sorted({(c["street"], c["street_name"]) for c in candidates}, key=lambda x: x[0])
        return render_template(
            "takeover/takeover.html", folium=fm, config=config, year=year, candidate_streets=streets,
            candidates=candidates, components=notes, board=cards,
            states=list(service.STATES), coverage=cov, settings=settings, include_cm=cm, exports=exports,
            print_url=url_for("ws_takeover.print_view", year=year), compound_page=shell.url("compound_page"),
            map_url=shell.url("map"), state_label=lambda st: t(f"ws_takeover.state.{st}", lang))

    @bp.get("/print")
    def print_view() -> str:
        """A printable shortlist of `year`: static map, table with score components, how each component is scored."""
        from geoplatform.store import read_frame
        from plugins.takeover.print_map import shortlist_svg

        allowed_user()
        year = year_arg()
        lang = webshell.lang()
        settings = _settings(context)
        with context.session(readonly=True) as s:
            rows, saved = print_rows(context, s, year, lang)
            cov = service.coverage(s, _served(context))
            streets = read_frame(s, "street", columns=["code", "name"])
        notes = component_notes(settings, lang)
        svg = shortlist_svg(context.compounds_frame(), streets, [r["compound_id"] for r in rows],
                            context.compound_attributes().get("takeover_candidate"))
        return render_template("takeover/print.html", rows=rows, saved=saved, year=year, components=notes,
                               coverage=cov, svg=svg, settings=settings, today=context.today.isoformat(),
                               back=url_for("ws_takeover.page", year=year))

    def solve(params: Any, save_as: tuple[Principal, int] | None) -> Response:
        lang = webshell.lang()
        with context.session(readonly=save_as is None) as s:
            data = service.choose(s, _settings(context), params, save_as=save_as, allowed=context.allowed)
        view = selection_view(context, data, params, lang)
        if save_as is not None:
            webshell.shell().refresh()
            saved = data["saved"]
            view["message"] = t("takeover.saved", lang, year=saved["year"], added=len(saved["shortlisted"]),
                                dropped=len(saved["dropped"]), kept=len(saved["kept_in_later_states"]))
            with context.session(readonly=True) as s:
                view["board"] = board(s, params.year, lang)
        return webshell.json_response(view)

    @bp.get("/select")
    @webshell.answers_json
    def select_view() -> Response:
        """The optimal set for the query's parameters beside the greedy baseline (nothing saved)."""
        allowed_user()
        return solve(service.parse_params(_args(request.args.to_dict()), _settings(context), context.today), None)

    @bp.post("/shortlist")
    def save() -> Response:
        """Solve with the body's parameters and save the set as the year's shortlist (保存为年度名单)."""
        user = allowed_user()
        params = service.parse_params(_args(webshell.json_body()), _settings(context), context.today)
        return solve(params, (user, params.year))

    @bp.post("/advance")
    def advance_view() -> Response:
        """Move {compound_id, state, year} one pipeline step; at serving the compound becomes state-owned."""
        user = allowed_user()
        body = webshell.json_body()
        cid, state, year = service.parse_advance(body, context.today)
        lang = webshell.lang()
        with context.session() as s:
            before = service.coverage(s, _served(context))
            result = service.advance(s, user, cid, state, year, _settings(context), allowed=context.allowed,
                                     **service.parse_contract_terms(body),
                                     **service.parse_tender_terms(body))
            s.flush()
            after = service.coverage(s, _served(context))
            cards = board(s, year, lang)
        webshell.shell().refresh()
        name = next((c["name"] for cards_ in cards.values() for c in cards_ if c["compound_id"] == cid), cid)
        message = t("takeover.moved", lang, name=name, year=year, frm=t(f"ws_takeover.state.{result['from']}", lang),
                    to=t(f"ws_takeover.state.{result['to']}", lang))
        if state == "serving":
            message += "；" + t("ws_takeover.served", lang, company=result["company"],
                               before=before["coverage_rate"] or 0, after=after["coverage_rate"] or 0)
        return webshell.json_response({**result, "coverage_before": before, "coverage": after, "message": message,
                                       "board": cards})

    return bp


# ---------------------------------------------------------------------------------------------
# The API


def api_blueprint(context: Any) -> Blueprint:
    """/api/v1/takeover: rank, select, shortlist (save), advance — the same parser and services as the workspace."""
    from plugins.takeover import service

    bp = Blueprint("takeover_api", __name__, url_prefix="/api/v1/takeover")

    def src() -> dict[str, Any]:
        return _args(webshell.json_body() if request.method == "POST" else request.args.to_dict())

    @bp.get("/rank")
    def rank() -> Response:
        """Candidates best first with components (as `geoplatform takeover rank --json`)."""
        webshell.require("view", {"kind": "takeover"})
        cm = service.parse_params({"include_community_managed": request.args.get("include_community_managed")},
                                  _settings(context), context.today).include_community_managed
        with context.session(readonly=True) as s:
            return webshell.json_response(service.rank_payload(s, _settings(context), cm))

    @bp.get("/select")
    def select_view() -> Response:
        """The optimal set for the query's parameters (nothing saved)."""
        webshell.require("view", {"kind": "takeover"})
        params = service.parse_params(src(), _settings(context), context.today)
        with context.session(readonly=True) as s:
            return webshell.json_response(service.choose(s, _settings(context), params, allowed=context.allowed))

    @bp.post("/shortlist")
    def save_view() -> Response:
        """Solve and save the year's shortlist (edit_takeover)."""
        params = service.parse_params(src(), _settings(context), context.today)
        user = webshell.require("edit_takeover", {"kind": "takeover", "year": params.year})
        with context.session() as s:
            data = service.choose(s, _settings(context), params, save_as=(user, params.year), allowed=context.allowed)
        return webshell.json_response(data)

    @bp.post("/advance")
    def advance_view() -> Response:
        """Move {compound_id, state, year} one pipeline step (edit_takeover); serving makes it state-owned."""
        user = webshell.require("view", {"kind": "takeover"})
        body = webshell.json_body()
        cid, state, year = service.parse_advance(body, context.today)
        with context.session() as s:
            result = service.advance(s, user, cid, state, year, _settings(context), allowed=context.allowed,
                                     **service.parse_contract_terms(body),
                                     **service.parse_tender_terms(body))
            result["coverage"] = service.coverage(s, _served(context))
        return webshell.json_response(result)

    return bp
