"""Export tables and layers to files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from geoplatform.models import Base
from geoplatform.store import model_for, read_frame

EXPORTABLE_TABLES = ("district", "street", "community", "compound", "building", "garage", "handover",
                     "ledger_item", "property_company", "barrier", "bundle_proposal", "takeover_selection")


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
    "management_mode": "mgmt_mode", "property_company": "prop_comp", "contract_end": "contr_end",
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


def write_file(frame: pd.DataFrame, path: str | Path, fmt: str, table: str | None = None,
               gpkg_version: str | None = None) -> int:
    """Write a table frame as geojson | gpkg | shp (zipped, with .cpg) | csv (UTF-8 BOM) | xlsx; returns rows.

    GeoPackages are written as version `gpkg_version` (default GPKG_VERSION).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    path = Path(path)
    if fmt == "geojson":
        frame, main = _plain_frame(frame, table, lonlat=LON_LAT_HEADERS["en"])
        return write_geojson(_as_gdf(frame, main), path)
    if fmt == "gpkg":
        frame, main = _plain_frame(frame, table, lonlat=LON_LAT_HEADERS["en"])
        gdf = _as_gdf(frame, main)
        if path.exists():
            path.unlink()
        gdf.to_file(path, driver="GPKG", layer=table or "data", engine="pyogrio",
                    dataset_options={"VERSION": gpkg_version or GPKG_VERSION})
        return len(gdf)
    if fmt == "shp":
        return _write_shp(frame, path, table)
    return _write_table(frame, path, fmt, table)


def _as_gdf(frame: pd.DataFrame, main: str | None) -> gpd.GeoDataFrame:
    if main is None:
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), crs=4326), crs=4326)
    return gpd.GeoDataFrame(frame, geometry=main, crs=4326)


def _write_shp(frame: pd.DataFrame, path: Path, table: str | None) -> int:
    import tempfile
    import zipfile

    from geoplatform.cli import UserError

    frame, main = _plain_frame(frame, table, lonlat=LON_LAT_HEADERS["en"])
    if main is None:
        raise UserError(f"{table} has no geometry: export it as csv or xlsx, not as a shapefile")
    renames = {c: SHP_NAMES.get(c, c) for c in frame.columns if c != main}
    too_long = [c for c, s in renames.items() if len(s) > 10]
    if too_long:  # pragma: no cover - every exported column has a short name
        raise ValueError(f"no shapefile name for {too_long}")
    gdf = _as_gdf(frame.rename(columns=renames), main)
    for col in gdf.columns:
        if col != gdf.geometry.name and pd.api.types.is_datetime64_any_dtype(gdf[col]):
            gdf[col] = gdf[col].astype(str)
    name = table or "data"
    with tempfile.TemporaryDirectory(prefix="geoplatform-export-") as tmp:
        shp = Path(tmp) / f"{name}.shp"
        gdf.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
        cpg = shp.with_suffix(".cpg")
        if not cpg.exists():
            cpg.write_text("UTF-8")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                zf.write(f, f.name)
    return len(gdf)


def _cell(value: object, col: str, fmt: str) -> object:
    import datetime as dt
    import math

    from geoplatform.labels import LABELS, label

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
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

    from geoplatform.cli import UserError

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
                raise UserError(f"a {table} geometry is longer than an Excel cell holds ({XLSX_CELL_MAX} "
                                "characters): export as gpkg, geojson or shp")
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
