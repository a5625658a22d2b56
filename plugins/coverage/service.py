"""Database side of the coverage plugin: read compounds and streets, call the pure rules."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from geoplatform.models import Building, Compound, Street
from geoplatform.sqlin import in_values
from plugins.coverage.rules import coverage_kpis, units_frame, with_unit_kpis
from plugins.coverage.settings import settings_for


def kpi_report(context: Any, street: str | None = None) -> dict[str, Any]:
    """The KPI document of `geoplatform kpi` for the whole district (street rows limited to `street`): the
    per-compound figures, the unit figures (compounds + lone buildings, RULES §1) and the evidence split."""
    with context.session(readonly=True) as s:
        frame, lone, streets = read_units(s)
    frame = with_org_status(context, frame)
    evidence = served_evidence(context, frame["id"].tolist())
    frame["verified"] = [None if evidence is None else i in evidence for i in frame["id"]]
    settings = settings_for(context)
    report = coverage_kpis(frame, streets, settings, only=[street] if street else None)
    return with_unit_kpis(report, units_frame(frame, lone), settings, frame, evidence is not None)


def read_units(session: Any) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """(compounds, lone residential buildings (street filled from the street boundaries where missing), streets)."""
    rows = session.execute(select(Compound.id, Compound.street_code, Compound.management_mode, Compound.owners_org,
                                  Compound.households)).all()
    streets = [(code, name) for code, name in session.execute(select(Street.code, Street.name).order_by(Street.code))]
    frame = pd.DataFrame(rows, columns=["id", "street_code", "management_mode", "owners_org", "households"])
    return frame, lone_buildings(session), streets


def lone_buildings(session: Any) -> pd.DataFrame:
    """Buildings inside no compound (单体楼): id, street_code, households (a bundled one has its host's compound_id)."""
    lone = pd.DataFrame(session.execute(select(Building.id, Building.street_code, Building.households)
                                        .where(Building.compound_id.is_(None)).order_by(Building.id)).all(),
                        columns=["id", "street_code", "households"])
    if len(lone) and lone["street_code"].isna().any():
        from geoplatform.store import read_frame
        from geoplatform.streets import NoStreetPolygons, street_codes_at

        missing = lone[lone["street_code"].isna()]
        geoms = read_frame(session, "building", where=[in_values(Building.id, missing["id"].tolist())], columns=["id"])
        try:
            codes = dict(zip(geoms["id"], street_codes_at(session, list(geoms.geometry)), strict=True))
        except NoStreetPolygons:
            codes = {}
        lone["street_code"] = [c if c is not None else codes.get(i) for i, c in zip(lone["id"], lone["street_code"],
                                                                                    strict=True)]
    return lone


def served_evidence(context: Any, compound_ids: list[str]) -> dict[str, Any] | None:
    """{compound id: ServiceEvidence} of compounds with a contract in force as of context.today (the firms plugin
    through `served_evidence`), or None when no plugin keeps contracts."""
    from geoplatform.exchange import served_evidences

    return served_evidences(context, compound_ids) if compound_ids else {}


def org_statuses(context: Any, compound_ids: list[str]) -> dict[str, Any] | None:
    """{compound id: OrgStatus} from the plugin answering `owners_org_status` (RULES §6 records), or None."""
    from geoplatform.exchange import owners_org_statuses

    return owners_org_statuses(context, compound_ids)


def with_org_status(context: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (an `id` column or index of compound ids) with owners_org_counts / owners_org_known from the records;
    unchanged when no plugin answers (the rate then reads `compound.owners_org`)."""
    ids = frame["id"].tolist() if "id" in frame.columns else list(frame.index)
    statuses = org_statuses(context, ids) if ids else None
    if statuses is None:
        return frame
    out = frame.copy()
    out["owners_org_counts"] = [bool(statuses[i].counts) if i in statuses else False for i in ids]
    out["owners_org_known"] = [bool(statuses[i].known) if i in statuses else False for i in ids]
    out["owners_org_declared"] = [bool(statuses[i].declared) if i in statuses else False for i in ids]
    return out


def street_kpi_frame(context: Any, bbox: Any = None, street: str | None = None) -> Any:
    """Streets (geometry) with their KPIs as columns, for the street choropleth layer."""
    from layers.features import read_source

    report = context.memo("coverage.kpi_report", lambda: kpi_report(context),  # once per revision, not per bbox
                          recipe=("plugins.coverage.service:kpi_report", ()))
    kpis = pd.DataFrame(report["streets"]).set_index("code").drop(columns=["name"])
    frame = read_source(context, "streets", bbox=bbox, street=street)
    return frame.join(kpis, how="left")


# ------------------------------------------------------------------------------------------ path to target

def _unit_state(frame: pd.DataFrame, lone: pd.DataFrame, settings: Any) -> tuple[pd.DataFrame, Any]:
    from plugins.coverage.projection import initial_state
    from plugins.coverage.rules import mode_known, served_mask

    units = units_frame(frame, lone)
    if not len(units):
        return units, {}
    state = initial_state(zip(units["key"], units["street_code"], served_mask(units, settings), mode_known(units),
                              strict=True))
    return units, state


def projection_report(context: Any, street: str | None = None) -> dict[str, Any]:
    """`geoplatform kpi projection` (DESIGN.md): the district and each street at each milestone (RULES §1 "Path
    to target"), with the changes behind each street's figures and its unknowns to verify; `street` limits the
    street rows (the district stays whole). Contracts are judged as of `context.today`."""
    from geoplatform.exchange import collect_projection_changes
    from plugins.coverage.projection import figures, project, source_summary
    from plugins.coverage.settings import milestone_days

    settings = settings_for(context)
    with context.session(readonly=True) as s:
        frame, lone, streets = read_units(s)
        changes = collect_projection_changes(context, s)
    units, state = _unit_state(frame, lone, settings)
    doc = project(state, changes, milestone_days(settings), [c for c, _ in streets], settings.target_coverage)
    kpis = {r["code"]: r for r in kpi_report(context)["streets"]}
    names = dict(streets)
    unknown = units[units["management_mode"] == "unknown"] if len(units) else units
    rows = []
    for row in doc["streets"]:
        code = row["street_code"]
        if street is not None and code != street:
            continue
        k = kpis.get(code, {})
        rows.append({"street_code": code, "name": names.get(code), "now": figures(state, settings.target_coverage, code),
                     **row, "sources": source_summary(row["changes"]),
                     "unknown_units": sorted(unknown.loc[unknown["street_code"] == code, "key"].tolist()),
                     "owners_org": {"rate": k.get("owners_org_rate"), "gap": k.get("owners_org_needed_for_target"),
                                    "target": settings.target_owners_org}})
    return {"today": context.today.isoformat(), "target": settings.target_coverage,
            "target_owners_org": settings.target_owners_org, "now": figures(state, settings.target_coverage),
            "milestones": doc["milestones"], "streets": rows}


def plan_report(context: Any, street: str | None = None, budget: float | None = None) -> dict[str, Any]:
    """`geoplatform kpi plan`: the least-cost actions closing the gap of every street that misses the target at
    the last milestone (plugins.coverage.planner); `street` limits the street rows, the plan stays one."""
    import dataclasses
    import math

    from geoplatform.errors import UserInputError
    from geoplatform.exchange import collect_plan_actions, collect_projection_changes
    from plugins.coverage.planner import plan
    from plugins.coverage.projection import figures, state_at
    from plugins.coverage.settings import milestone_days

    if budget is not None and (not math.isfinite(budget) or budget < 0):
        raise UserInputError("coverage.error.budget", budget=budget)
    settings = settings_for(context)
    with context.session(readonly=True) as s:
        frame, lone, streets = read_units(s)
        changes = collect_projection_changes(context, s)
        actions = collect_plan_actions(context, s)
    defaults = {"bundle": settings.bundle_action_cost, "renewal": settings.renewal_action_cost}
    actions = [dataclasses.replace(a, cost=defaults[a.kind]) if a.cost is None and a.kind in defaults else a
               for a in actions]
    _, state = _unit_state(frame, lone, settings)
    milestone = milestone_days(settings)[-1]
    projected, _ = state_at(state, changes, milestone)
    codes = [c for c, _ in streets]
    missing = [c for c in codes if figures(projected, settings.target_coverage, c)["gap"] > 0]
    doc = plan(state, changes, actions, missing, settings.target_coverage, milestone, budget)
    names = dict(streets)
    doc["streets"] = [{**r, "name": names.get(r["street_code"])} for r in doc["streets"]
                      if street is None or r["street_code"] == street]
    doc["today"] = context.today.isoformat()
    return doc
