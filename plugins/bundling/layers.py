"""The bundling map layers (orphans, proposed links, hosts, new bundles) and per-compound attributes."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from geoplatform.labels import label
from layers.spec import LayerSpec, Legend, PopupField, StyleRule
from plugins.bundling import service

STATUS_COLOURS = {"proposed": "#ff7f00", "new_bundle": "#6a3d9a", "unmatched": "#e31a1c"}
KIND_COLOURS = {"building": "#b15928", "compound": "#1f78b4"}
WGS84 = "EPSG:4326"


def _ids_text(ids: Any) -> str:
    return "、".join(str(i) for i in ids)


def _filter(frame: gpd.GeoDataFrame, bbox: Any, street: str | None, street_col: str) -> gpd.GeoDataFrame:
    if street is not None:
        frame = frame[frame[street_col] == street]
    if bbox is not None and len(frame):
        frame = frame.iloc[np.sort(frame.sindex.query(box(*bbox), predicate="intersects"))]
    return frame


def orphans_frame(context: Any, bbox: Any = None, street: str | None = None) -> gpd.GeoDataFrame:
    """Every orphan with its outcome, the proposal's host, distance, merged area and households."""
    plan = service.cached_plan(context)
    o = plan.orphans.copy()
    p = plan.proposals.set_index("id")
    pid = o["proposal_id"]
    for col in ("host_compound_id", "distance_m", "merged_floor_area_m2", "merged_households"):
        o[col] = pid.map(p[col]) if len(p) else None
    o["kind_label"] = [label("orphan_kind", v) for v in o["orphan_kind"]]
    o["status_label"] = [label("orphan_status", v) for v in o["status"]]
    o["orphan_reason_label"] = [label("orphan_reason", v) for v in o["orphan_reason"]]
    o["reason_label"] = [label("bundle_reason", v) if isinstance(v, str) else None for v in o["reason"]]
    o.index = pd.Index(o["orphan_kind"] + ":" + o["orphan_id"], name=None)
    return _filter(o, bbox, street, "street_code")


def links_frame(context: Any, bbox: Any = None, street: str | None = None) -> gpd.GeoDataFrame:
    """One line per proposed orphan to its host, with its proposal's distance, merged area and households."""
    plan = service.cached_plan(context)
    lines = plan.links()
    p = plan.proposals.set_index("id")
    for col in ("street", "merged_floor_area_m2", "merged_households", "within_preferred_area"):
        lines[col] = lines["proposal_id"].map(p[col]) if len(p) else None
    lines["proposal_distance_m"] = lines["proposal_id"].map(p["distance_m"]) if len(p) else None
    lines["orphans_text"] = lines["proposal_id"].map(p["orphan_ids"].map(_ids_text)) if len(p) else None
    lines["kind_label"] = [label("orphan_kind", v) for v in lines["orphan_kind"]]
    lines.index = pd.Index(lines["orphan_kind"] + ":" + lines["orphan_id"], name=None)
    lines = lines.set_geometry(_drawable(lines.geometry.to_numpy(), lines["host_compound_id"], plan.hosts))
    return _filter(lines, bbox, street, "street")


MIN_LINK_DEG = 1e-6  # ≈ 0.1 m: a shorter link is not a line a map or a GIS client can draw


def _drawable(lines: np.ndarray, host_ids: pd.Series, hosts: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Links without zero-length lines: an orphan inside its host (a point-only compound, an overlap) gets
    a line from its point to a point inside the host instead; a link still shorter than MIN_LINK_DEG has
    no geometry (its attributes stay)."""
    out = np.asarray(lines, dtype=object).copy()
    short = ~shapely.is_missing(out) & (shapely.length(out) < MIN_LINK_DEG)
    if short.any():
        inside = pd.Series(shapely.point_on_surface(hosts.geometry.to_numpy()), index=hosts["host_compound_id"])
        ends = inside.reindex(host_ids.to_numpy()[short]).to_numpy()
        starts = shapely.get_point(out[short], 0)
        redrawn = np.array([shapely.linestrings([[a.x, a.y], [b.x, b.y]]) if a is not None and b is not None else None
                            for a, b in zip(starts, ends, strict=True)], dtype=object)
        still = shapely.is_missing(redrawn) | (shapely.length(redrawn) < MIN_LINK_DEG)
        redrawn[still] = None
        out[short] = redrawn
    return gpd.GeoSeries(out, index=host_ids.index, crs=WGS84)


def hosts_frame(context: Any, bbox: Any = None, street: str | None = None) -> gpd.GeoDataFrame:
    """Host compounds that received proposals, with the area and households if every proposal were accepted."""
    plan = service.cached_plan(context)
    h = plan.hosts.copy()
    p = plan.proposals
    add_area = p.groupby("host_compound_id")["orphan_floor_area_m2"].sum()
    add_hh = p.groupby("host_compound_id")["orphan_households"].sum()
    h["all_merged_floor_area_m2"] = h["floor_area_m2"] + h["host_compound_id"].map(add_area).fillna(0.0)
    h["all_merged_households"] = (h["households"] + h["host_compound_id"].map(add_hh).fillna(0)).astype(int)
    h["mode_label"] = [label("management_mode", v) for v in h["management_mode"]]
    h.index = pd.Index(h["host_compound_id"], name=None)
    return _filter(h, bbox, street, "street_code")


def new_bundles_frame(context: Any, bbox: Any = None, street: str | None = None) -> gpd.GeoDataFrame:
    """Outlines (convex hulls) of orphan groups large enough to be managed on their own."""
    plan = service.cached_plan(context)
    b = plan.new_bundles.copy()
    b["orphans_text"] = [_ids_text(v) for v in b["orphan_ids"]]
    b["orphan_count"] = [len(v) for v in b["orphan_ids"]]
    b = b.drop(columns="orphan_ids")
    b.index = pd.Index(b["id"], name=None)
    return _filter(b, bbox, street, "street")


FIGURES = (
    PopupField("distance_m", "边界间距（米）", "distance edge to edge (m)"),
    PopupField("merged_floor_area_m2", "合并后建筑面积（㎡）", "merged floor area (m²)"),
    PopupField("merged_households", "合并后户数", "merged households"),
)


def layers() -> list[LayerSpec]:
    """Orphans by outcome, proposed links, hosts and new bundles (group 打包管理)."""
    group = "打包管理"
    return [
        LayerSpec(
            id="bundling_orphans", title_zh="单体楼栋与小规模小区", title_en="Orphan buildings and under-scale compounds",
            source="custom", group=group, loader=orphans_frame,
            legend=Legend("status", "categorical", tuple(
                StyleRule(colour, label("orphan_status", st), label("orphan_status", st, "en"), value=st)
                for st, colour in STATUS_COLOURS.items())),
            popup=(PopupField("orphan_id", "编号", "id"), PopupField("kind_label", "类型", "kind"),
                   PopupField("orphan_reason_label", "认定原因", "why an orphan"),
                   PopupField("floor_area_m2", "建筑面积（㎡）", "floor area (m²)"),
                   PopupField("households", "户数", "households"),
                   PopupField("status_label", "打包情况", "outcome"),
                   PopupField("host_compound_id", "建议并入小区", "proposed host"), *FIGURES,
                   PopupField("reason_label", "未能打包原因", "why unmatched"),
                   PopupField("nearest_host_distance_m", "最近专业化小区（米）", "nearest host (m)")),
            tooltip=(PopupField("orphan_id", "编号", "id"), PopupField("status_label", "打包情况", "outcome"))),
        LayerSpec(
            id="bundling_links", title_zh="打包建议（并入连线）", title_en="Bundling proposals (links to hosts)",
            source="custom", group=group, loader=links_frame,
            legend=Legend("orphan_kind", "categorical", tuple(
                StyleRule(colour, label("orphan_kind", k), label("orphan_kind", k, "en"), value=k)
                for k, colour in KIND_COLOURS.items())),
            popup=(PopupField("proposal_id", "建议编号", "proposal"), PopupField("kind_label", "类型", "kind"),
                   PopupField("orphan_id", "楼栋/小区", "orphan"), PopupField("orphans_text", "同一建议", "same proposal"),
                   PopupField("host_compound_id", "并入小区", "host compound"), *FIGURES),
            tooltip=(PopupField("proposal_id", "建议编号", "proposal"),
                     PopupField("distance_m", "间距（米）", "distance (m)"))),
        LayerSpec(
            id="bundling_hosts", title_zh="承接打包的专业化物业小区", title_en="Host compounds of bundling proposals",
            source="custom", group=group, loader=hosts_frame,
            legend=Legend("management_mode", "categorical", (
                StyleRule("#33a02c", label("management_mode", "professional"),
                          label("management_mode", "professional", "en"), value="professional"),
                StyleRule("#005a32", label("management_mode", "state_owned"),
                          label("management_mode", "state_owned", "en"), value="state_owned"))),
            popup=(PopupField("host_compound_id", "小区编号", "compound"), PopupField("mode_label", "管理方式", "mode"),
                   PopupField("proposals", "打包建议数", "proposals"),
                   PopupField("floor_area_m2", "现管理面积（㎡）", "managed floor area (m²)"),
                   PopupField("households", "现户数", "households"),
                   PopupField("all_merged_floor_area_m2", "全部并入后面积（㎡）", "floor area if all accepted (m²)"),
                   PopupField("all_merged_households", "全部并入后户数", "households if all accepted")),
            tooltip=(PopupField("host_compound_id", "小区编号", "compound"),
                     PopupField("proposals", "打包建议数", "proposals"))),
        LayerSpec(
            id="bundling_new_bundles", title_zh="可组成的新管理区域", title_en="Possible new management areas",
            source="custom", group=group, loader=new_bundles_frame,
            legend=Legend("street", "categorical", (), default_color=STATUS_COLOURS["new_bundle"]),
            popup=(PopupField("id", "编号", "id"), PopupField("orphans_text", "楼栋/小区", "orphans"),
                   PopupField("orphan_count", "数量", "count"),
                   PopupField("floor_area_m2", "建筑面积（㎡）", "floor area (m²)"),
                   PopupField("households", "户数", "households")),
            tooltip=(PopupField("id", "编号", "id"), PopupField("floor_area_m2", "建筑面积（㎡）", "floor area (m²)"))),
    ]


def compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """bundling_orphan, bundling_status, bundling_host_of, bundling_proposal_id, bundling_managed_by per compound."""
    ids = pd.Index(compounds["id"] if "id" in compounds else compounds.index)
    plan = service.cached_plan(context)
    o = plan.orphans[plan.orphans["orphan_kind"] == "compound"].set_index("orphan_id")
    out = pd.DataFrame(index=ids)
    out["bundling_orphan"] = ids.isin(o.index)
    out["bundling_status"] = o["status"].reindex(ids).astype(object).where(lambda s: s.notna(), None)
    out["bundling_proposal_id"] = o["proposal_id"].reindex(ids).astype(object).where(lambda s: s.notna(), None)
    counts = plan.proposals.groupby("host_compound_id").size()
    out["bundling_host_of"] = counts.reindex(ids).fillna(0).astype(int)
    if "managed_by_id" in compounds:
        managed = pd.Series(compounds["managed_by_id"].to_numpy(), index=ids)
        out["bundling_managed_by"] = managed.astype(object).where(managed.notna(), None)
    return out
