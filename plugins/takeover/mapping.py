"""Per-compound takeover attributes, the two map layers and the board-meeting exporter."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplatform.labels import label
from layers.spec import Exporter, LayerSpec, Legend, PopupField, StyleRule
from plugins.takeover import service
from plugins.takeover.rules import tender_mode
from plugins.takeover.settings import COMPONENTS, TakeoverSettings, load_settings


def settings_for(context: Any) -> TakeoverSettings:
    """The plugin's settings with the context's `[rules.takeover]` overrides."""
    return load_settings(context.rules("takeover"))


def compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """takeover_candidate / _score / _state (+ rank, tender mode, component points) per compound id."""
    settings = settings_for(context)
    ids = pd.Index(compounds["id"] if "id" in compounds else compounds.index)
    with context.session(readonly=True) as s:
        scored = service.per_compound(service.rank(s, settings))
        states = service.latest_states(s)
    out = pd.DataFrame(index=ids)
    out["takeover_candidate"] = ids.isin(scored.index)
    out["takeover_score"] = scored["score"].reindex(ids).astype(float)
    out["takeover_rank"] = pd.Series(np.arange(1, len(scored) + 1), index=scored.index).reindex(ids).astype("Int64")
    state = states["state"].reindex(ids) if len(states) else pd.Series(None, index=ids, dtype=object)
    state = state.where(state.notna(), np.where(out["takeover_candidate"], "candidate", None))
    out["takeover_state"] = state.astype(object).where(state.notna(), None)
    out["takeover_state_label"] = out["takeover_state"].map(lambda v: label("takeover_state", v) if v else None)
    out["takeover_selected"] = out["takeover_state"].isin(service.ACTIVE_STATES)
    mode = scored["tender_mode"].reindex(ids)
    out["takeover_tender_mode"] = mode
    out["takeover_tender_mode_label"] = mode.map(lambda v: label("tender_mode", v) if isinstance(v, str) else None)
    weights = settings.weights()
    for c in COMPONENTS:
        out[f"takeover_pts_{c}"] = (scored[f"c_{c}"] * weights[c]).round(1).reindex(ids)
    return out


SCORE_CLASSES = (  # graduated legend of the candidate score (0–100)
    StyleRule("#fee5d9", "< 40 分", "< 40", min=0, max=40),
    StyleRule("#fcae91", "40–55 分", "40–55", min=40, max=55),
    StyleRule("#fb6a4a", "55–70 分", "55–70", min=55, max=70),
    StyleRule("#cb181d", "≥ 70 分", "≥ 70", min=70, max=100.01),
)
STATE_COLOURS = {"shortlisted": "#2171b5", "tendering": "#6a51a3", "contracted": "#238b45", "serving": "#00441b"}


def _component_popup() -> tuple[PopupField, ...]:
    from plugins.takeover.messages import COMPONENT

    return tuple(PopupField(f"takeover_pts_{c}", f"{COMPONENT[c][0]}（分）", f"{COMPONENT[c][1]} (points)")
                 for c in COMPONENTS)


def _is_candidate(frame: pd.DataFrame) -> pd.Series:
    return frame["takeover_candidate"].fillna(False).astype(bool)


def _is_selected(frame: pd.DataFrame) -> pd.Series:
    return frame["takeover_selected"].fillna(False).astype(bool)


def layers() -> list[LayerSpec]:
    """Candidates coloured by score; shortlisted/served compounds highlighted on a second layer."""
    base_popup = (
        PopupField("name", "小区", "compound"),
        PopupField("takeover_score", "兜底得分（0–100）", "takeover score (0–100)"),
        PopupField("takeover_rank", "排名", "rank"),
        PopupField("takeover_state_label", "进度", "pipeline state"),
        PopupField("takeover_tender_mode_label", "选聘方式", "tender mode"),
        PopupField("takeover_cost", "预计年补贴（万元）", "estimated annual subsidy (10k CNY)"),
        PopupField("floor_area_m2", "建筑面积（㎡）", "floor area (m²)"),
    )
    return [
        LayerSpec(id="takeover_candidates", title_zh="国企兜底候选小区（按得分）",
                  title_en="State takeover candidates (by score)", source="compounds", group="国企兜底",
                  legend=Legend("takeover_score", "graduated", SCORE_CLASSES),
                  popup=base_popup + _component_popup(),
                  tooltip=(PopupField("name", "小区", "compound"), PopupField("takeover_score", "得分", "score")),
                  where=_is_candidate),
        LayerSpec(id="takeover_shortlist", title_zh="国企兜底入围/进驻小区", title_en="State takeover shortlist / served",
                  source="compounds", group="国企兜底",
                  legend=Legend("takeover_state", "categorical", tuple(
                      StyleRule(colour, label("takeover_state", st), label("takeover_state", st, "en"), value=st)
                      for st, colour in STATE_COLOURS.items())),
                  popup=base_popup, tooltip=(PopupField("name", "小区", "compound"),
                                             PopupField("takeover_state_label", "进度", "state")),
                  where=_is_selected),
    ]


HEADERS = {  # export column → Chinese header
    "year": "年度", "compound_id": "小区编号", "name": "小区名称", "street_name": "街镇", "state": "进度",
    "score": "兜底得分(0-100)", "takeover_cost": "预计年补贴(万元)", "tender_mode": "选聘方式",
    "floor_area_m2": "建筑面积(㎡)", "households_n": "户数", "build_year": "建成年份", "neighbours": "500米内邻近小区数",
}


def shortlist_frame(context: Any, street: str | None = None) -> gpd.GeoDataFrame:
    """The latest year's shortlist (or, if none is saved, the default optimal selection marked 建议) with Chinese headers."""
    from plugins.takeover.messages import COMPONENT

    settings = settings_for(context)
    with context.session(readonly=True) as s:
        compounds, _ = service.load_inputs(s)
        names = service.street_names(s)
        rows = service.latest_states(s)
        active = rows[rows["state"].isin(service.ACTIVE_STATES)] if len(rows) else rows
        if len(active):
            year = int(active["year"].max())
            active = active[active["year"] == year]
            ids = list(active.index)
            state = active["state"].map(lambda v: label("takeover_state", v)).to_dict()
            # score in the pool the shortlist was chosen from (with or without 社区代管)
            wide = any(isinstance(p, dict) and p.get("include_community_managed") for p in active["parameters"])
            scored = service.per_compound(service.rank(s, settings, include_community_managed=wide))
        else:
            sel, scored = service.run_selection(s, settings, settings.select_min, settings.select_max)
            ids = [c for uid in sel.selected for c in scored.at[uid, "members"]]
            scored = service.per_compound(scored)
            year = context.today.year
            state = {cid: "建议（未保存）" for cid in ids}
    base = compounds.set_index(compounds["id"], drop=False)
    frame = pd.DataFrame({"compound_id": ids})
    frame["year"] = year
    frame["name"] = base["name"].reindex(ids).to_numpy()
    frame["street"] = base["street_code"].reindex(ids).to_numpy()
    frame["street_name"] = frame["street"].map(lambda c: names.get(c, c))
    frame["state"] = frame["compound_id"].map(state)
    sc = scored.reindex(ids)
    for col in ("score", "takeover_cost", "floor_area_m2", "households_n", "build_year", "neighbours"):
        frame[col] = sc[col].to_numpy()
    if len(active):  # compounds already served left the pool: show the score saved with the shortlist
        frame["score"] = frame["score"].fillna(frame["compound_id"].map(active["score"]))
        for col, src in (("takeover_cost", "takeover_cost"), ("floor_area_m2", "floor_area_m2"),
                         ("households_n", "households"), ("build_year", "build_year")):
            frame[col] = frame[col].fillna(frame["compound_id"].map(base[src]))
    frame["tender_mode"] = tender_mode(frame["floor_area_m2"], settings).map(lambda v: label("tender_mode", v))
    weights = settings.weights()
    for c in COMPONENTS:
        frame[f"pts_{c}"] = (sc[f"c_{c}"] * weights[c]).round(1).to_numpy()
    if street:
        frame = frame[frame["street"] == street]
    frame = frame.sort_values("score", ascending=False)
    geom = gpd.GeoSeries(base.geometry.reindex(frame["compound_id"]).to_numpy(), crs=4326)
    loc = gpd.GeoSeries(base["location"].reindex(frame["compound_id"]).to_numpy(), crs=4326)
    geom = geom.where(geom.notna() & ~geom.is_empty, loc)
    headers = {**HEADERS, **{f"pts_{c}": f"{COMPONENT[c][0]}(满分{weights[c]:g})" for c in COMPONENTS}}
    frame = frame.drop(columns=["street"]).rename(columns=headers)
    order = [headers[k] for k in ("year", "compound_id", "name", "street_name", "state", "score")] + \
            [headers[f"pts_{c}"] for c in COMPONENTS] + \
            [headers[k] for k in ("takeover_cost", "tender_mode", "floor_area_m2", "households_n", "build_year",
                                  "neighbours")]
    return gpd.GeoDataFrame(frame[order].reset_index(drop=True), geometry=geom.to_numpy(), crs=4326)


def export_shortlist(context: Any, fmt: str, path: str, street: str | None = None) -> int:
    """Write the shortlist as xlsx / csv (no geometry) or GeoJSON; returns the row count."""
    frame = shortlist_frame(context, street)
    if fmt == "geojson":
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    elif fmt == "csv":
        pd.DataFrame(frame.drop(columns="geometry")).to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        pd.DataFrame(frame.drop(columns="geometry")).to_excel(path, index=False, sheet_name="国企兜底入围名单")
    else:  # pragma: no cover - the CLI checks formats first
        raise ValueError(f"unsupported format {fmt}")
    return len(frame)


def exporters() -> list[Exporter]:
    """The board-meeting shortlist export."""
    return [Exporter(name="takeover-shortlist", title_zh="国企兜底入围名单（含得分构成）",
                     title_en="State takeover shortlist (with score components)",
                     formats=("xlsx", "geojson", "csv"), function=export_shortlist, permission="export")]
