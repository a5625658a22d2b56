"""Export a table, a layer or a plugin's named export to a file: `export_to_file`, the one export function.

The CLI (`geoplatform export`) and HTTP (`GET /api/v1/export/<name>`) both call `export_to_file`,
so the same bad input gets the same answer: a `UserInputError` (`NotFound` for an unknown export or
street) that the CLI shows as exit 2 and HTTP as 400/404, with the same message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from geoplatform.errors import NotFound, UserInputError
from geoplatform.i18n import add_messages
from geoplatform.models import Base
from geoplatform.store import model_for, read_frame

EXPORTABLE_TABLES = ("district", "street", "community", "compound", "building", "garage", "handover",
                     "ledger_item", "property_company", "barrier", "bundle_proposal", "takeover_selection")

# a table whose rows belong to another's data for the read rules (docs/security.md); others are their own name
TABLE_DATA = {"ledger_item": "handover"}

add_messages({
    "zh": {
        "export.unknown": "未知的导出项“{name}”；可选：{choices}",
        "export.format.unknown": "未知的导出格式“{fmt}”；可选：{choices}",
        "export.format.unsupported": "导出项 {name} 只支持 {formats} 格式，不支持 {fmt}",
        "export.folder.missing": "{output}：文件夹 {folder} 不存在",
        "export.write_failed": "{output}：无法写入文件：{reason}",
        "export.output.exists": "{output} 已存在：请换一个文件名，或加 --overwrite 替换整个文件（其中的所有图层）",
        "export.no_geometry": "{table} 没有几何数据：请导出为 csv 或 xlsx，而不是 shapefile",
        "export.shp.mixed": "{name} 混有多种几何类型（{kinds}），shapefile 只能存一种：请导出为 gpkg、geojson、csv 或 xlsx",
        "export.xlsx_cell": "{table} 有一个几何对象超过 Excel 单元格的容量（{limit} 个字符）：请导出为 gpkg、geojson 或 shp",
    },
    "en": {
        "export.unknown": "unknown export {name!r}; choose one of: {choices}",
        "export.format.unknown": "unknown export format {fmt!r}; choose one of: {choices}",
        "export.format.unsupported": "export {name} supports {formats}, not {fmt}",
        "export.folder.missing": "{output}: folder {folder} does not exist",
        "export.write_failed": "{output}: cannot write the file: {reason}",
        "export.output.exists": "{output} exists: choose another name, or add --overwrite to replace the whole file "
                                "(every layer in it)",
        "export.no_geometry": "{table} has no geometry: export it as csv or xlsx, not as a shapefile",
        "export.shp.mixed": "{name} mixes geometry types ({kinds}) and a shapefile holds one: "
                            "export as gpkg, geojson, csv or xlsx",
        "export.xlsx_cell": "a {table} geometry is longer than an Excel cell holds ({limit} characters): "
                            "export as gpkg, geojson or shp",
    },
})


@dataclass(frozen=True)
class ExportTarget:
    """What an export name stands for: a plugin's exporter, a table, or a map layer (exactly one is set)."""

    name: str
    exporter: Any = None  # layers.spec.Exporter
    table: str | None = None
    layer: Any = None  # layers.spec.LayerSpec

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats this export can be written in."""
        return tuple(self.exporter.formats) if self.exporter is not None else FORMATS

    @property
    def data(self) -> str:
        """What the file holds, for the read rules (docs/security.md): an exporter's declared `data`, a table's name
        (ledger items are the handover rows' items: "handover"), "layer" for a map layer."""
        if self.exporter is not None:
            return getattr(self.exporter, "data", "") or self.name
        if self.table is not None:
            return TABLE_DATA.get(self.table, self.table)
        return "layer"

    @property
    def permission(self) -> str:
        """The action (besides "export") a caller needs: the exporter's or the layer's own, else "view"."""
        owner = self.exporter if self.exporter is not None else self.layer
        return getattr(owner, "permission", "view") if owner is not None else "view"


def export_target(context: Any, name: str) -> ExportTarget:  # noqa: ANN401
    """The export `name` names: a plugin's exporter, a table (singular or plural) or a layer id; NotFound else."""
    exporters = context.exporters()
    if name in exporters:
        return ExportTarget(name, exporter=exporters[name])
    table = name if name in EXPORTABLE_TABLES else name.rstrip("s") if name.rstrip("s") in EXPORTABLE_TABLES else None
    if table is not None:
        return ExportTarget(table, table=table)
    layers = {spec.id: spec for spec in context.layers}
    if name in layers:
        return ExportTarget(name, layer=layers[name])
    raise NotFound("export.unknown", name=name, choices=", ".join(sorted({*EXPORTABLE_TABLES, *exporters, *layers})))


def export_to_file(context: Any, name: str, fmt: str, output: str | Path, street: str | None = None, *,  # noqa: ANN401
                   authorize: Callable[[ExportTarget, str | None], None] | None = None, overwrite: bool = False) -> int:
    """Write the export `name` (a plugin's exporter, a table or a layer) as `fmt` to `output`; rows written.

    `street` (an NBS code or any name variant) limits it to one street. `authorize(target, street_code)`
    runs after the export and street are known and before anything is read (HTTP checks permissions
    there). An existing `output` is refused unless `overwrite` (a GeoPackage holding other layers would lose them);
    the file is written beside it under a temporary name and renamed at the end, so a failed export leaves no
    half-written file and an overwritten one as it was. Bad input raises `UserInputError`: an unknown export or
    street is `NotFound`, an unknown or unsupported format, an existing or unwritable output a plain
    `UserInputError`.
    """
    from geoplatform.streets import resolve_street

    if fmt not in FORMATS:
        raise UserInputError("export.format.unknown", fmt=fmt, choices=", ".join(FORMATS))
    target = export_target(context, name)
    street_code = None
    if street is not None:
        with context.session(readonly=True) as s:
            street_code = resolve_street(s, street)
    if authorize is not None:
        authorize(target, street_code)
    if fmt not in target.formats:
        raise UserInputError("export.format.unsupported", name=target.name, formats=", ".join(target.formats), fmt=fmt)
    shown = str(output)
    output = Path(output).expanduser()
    folder = output.parent
    if not folder.is_dir():
        raise UserInputError("export.folder.missing", output=shown, folder=str(folder))
    if (output.exists() or output.is_symlink()) and not overwrite:
        raise UserInputError("export.output.exists", output=shown)
    partial = folder / f".{output.stem}.partial-{os.getpid()}{output.suffix}"  # same suffix: writers may go by it
    try:
        partial.unlink(missing_ok=True)
        if target.exporter is not None:
            rows = target.exporter.function(context, fmt, str(partial), street_code)
        elif target.table is not None:
            with context.session(readonly=True) as s:
                frame = table_frame(s, target.table, street_code)
            rows = write_file(frame, partial, fmt, table=target.table)
        else:
            rows = write_file(layer_frame(context, target.layer, street_code), partial, fmt, table=target.name)
        os.replace(partial, output)
        return rows
    except OSError as e:  # permission denied, disk full, a folder in the way …
        raise UserInputError("export.write_failed", output=shown, reason=e.strerror or str(e)) from None
    finally:
        partial.unlink(missing_ok=True)


def layer_frame(context: Any, spec: Any, street: str | None = None) -> pd.DataFrame:  # noqa: ANN401
    """A layer's features (its source rows with the plugins' attributes, its filter applied), for a file."""
    from layers.features import layer_features

    frame = layer_features(context, spec, street=street)
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith("_")])


def table_frame(session: Session, table: str, street: str | None = None) -> pd.DataFrame:
    """A table as a (Geo)DataFrame, optionally limited to one street's rows."""
    model: type[Base] = model_for(table)
    where = []
    if street and "street_code" in model.__table__.c:
        where.append(model.__table__.c.street_code == street)
    elif street and table == "street":
        where.append(model.__table__.c.code == street)
    return read_frame(session, table, where=where)


def write_geojson(frame: pd.DataFrame, path: str | Path) -> int:
    """Write a frame as GeoJSON (EPSG:4326, RFC 7946); JSON-typed columns serialised as text."""
    frame = frame.copy()
    for col in frame.columns:
        if col != getattr(frame, "geometry", pd.Series()).name and frame[col].map(
            lambda v: isinstance(v, list | dict)
        ).any():
            import json

            frame[col] = frame[col].map(lambda v: json.dumps(v, ensure_ascii=False) if v is not None else None)
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), crs=4326), crs=4326)
    other_geoms = [c for c in frame.columns if c != frame.geometry.name and isinstance(frame[c], gpd.GeoSeries)]
    frame = frame.drop(columns=other_geoms)
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return len(frame)


# ---------------------------------------------------------------- every format (geoplatform export --format …)

FORMATS = ("geojson", "gpkg", "shp", "csv", "xlsx")
# [D] GeoPackage version written: 1.2 opens without a "may only be partially supported" warning in GDAL 3.6 and
# QGIS 3.22 (Debian 12), which GDAL ≥ 3.8's default 1.4 does not; "1.3" and "1.4" are also accepted.
GPKG_VERSION = "1.2"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_MAX = 32_767
# Shapefile DBF field names are limited to 10 characters: our long names → short names (documented in docs/import.md;
# the importer accepts the short names too).
SHP_NAMES = {
    "street_code": "street_cod", "community_code": "community_", "floor_area_m2": "floor_area",
    "management_mode": "mgmt_mode", "contract_end": "contr_end",
    "fee_collection_rate": "fee_rate", "complaints_per_year": "complaints", "demolition_planned": "demolition",
    "takeover_cost": "takeover", "managed_by_id": "managed_by", "compound_id": "compound_i",
    "garage_type": "garage_typ", "lowest_charging_floor": "low_floor", "completion_date": "completed",
    "smoke_exhaust": "smoke_exh", "emergency_lighting": "emerg_lt", "evacuation_signs": "evac_signs",
    "fire_compartment_area_m2": "fire_comp", "fire_unit_area_m2": "fire_unit", "meets_other_clauses": "other_ok",
    "space_right": "space_rght", "capacity_ok": "capacityok", "responsible_unit": "responsibl",
    "credit_grade": "credit_gra", "blacklisted": "blacklist", "state_owned": "state_owne",
    "owners_org": "owners_org", "renovation": "renovatio", "updated_at": "updated_at",
}
# enum columns exported with their Chinese label in CSV/XLSX (the importer reads labels and values alike)
ENUM_COLUMNS = {"management_mode": "management_mode", "owners_org": "owners_org", "renovation": "renovation",
                "facility": "facility", "kind": None}
LON_LAT_HEADERS = {"zh": ("经度", "纬度"), "en": ("lon", "lat")}


def _kind_of(table: str) -> str | None:
    from geoplatform.io.fields import TABLE_KIND

    return TABLE_KIND.get(table)


def chinese_headers(table: str) -> dict[str, str]:
    """English column → the Chinese header used in CSV/XLSX (the first Chinese alias the importer accepts)."""
    from geoplatform.io.fields import SPECS

    kind = _kind_of(table)
    out: dict[str, str] = {}
    if kind is None:
        return out
    for f in SPECS[kind][1]:
        zh = next((a for a in f.aliases if any("\u4e00" <= ch <= "\u9fff" for ch in a)), None)
        if zh:
            out[f.name] = zh
    return out


def neutralise(value: object) -> object:
    """Text starting with = + - @ (or tab/CR) gets a leading apostrophe so spreadsheets never run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _main_and_extra(frame: pd.DataFrame, table: str | None) -> tuple[str | None, list[str]]:
    geoms = [c for c in frame.columns if isinstance(frame[c], gpd.GeoSeries) or
             (len(frame[c]) and frame[c].map(lambda v: hasattr(v, "geom_type")).any())]
    main = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns else None
    if main is None and geoms:
        main = geoms[0]
    return main, [g for g in geoms if g != main]


def _plain_frame(frame: pd.DataFrame, table: str | None, *, lonlat: tuple[str, str]) -> tuple[pd.DataFrame, str | None]:
    """Frame with JSON columns as text and secondary point columns as lon/lat numbers; returns the main geometry name."""
    import json

    frame = frame.reset_index(drop=True).copy()
    main, extra = _main_and_extra(frame, table)
    for col in extra:
        pts = frame[col]
        is_pt = pts.map(lambda g: g is not None and not g.is_empty and g.geom_type == "Point")
        frame[lonlat[0]] = [g.x if ok else None for g, ok in zip(pts, is_pt, strict=True)]
        frame[lonlat[1]] = [g.y if ok else None for g, ok in zip(pts, is_pt, strict=True)]
        frame = frame.drop(columns=[col])
    for col in frame.columns:
        if col == main:
            continue
        if frame[col].map(lambda v: isinstance(v, list | dict)).any():
            frame[col] = frame[col].map(lambda v: json.dumps(v, ensure_ascii=False) if v is not None else None)
    return frame, main


def points_layer_name(table: str | None) -> str:
    """The name of the layer/file holding the rows known only by a point (`compounds_points` for compounds)."""
    name = table or "data"
    return "compounds_points" if name == "compound" else f"{name}_points"


def _point_only(frame: pd.DataFrame, table: str | None) -> tuple[str, str, np.ndarray] | None:
    """(main geometry column, point column, mask of the rows with no shape but a point), or None when none is."""
    main, extra = _main_and_extra(frame, table)
    if main is None or not extra:
        return None
    for col in extra:
        is_point = frame[col].map(lambda g: g is not None and not g.is_empty and g.geom_type == "Point").to_numpy(bool)
        if is_point.any():
            mask = frame[main].map(lambda g: g is None or g.is_empty).to_numpy(bool) & is_point
            return (main, col, mask) if mask.any() else None
    return None


def split_points(frame: pd.DataFrame, table: str | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rows with their shape, and rows known only by a point (no shape, a point column set: a ledger compound)
    with that point as their geometry — or None when there are none. Formats of one geometry type per layer
    write the second as a layer/file of its own (`points_layer_name`), so no located row is lost."""
    found = _point_only(frame, table)
    if found is None:
        return frame, None
    main, col, mask = found
    points = frame[mask].copy()
    points[main] = gpd.GeoSeries(points[col].to_numpy(), index=points.index, crs=4326)
    if isinstance(frame, gpd.GeoDataFrame):
        points = gpd.GeoDataFrame(points, geometry=main, crs=4326)
    return frame[~mask], points


def with_points(frame: pd.DataFrame, table: str | None) -> pd.DataFrame:
    """The frame with a row's point as its geometry where it has no shape (GeoJSON holds any mix of types)."""
    found = _point_only(frame, table)
    if found is None:
        return frame
    main, col, mask = found
    out = frame.copy()
    out[main] = gpd.GeoSeries(np.where(mask, frame[col].to_numpy(), frame[main].to_numpy()), index=frame.index,
                              crs=4326)
    return gpd.GeoDataFrame(out, geometry=main, crs=4326) if isinstance(frame, gpd.GeoDataFrame) else out


def write_file(frame: pd.DataFrame, path: str | Path, fmt: str, table: str | None = None,
               gpkg_version: str | None = None) -> int:
    """Write a table frame as geojson | gpkg | shp (zipped, with .cpg) | csv (UTF-8 BOM) | xlsx; returns rows.

    GeoPackages are written as version `gpkg_version` (default GPKG_VERSION).

    Every located row keeps its position: a row with no shape but a point (a compound from a ledger) is a Point
    feature in GeoJSON, and a feature of the second layer/file `points_layer_name(table)` in GPKG and SHP
    (one geometry type per layer); CSV/XLSX carry it in 经度/纬度. The importer reads such a pair back as one.
    """
    if fmt not in FORMATS:
        raise UserInputError("export.format.unknown", fmt=fmt, choices=", ".join(FORMATS))
    path = Path(path)
    if fmt == "geojson":
        frame, main = _plain_frame(with_points(frame, table), table, lonlat=LON_LAT_HEADERS["en"])
        return write_geojson(_as_gdf(frame, main), path)
    if fmt == "gpkg":
        if path.exists():
            path.unlink()
        n = 0
        for layer, part in _layers(frame, table):
            part, main = _plain_frame(part, table, lonlat=LON_LAT_HEADERS["en"])
            gdf = _as_gdf(part, main)
            gdf.to_file(path, driver="GPKG", layer=layer, engine="pyogrio", append=path.exists(),
                        dataset_options={"VERSION": gpkg_version or GPKG_VERSION})
            n += len(gdf)
        return n
    if fmt == "shp":
        return _write_shp(frame, path, table)
    return _write_table(frame, path, fmt, table)


def _layers(frame: pd.DataFrame, table: str | None) -> list[tuple[str, pd.DataFrame]]:
    """(layer name, rows) of a file with one geometry type per layer: the shapes, then the point-only rows."""
    shaped, points = split_points(frame, table)
    if points is None:
        return [(table or "data", frame)]
    return ([(table or "data", shaped)] if len(shaped) else []) + [(points_layer_name(table), points)]


def _as_gdf(frame: pd.DataFrame, main: str | None) -> gpd.GeoDataFrame:
    if main is None:
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), crs=4326), crs=4326)
    return gpd.GeoDataFrame(frame, geometry=main, crs=4326)


def _write_shp(frame: pd.DataFrame, path: Path, table: str | None) -> int:
    """A zip of one shapefile, or two: the shapes and `points_layer_name(table)` for the point-only rows."""
    import tempfile
    import zipfile

    parts = []
    for layer, part in _layers(frame, table):
        part, main = _plain_frame(part, table, lonlat=LON_LAT_HEADERS["en"])
        if main is None:
            raise UserInputError("export.no_geometry", table=table or "data")
        kinds = {g.geom_type.removeprefix("Multi") for g in part[main] if g is not None}
        if len(kinds) > 1:  # a shapefile holds one geometry type (e.g. a layer of boundaries and of points)
            raise UserInputError("export.shp.mixed", name=table or "data", kinds=", ".join(sorted(kinds)))
        renames = shp_names([c for c in part.columns if c != main])
        gdf = _as_gdf(part.rename(columns=renames), main)
        for col in gdf.columns:
            if col != gdf.geometry.name and pd.api.types.is_datetime64_any_dtype(gdf[col]):
                gdf[col] = gdf[col].astype(str)
        parts.append((layer, gdf))
    with tempfile.TemporaryDirectory(prefix="geoplatform-export-") as tmp:
        for layer, gdf in parts:
            shp = Path(tmp) / f"{layer}.shp"
            gdf.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
            cpg = shp.with_suffix(".cpg")
            if not cpg.exists():
                cpg.write_text("UTF-8")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                zf.write(f, f.name)
    return sum(len(gdf) for _, gdf in parts)


def shp_names(columns: list[str]) -> dict[str, str]:
    """Column → its shapefile field name (≤ 10 characters): SHP_NAMES, else the name cut to fit and kept unique."""
    out: dict[str, str] = {}
    taken = {SHP_NAMES.get(c, c) for c in columns if len(SHP_NAMES.get(c, c)) <= 10}
    for c in columns:
        short = SHP_NAMES.get(c, c)
        if len(short) > 10:  # e.g. a plugin attribute of a layer (coverage_served): cut, numbered on a clash
            short, n = c[:10], 1
            while short in taken:
                suffix = str(n)
                short, n = c[:10 - len(suffix)] + suffix, n + 1
            taken.add(short)
        out[c] = short
    return out


def _cell(value: object, col: str, fmt: str) -> object:
    import datetime as dt
    import math

    from geoplatform.labels import LABELS, label

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if col in ENUM_COLUMNS and ENUM_COLUMNS[col] in LABELS and isinstance(value, str):
        value = label(ENUM_COLUMNS[col], value, "zh")
    if isinstance(value, dt.datetime):
        return value if fmt == "xlsx" else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value if fmt == "xlsx" else value.isoformat()
    if isinstance(value, float):
        return value if fmt == "xlsx" else repr(value)
    return neutralise(value) if isinstance(value, str) else value


def _write_table(frame: pd.DataFrame, path: Path, fmt: str, table: str | None) -> int:
    import shapely

    frame, main = _plain_frame(frame, table, lonlat=LON_LAT_HEADERS["zh"])
    headers = chinese_headers(table or "")
    if main is not None:
        geoms = frame[main]
        present = geoms.map(lambda g: g is not None)
        points = present.any() and geoms[present].map(lambda g: g.geom_type == "Point").all()
        if not present.any():
            pass  # e.g. point-only compounds: their location is already in 经度/纬度
        elif points and "经度" not in frame.columns:
            frame.insert(len(frame.columns), "经度", [None if g is None else g.x for g in geoms])
            frame.insert(len(frame.columns), "纬度", [None if g is None else g.y for g in geoms])
        else:
            wkt = [None if g is None else shapely.to_wkt(g, rounding_precision=-1) for g in geoms]
            if fmt == "xlsx" and any(w is not None and len(w) > XLSX_CELL_MAX for w in wkt):
                raise UserInputError("export.xlsx_cell", table=table or "data", limit=XLSX_CELL_MAX)
            frame["几何(WKT)"] = wkt
        frame = frame.drop(columns=[main])
    cols = list(frame.columns)
    header_row = [headers.get(c, c) for c in cols]
    rows = [[_cell(v, c, fmt) for v, c in zip(rec, cols, strict=True)] for rec in frame.itertuples(index=False)]
    if fmt == "csv":
        import csv

        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header_row)
            w.writerows([["" if v is None else v for v in r] for r in rows])
        return len(rows)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table or "data")
    ws.append(header_row)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return len(rows)
