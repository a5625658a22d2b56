"""Per-compound governance attributes and the three map layers: open problems, pilot communities, overdue mediations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geoplatform.i18n import t
from layers.spec import LayerSpec, Legend, PopupField, StyleRule
from plugins.governance import rules
from plugins.governance.settings import GovernanceSettings

SRID = 4326
COLUMNS = ("governance_problem_class", "governance_problem_label", "governance_open_problems",
           "governance_categories", "governance_mediation_overdue", "governance_mediation_stage",
           "governance_mediation_label")


def attributes_frame(compound_ids: Iterable[str], problems: Iterable[Mapping[str, Any]],
                     mediations: Iterable[Mapping[str, Any]], escalated: set[str], today: dt.date,
                     settings: GovernanceSettings) -> pd.DataFrame:
    """One row per compound: worst open problem class (and its label), open problems, their categories, the
    number of overdue mediation stages and the latest stage among them."""
    classes: dict[str, list[str | None]] = defaultdict(list)
    categories: dict[str, set[str]] = defaultdict(set)
    for p in problems:
        cls = rules.problem_class(p, today)
        if cls is not None:
            classes[p["compound_id"]].append(cls)
            categories[p["compound_id"]].add(p["category"])
    overdue: dict[str, list[str]] = defaultdict(list)
    for x in mediations:
        if rules.mediation_status(x, x["id"] in escalated, today, settings).overdue:
            overdue[x["compound_id"]].append(x["stage"])
    records = []
    ids = list(compound_ids)
    for cid in ids:
        worst = rules.worst_class(classes.get(cid, ()))
        stages = overdue.get(cid, [])
        stage = max(stages, key=rules.STAGES.index) if stages else None
        records.append({
            "governance_problem_class": worst,
            "governance_problem_label": t(f"problem_class.{worst}") if worst else None,
            "governance_open_problems": len(classes.get(cid, ())),
            "governance_categories": "、".join(t(f"problem_category.{c}") for c in sorted(categories.get(cid, ())))
            or None,
            "governance_mediation_overdue": len(stages),
            "governance_mediation_stage": stage,
            "governance_mediation_label": t(f"mediation_stage.{stage}") if stage else None,
        })
    return pd.DataFrame.from_records(records, index=pd.Index(ids, name=None), columns=list(COLUMNS))


def compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """The compute_compound_attributes hook: reads the ledger and mediations, calls attributes_frame."""
    from plugins.governance import service
    from plugins.governance.settings import settings_for

    with context.session(readonly=True) as s:
        problems, meds, escalated = service.map_records(s)
    return attributes_frame([str(i) for i in compounds.index], problems, meds, escalated, context.today,
                            settings_for(context))


def pilot_frame(context: Any, bbox: Any = None, street: str | None = None) -> gpd.GeoDataFrame:
    """The pilot communities of the latest pilot year up to today: the community's outline, or — ledgers
    rarely carry one — the hull around its compounds (a little buffered)."""
    from sqlalchemy import func, select

    from geoplatform import models as m
    from geoplatform.models.governance import Pilot
    from plugins.governance import service
    from plugins.governance.settings import settings_for

    settings = settings_for(context)
    today = context.today
    rows: list[dict[str, Any]] = []
    with context.session(readonly=True) as s:
        year = s.scalar(select(func.max(Pilot.year)).where(Pilot.year <= today.year))
        if year is None:
            return _empty_pilots()
        scope = service.Scope(street_code=street) if street else service.Scope()
        rec = service.load(s, scope)
        pilots = [p for p in service.pilot_rows(rec, today, settings) if p["year"] == year]
        codes = [p["community_code"] for p in pilots]
        geoms = {c: shapely.from_wkb(bytes(g)) for c, g in s.execute(
            select(m.Community.code, func.ST_AsBinary(m.Community.geom))
            .where(m.Community.code.in_(codes), m.Community.geom.is_not(None)))} if codes else {}
        parts: dict[str, list[Any]] = defaultdict(list)
        if codes:
            for code, b, loc in s.execute(select(m.Compound.community_code, func.ST_AsBinary(m.Compound.boundary),
                                                 func.ST_AsBinary(m.Compound.location))
                                          .where(m.Compound.community_code.in_(codes))):
                parts[code].append(shapely.from_wkb(bytes(b if b is not None else loc)))
    for p in pilots:
        code = p["community_code"]
        geom = geoms.get(code)
        if geom is None and parts.get(code):
            geom = shapely.convex_hull(shapely.union_all(parts[code])).buffer(0.0008)
        if geom is None:
            continue
        status = "short" if p["findings"] else ("ok" if p["year_ended"] else "progress")
        rows.append({"id": f"{p['year']}-{code}", "community_code": code, "name": p.get("community_name") or code,
                     "street_name": p.get("street_name"), "year": p["year"], "pilot_status": status,
                     "pilot_meetings": "/".join(str(n) for n in p["meetings"]),
                     "pilot_cases": f"{p['cases']}/{settings.pilot_min_cases}", "geometry": geom})
    if not rows:
        return _empty_pilots()
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=SRID)
    frame.index = pd.Index(frame["id"].to_numpy(), name=None)
    if bbox is not None:
        frame = frame[frame.intersects(shapely.box(*bbox))]
    return frame


def _empty_pilots() -> gpd.GeoDataFrame:
    cols = ["id", "community_code", "name", "street_name", "year", "pilot_status", "pilot_meetings", "pilot_cases"]
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=SRID), crs=SRID)


def _rule(settings: GovernanceSettings, color_key: str, enum: str, value: str) -> StyleRule:
    from geoplatform.labels import label

    return StyleRule(color=settings.colors[color_key], label_zh=label(enum, value, "zh"), label_en=label(enum, value, "en"),
                     value=value)


def layer_specs(settings: GovernanceSettings) -> list[LayerSpec]:
    """Open problems (compound colour by the worst), pilot communities, overdue mediations."""
    group = t("governance.layer.group")
    problems = LayerSpec(
        id="governance_problems", title_zh=t("governance.layer.problems"), title_en=t("governance.layer.problems", "en"),
        source="compounds", group=group,
        legend=Legend("governance_problem_class", rules=tuple(_rule(settings, c, "problem_class", c)
                                                              for c in rules.PROBLEM_CLASSES)),
        popup=(PopupField("name", t("governance.col.compound"), t("governance.col.compound", "en")),
               PopupField("governance_problem_label", t("governance.popup.worst"), t("governance.popup.worst", "en")),
               PopupField("governance_open_problems", t("governance.popup.open"), t("governance.popup.open", "en")),
               PopupField("governance_categories", t("governance.popup.categories"),
                          t("governance.popup.categories", "en"))),
        tooltip=(PopupField("governance_problem_label", t("governance.popup.worst"), t("governance.popup.worst", "en")),),
        where=_not_null("governance_problem_class"))
    pilots = LayerSpec(
        id="governance_pilots", title_zh=t("governance.layer.pilots"), title_en=t("governance.layer.pilots", "en"),
        source="custom", group=group, loader=pilot_frame,
        legend=Legend("pilot_status", rules=(
            StyleRule(settings.colors["pilot"], t("governance.pilot.ok"), t("governance.pilot.ok", "en"), value="ok"),
            StyleRule(settings.colors["pilot_progress"], t("governance.pilot.progress"),
                      t("governance.pilot.progress", "en"), value="progress"),
            StyleRule(settings.colors["overdue"], t("governance.pilot.short"), t("governance.pilot.short", "en"),
                      value="short"))),
        popup=(PopupField("name", t("governance.popup.community"), t("governance.popup.community", "en")),
               PopupField("street_name", t("governance.col.street"), t("governance.col.street", "en")),
               PopupField("year", t("governance.popup.pilot"), t("governance.popup.pilot", "en")),
               PopupField("pilot_meetings", t("governance.col.meetings"), t("governance.col.meetings", "en")),
               PopupField("pilot_cases", t("governance.col.cases"), t("governance.col.cases", "en"))),
        tooltip=(PopupField("name", t("governance.popup.community"), t("governance.popup.community", "en")),))
    mediations = LayerSpec(
        id="governance_mediations", title_zh=t("governance.layer.mediations"),
        title_en=t("governance.layer.mediations", "en"), source="compounds", group=group,
        legend=Legend("governance_mediation_stage", rules=tuple(_rule(settings, f"mediation_{s}", "mediation_stage", s)
                                                                for s in rules.STAGES)),
        popup=(PopupField("name", t("governance.col.compound"), t("governance.col.compound", "en")),
               PopupField("governance_mediation_label", t("governance.popup.stage"), t("governance.popup.stage", "en")),
               PopupField("governance_mediation_overdue", t("governance.popup.overdue"),
                          t("governance.popup.overdue", "en"))),
        tooltip=(PopupField("governance_mediation_label", t("governance.popup.stage"), t("governance.popup.stage", "en")),),
        where=_positive("governance_mediation_overdue"))
    return [problems, pilots, mediations]


def _not_null(col: str):  # noqa: ANN202
    def predicate(frame: pd.DataFrame) -> pd.Series:
        return frame[col].notna() if col in frame else pd.Series(False, index=frame.index)

    return predicate


def _positive(col: str):  # noqa: ANN202
    def predicate(frame: pd.DataFrame) -> pd.Series:
        return frame[col].fillna(0) > 0 if col in frame else pd.Series(False, index=frame.index)

    return predicate
