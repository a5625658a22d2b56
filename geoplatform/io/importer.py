"""`geoplatform import`: read, check everything, then write in one transaction (or nothing at all)."""

from __future__ import annotations

import datetime as dt
import gc as cyclic_gc
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import LargeBinary, any_, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.crs import CRSProblem, SourceCRS, diagnose, looks_like_lonlat, parse_crs, to_wgs84
from geoplatform.db import deferred_spatial_index
from geoplatform.i18n import Message
from geoplatform.io.fields import (
    GEOMETRY_KIND,
    KINDS,
    SPECS,
    Field,
    ValueProblem,
    fields_for,
    map_columns,
    parse_number,
    parse_value,
)
from geoplatform.io.geometry import has_nonfinite, to_multilinestring, to_multipolygon, to_multipolygons
from geoplatform.io.limits import DEFAULT_LIMITS, FileProblem, Limits
from geoplatform.io.messages import geos_reason, one_of
from geoplatform.io.readers import RawTable, open_table
from geoplatform.io.report import ImportFailed, ImportReport
from geoplatform.reference import DISTRICT_CODE, DISTRICT_NAME, DISTRICT_OUTLINE, street_aliases
from geoplatform.store import CHUNK, model_for
from geoplatform.streets import NEAR_DEGREES  # the one geometry → street rule, shared with every edit

PROGRESS_MIN = 2000  # [D] rows from which a progress bar is shown
KEYS = {"district": ("code",), "street": ("code",), "community": ("code",), "compound": ("id",), "building": ("id",),
        "garage": ("id",), "handover": ("compound_id", "facility"), "property_company": ("name",), "barrier": ("id",)}
GEOM_COLUMN = {"district": "geom", "street": "geom", "community": "geom", "compound": "boundary", "building": "geom",
               "garage": "location", "barrier": "geom"}
Progress = Callable[[str, int, int], None]
TYPE_ID = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}  # GEOS
LOOKUP_CHUNK = 50_000  # values per existence query (bound as one list)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one import.

    An import allocates a few container objects per row and frees them by reference counting; the
    cyclic collector would otherwise rescan every live object (in a long-lived server, all of them)
    many times over a large file. It is re-enabled, and nothing else changes, when the import ends.
    """
    was_enabled = cyclic_gc.isenabled()
    cyclic_gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            cyclic_gc.enable()


def import_file(context: Any, kind: str, path: str | Path, *, crs: str | None = None, sheet: str | None = None,
                layer: str | None = None, encoding: str | None = None, repair: bool = False, upsert: bool = False,
                dry_run: bool = False, user: str = "system", progress: Progress | None = None,
                limits: Limits = DEFAULT_LIMITS) -> ImportReport:
    """Import one file of KIND; raises ImportFailed (database untouched) when any problem is found."""
    path = Path(path)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    report = ImportReport(kind=kind, file=path.name, dry_run=dry_run)
    try:
        source = parse_crs(crs) if crs else None
    except CRSProblem as exc:
        report.error("--crs", exc.message)
        raise ImportFailed(report) from exc
    try:
        with gc_paused(), open_table(path, layer=layer, sheet=sheet, encoding=encoding, limits=limits) as table:
            for w in table.warnings:
                report.warn(w)
            with context.session(readonly=dry_run) as session:
                job = _Job(context, session, kind, table, report, source, repair, upsert, progress, limits)
                job.run()
                if not report.ok:
                    raise ImportFailed(report)
                if dry_run:
                    job.count()
                else:
                    job.write(user)
    except FileProblem as exc:
        report.error(path.name, exc.message)
        raise ImportFailed(report) from exc
    except (IntegrityError, DataError) as exc:  # e.g. a concurrent writer inserted the same id meanwhile
        report.error(path.name, "import.db.refused", detail=str(exc.orig).splitlines()[0])
        raise ImportFailed(report) from exc
    return report


def _empty(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v).to_pydatetime()
    return v


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id from a record's content (same file → same ids on every import)."""
    h = hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}{h[:10].upper()}"


class _Job:
    """One import: state shared by the checking steps, and the final write."""

    def __init__(self, context: Any, session: Session, kind: str, table: RawTable, report: ImportReport,
                 source: SourceCRS | None, repair: bool, upsert: bool, progress: Progress | None, limits: Limits) -> None:
        self.context, self.s, self.kind, self.t, self.r = context, session, kind, table, report
        self.source, self.repair, self.upsert, self.progress, self.limits = source, repair, upsert, progress, limits
        self.table_name = SPECS[kind][0]
        self.model = model_for(self.table_name)
        self.today: dt.date = getattr(context, "today", None) or dt.date.today()
        self.n = len(table.frame)
        self.rows: list[dict[str, Any]] = []
        self.ok_rows = np.ones(self.n, dtype=bool)
        self.geom: np.ndarray = np.full(self.n, None, dtype=object)  # main geometry, EPSG:4326
        self.location: np.ndarray = np.full(self.n, None, dtype=object)  # compounds: the point
        self.existing: set[tuple[Any, ...]] = set()
        self.geom_label: str | Message = Message("import.field.geometry")

    # ------------------------------------------------------------------ steps
    def run(self) -> None:
        """Every check; problems go to the report, nothing is written."""
        t, r = self.t, self.r
        if self.n == 0:
            r.error(t.name, "import.no_rows")
            return
        mapping, ignored = map_columns(self.kind, [str(c) for c in t.frame.columns])
        self.mapping = mapping
        self.col_of = {f: c for c, f in mapping.items()}
        if ignored:
            r.warn("import.warn.columns_ignored", file=t.name, columns=", ".join(map(str, ignored)))
        for f in SPECS[self.kind][1]:
            if f.required and f.name not in self.col_of:
                r.error(t.name, "import.required_column", field=f.name, headers=", ".join(f.aliases[:6]))
        if not r.ok:
            return
        self._geometries()
        self._values()
        resolver = getattr(self, f"_resolve_{self.table_name}", None)
        if resolver is not None:
            resolver()
        self._keys()

    def _tick(self, stage: str, done: int) -> None:
        if self.progress is not None and self.n >= PROGRESS_MIN:
            self.progress(stage, done, self.n)

    # ------------------------------------------------------------------ geometry
    def _geometries(self) -> None:
        t, r = self.t, self.r
        want = GEOMETRY_KIND[self.kind]
        if want == "none":
            return
        geoms = np.full(self.n, None, dtype=object)
        problems: dict[int, tuple[str | Message, Message]] = {}
        label: str | Message = Message("import.field.geometry")
        points_from_columns = None
        if t.geometry is not None:
            geoms = np.asarray(t.geometry, dtype=object).copy()
            problems = {i: (label, msg) for i, msg in t.geom_problems.items()}
        if "wkt" in self.col_of:
            label = self.col_of["wkt"]
            texts = [None if _empty(v) else str(v).strip() for v in t.frame[self.col_of["wkt"]]]
            parsed = shapely.from_wkt(np.array(texts, dtype=object), on_invalid="ignore")
            for i, (txt, g) in enumerate(zip(texts, parsed, strict=True)):
                if txt is not None and g is None:
                    problems[i] = (label, Message("import.wkt.invalid"))
            geoms = np.asarray(parsed, dtype=object)
        lonc, latc = self.col_of.get("lon"), self.col_of.get("lat")
        if (lonc is None) != (latc is None):
            r.error(t.name, "import.lonlat.no_partner", column=lonc or latc)
            return
        if lonc is not None:
            xs, ys = np.full(self.n, np.nan), np.full(self.n, np.nan)
            for i, (a, b) in enumerate(zip(t.frame[lonc], t.frame[latc], strict=True)):
                if _empty(a) and _empty(b):
                    continue
                try:
                    xs[i], ys[i] = parse_number(a), parse_number(b)
                except ValueProblem as exc:
                    problems[i] = (f"{lonc}/{latc}", exc.message)
            has = np.isfinite(xs) & np.isfinite(ys)
            points_from_columns = np.where(has, shapely.points(np.nan_to_num(xs), np.nan_to_num(ys)), None)
            if t.geometry is None and "wkt" not in self.col_of:
                geoms = points_from_columns
                label = f"{lonc}/{latc}"
                points_from_columns = None
        self.geom_label = label
        for i, (where_col, msg) in problems.items():
            r.error(t.where(i, where_col), msg)
            self.ok_rows[i] = False
        # Z/M dropped, null/empty, wrong type, NaN, vertex limit
        present = ~shapely.is_missing(geoms) & self.ok_rows
        has_z = np.zeros(self.n, dtype=bool)
        if present.any():
            has_z[present] = shapely.has_z(geoms[present])
        if t.had_z is not None:
            has_z |= np.asarray(t.had_z, dtype=bool)
        if has_z.any():
            r.warn("import.warn.z_dropped", file=t.name, n=int(has_z.sum()), units=Message(f"import.units.{t.unit}"),
                   first=t.at(int(np.argmax(has_z))))
            geoms[present] = shapely.force_2d(geoms[present])
        empty = shapely.is_empty(geoms)
        geoms[empty] = None
        nonfinite = np.zeros(self.n, dtype=bool)
        if present.any():
            nonfinite[present] = has_nonfinite(geoms[present])
        for i in np.flatnonzero(nonfinite):
            r.error(t.where(i, label), "import.geom.nonfinite")
            self.ok_rows[i] = False
        for i in np.flatnonzero(empty & self.ok_rows):
            if not want.endswith("?") and want != "polygon|point":
                r.error(t.where(i, label), "import.geom.empty")
                self.ok_rows[i] = False
        nulls = shapely.is_missing(geoms) & self.ok_rows & ~empty
        if want in ("polygon", "line"):
            for i in np.flatnonzero(nulls):
                r.error(t.where(i, label), "import.geom.null")
                self.ok_rows[i] = False
        allowed = {"polygon": ("Polygon", "MultiPolygon"), "polygon?": ("Polygon", "MultiPolygon"),
                   "polygon|point": ("Polygon", "MultiPolygon", "Point"), "point?": ("Point",),
                   "line": ("LineString", "MultiLineString")}[want]
        live = ~shapely.is_missing(geoms) & self.ok_rows
        right_type = np.isin(shapely.get_type_id(geoms), [TYPE_ID[a] for a in allowed])
        for i in np.flatnonzero(live & ~right_type):
            kind = geoms[i].geom_type
            if kind == "MultiPoint" and "Point" in allowed and len(geoms[i].geoms) == 1:
                geoms[i] = geoms[i].geoms[0]
            else:
                r.error(t.where(i, label), "import.geom.wrong_type", geom_type=kind,
                        kind=Message(f"import.kind.{self.kind}"), allowed=one_of(list(allowed)))
                self.ok_rows[i] = False
        live = ~shapely.is_missing(geoms) & self.ok_rows
        if live.any():
            nverts = shapely.get_num_coordinates(geoms[live])
            for i, nv in zip(np.flatnonzero(live), nverts, strict=True):
                if nv > self.limits.max_vertices:
                    r.error(t.where(i, label), "import.geom.too_many_vertices", n=int(nv),
                            limit=self.limits.max_vertices)
                    self.ok_rows[i] = False
        live = ~shapely.is_missing(geoms) & self.ok_rows
        self._validity(geoms, live, label)
        live = ~shapely.is_missing(geoms) & self.ok_rows
        loc_live = np.array([g is not None for g in points_from_columns]) & self.ok_rows \
            if points_from_columns is not None else None
        if not r.ok and not live.any():
            return
        source = self._source_crs(geoms, live, points_from_columns, loc_live)
        if source is None:
            return
        out = np.full(self.n, None, dtype=object)
        if live.any():
            out[live] = to_wgs84(geoms[live], source)
        if points_from_columns is not None and loc_live.any():
            self.location[loc_live] = to_wgs84(points_from_columns[loc_live], source)
        self._check_area(out, live, label, source)
        self.geom = out

    def _validity(self, geoms: np.ndarray, live: np.ndarray, label: str | Message) -> None:
        if not live.any():
            return
        t, r = self.t, self.r
        idx = np.flatnonzero(live)
        valid = shapely.is_valid(geoms[idx])
        bad = idx[~valid]
        if not len(bad):
            return
        reasons = shapely.is_valid_reason(geoms[bad])
        if not self.repair:
            for i, why in zip(bad, reasons, strict=True):
                r.error(t.where(i, label), "import.geom.invalid", reason=geos_reason(why))
                self.ok_rows[i] = False
            return
        fixed = shapely.make_valid(geoms[bad])
        want = GEOMETRY_KIND[self.kind]
        for i, why, g in zip(bad, reasons, fixed, strict=True):
            g2 = to_multilinestring(g) if want == "line" else to_multipolygon(g) if "polygon" in want else g
            if g2.is_empty:
                r.error(t.where(i, label), "import.geom.unrepairable", reason=geos_reason(why))
                self.ok_rows[i] = False
                continue
            geoms[i] = g2
            r.warn("import.warn.repaired", where=t.where(i, label), reason=geos_reason(why), geom_type=g2.geom_type,
                   parts=len(g2.geoms))

    def _source_crs(self, geoms: np.ndarray, live: np.ndarray, pts: np.ndarray | None,
                    loc_live: np.ndarray | None) -> SourceCRS | None:
        t, r = self.t, self.r
        xy = shapely.get_coordinates(geoms[live]) if live.any() else np.empty((0, 2))
        if pts is not None and loc_live is not None and loc_live.any():
            xy = np.vstack([xy, shapely.get_coordinates(pts[loc_live])])
        x, y = xy[:, 0], xy[:, 1]
        declared = None
        if self.source is not None:
            if t.crs is not None and t.crs.name != self.source.name:
                r.warn("import.warn.crs_override", file=t.name, crs=self.source.name, origin=t.crs_origin, declared=t.crs.name)
            source, declared = self.source, "--crs"
        elif t.crs is not None:
            source, declared = t.crs, t.crs_origin
        else:
            source = None
        if source is None:
            cause = diagnose(x, y, self._near_bbox(), None)
            if cause or not looks_like_lonlat(x, y):
                r.error(t.name, cause or Message("import.crs.not_lonlat"))
                return None
            r.warn("import.warn.assumed_wgs84", file=t.name)
            return parse_crs("EPSG:4326")
        if source.is_geographic:
            cause = diagnose(x, y, self._near_bbox(),
                             Message("import.crs.declared", origin=declared, crs=source.name) if declared else None)
            if cause:
                r.error(t.name, cause)
                return None
        elif len(x) and looks_like_lonlat(x, y) and np.abs(x).max() < 180 and np.abs(y).max() < 90:
            r.error(t.name, "import.crs.degrees_as_metres", declared=declared, crs=source.name, x=x[0], y=y[0])
            return None
        return source

    def _district(self) -> shapely.Geometry:
        from geoplatform.streets import district_outline

        return district_outline(self.s) if self.kind != "district" else shapely.Polygon(DISTRICT_OUTLINE)

    def _near_bbox(self) -> tuple[float, float, float, float]:
        return tuple(self._district().bounds)  # type: ignore[return-value]

    def _check_area(self, geoms: np.ndarray, live: np.ndarray, label: str | Message, source: SourceCRS) -> None:
        t, r = self.t, self.r
        every = live.copy()
        locs = np.array([g is not None for g in self.location])
        if not every.any() and not locs.any():
            return
        district = self._district()
        near = district.buffer(NEAR_DEGREES)
        shapely.prepare(near)
        inside = np.ones(self.n, dtype=bool)
        inside[every] = shapely.intersects(near, geoms[every])
        inside[locs] &= shapely.intersects(near, self.location[locs])
        outside = np.flatnonzero(~inside)
        if not len(outside):
            return
        ref = np.where(every, geoms, self.location)
        dist_km = shapely.distance(district, ref[outside].astype(object)) * 111 * 0.76
        where_crs = Message("import.crs.from", crs=source.name, origin=t.crs_origin) \
            if self.source is None and t.crs_origin else source.name
        if len(outside) == self.n:
            r.error(t.name, "import.area.all_outside", unit=Message(f"import.unit.{t.unit}"), district=DISTRICT_NAME,
                    km=float(np.median(dist_km)), crs=where_crs)
            self.ok_rows[:] = False
            return
        for i, d in zip(outside, dist_km, strict=True):
            r.error(t.where(i, label), "import.area.outside", km=float(d), district=DISTRICT_NAME)
            self.ok_rows[i] = False

    # ------------------------------------------------------------------ attribute values
    def _values(self) -> None:
        """Parse every mapped column (vectorised when a column is already clean numbers or text)."""
        t = self.t
        fields = {f.name: f for f in fields_for(self.kind)}
        used = [(c, fields[f]) for c, f in self.mapping.items() if f not in ("lon", "lat", "wkt")]
        columns: dict[str, list[Any]] = {}
        for k, (c, f) in enumerate(used):
            series = t.frame[c]
            raw = series.tolist()
            columns[f.name] = self._column_fast(c, f, raw, series)
            if columns[f.name] is None:
                columns[f.name] = self._column_slow(c, f, raw)
            self._tick("checking", int(self.n * (k + 1) / max(len(used), 1)))
        names = list(columns)
        self.rows = [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)] \
            if names else [{} for _ in range(self.n)]
        self._tick("checking", self.n)

    def _column_fast(self, c: str, f: Field, raw: list[Any], series: pd.Series | None = None) -> list[Any] | None:
        """A clean numeric/text column parsed with array operations; None when the slow path is needed."""
        if f.type in ("int", "float"):
            hi = self.today.year if f.name == "build_year" else f.hi  # as parse_value: no future build years
            if series is not None and pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                arr = series.to_numpy(dtype=float, na_value=np.nan)  # a typed column (GeoPackage, shapefile)
            else:
                ok = all(v is None or (isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool))
                         for v in raw)
                if not ok:
                    return None
                arr = np.array([np.nan if v is None else float(v) for v in raw], dtype=float)
            empty = np.isnan(arr)
            bad = ~empty & (~np.isfinite(arr) | ((arr < f.lo) if f.lo is not None else False)
                            | ((arr > hi) if hi is not None else False)
                            | ((arr != np.round(arr)) if f.type == "int" else False))
            if f.required and empty.any() or bad.any():
                return None
            vals = (np.where(empty, 0, arr).astype(np.int64) if f.type == "int" else arr).tolist()
            for i in np.flatnonzero(empty):
                vals[i] = None
            return vals
        if f.type in ("text", "ref") and series is not None and len(series) \
                and pd.api.types.infer_dtype(series, skipna=True) == "string":
            # a column of strings (and blanks): the same checks as below, over plain Python strings (pandas'
            # .str methods call a Python function per cell and per method: several times slower)
            missing = series.isna().to_numpy()
            if f.required and missing.any():
                return None
            out_fast = [None if gone else v.strip() for v, gone in zip(raw, missing.tolist(), strict=True)]
            present = [v for v in out_fast if v is not None]
            if not all(present) or (f.max_len and max(map(len, present), default=0) > f.max_len) \
                    or any(v[0] == "'" for v in present if len(v) > 1):
                return None
            return out_fast
        if f.type in ("text", "ref"):
            out: list[Any] = []
            for v in raw:
                if v is None:
                    if f.required:
                        return None
                    out.append(None)
                    continue
                if not isinstance(v, str):
                    return None
                sv = v.strip()
                if not sv or (f.max_len and len(sv) > f.max_len) or (len(sv) > 1 and sv[0] == "'"):
                    return None
                out.append(sv)
            return out
        return None

    def _column_slow(self, c: str, f: Field, raw: list[Any]) -> list[Any]:
        """Cell by cell, recording every problem with its row and column."""
        t, r = self.t, self.r
        out: list[Any] = []
        for i, v in enumerate(raw):
            v = _plain(v)
            if _empty(v):
                if f.required:
                    r.error(t.where(i, c), "import.value.required_empty", field=f.name)
                    self.ok_rows[i] = False
                out.append(None)
                continue
            try:
                out.append(parse_value(f, v, self.today))
            except ValueProblem as exc:
                r.error(t.where(i, c), exc.message)
                self.ok_rows[i] = False
                out.append(None)
        return out

    def _field(self, name: str) -> Field:
        return next(f for f in fields_for(self.kind) if f.name == name)

    # ------------------------------------------------------------------ per-table resolution
    def _streets(self) -> dict[str, str]:
        from geoplatform.streets import street_lookup

        return street_lookup(self.s)

    def _match_streets(self, required: bool) -> None:
        """street_code column → codes (error naming the row when unknown)."""
        from geoplatform.streets import match_street

        lookup = self._streets()
        col = self.col_of.get("street_code")
        seen: dict[Any, str | None] = {}  # a file names a handful of streets on thousands of rows
        for i, rec in enumerate(self.rows):
            v = rec.get("street_code")
            if v is None:
                continue
            code = seen[v] if v in seen else seen.setdefault(v, match_street(self.s, v, lookup))
            if code is None:
                self.r.error(self.t.where(i, col), "import.street.unknown", value=v)
                self.ok_rows[i] = False
            rec["street_code"] = code

    def _streets_by_location(self, points: np.ndarray, rows: np.ndarray, what: str) -> None:
        """Assign street_code by point-in-street-polygon for `rows` (geoplatform.streets.streets_at), warn how."""
        from geoplatform.streets import streets_at

        if not rows.any():
            return
        if not self.s.scalar(select(func.count()).select_from(m.Street).where(m.Street.geom.isnot(None))):
            for i in np.flatnonzero(rows):
                self.r.error(self.t.where(i), "import.street.no_polygons", what=Message(f"import.table.{what}"))
                self.ok_rows[i] = False
            return
        idx = np.flatnonzero(rows)
        found = dict(zip(idx.tolist(), streets_at(self.s, points[idx].astype(object)), strict=True))
        for i in idx:
            code = found.get(int(i))
            if code is None:
                self.r.error(self.t.where(i), "import.street.not_located", what=Message(f"import.table.{what}"))
                self.ok_rows[i] = False
            self.rows[i]["street_code"] = code
        self.r.warn("import.warn.street_by_location", file=self.t.name, n=len(idx),
                    units=Message(f"import.units.{self.t.unit}"))

    def _resolve_district(self) -> None:
        for i, rec in enumerate(self.rows):
            if not rec.get("name"):
                rec["name"] = DISTRICT_NAME
            if not rec.get("code"):
                if rec["name"] in (DISTRICT_NAME, "昆区"):
                    rec["code"] = DISTRICT_CODE
                else:
                    self.r.error(self.t.where(i), "import.district.no_code")
                    self.ok_rows[i] = False
            rec["geom"] = to_multipolygon(self.geom[i]) if self.geom[i] is not None else None

    def _resolve_street(self) -> None:
        for i, rec in enumerate(self.rows):
            name = rec.get("name") or ""
            if not rec.get("kind"):
                rec["kind"] = "town" if name.endswith("镇") else "subdistrict"
            if not rec.get("aliases"):
                rec["aliases"] = street_aliases(name, rec["kind"])
            rec["geom"] = to_multipolygon(self.geom[i]) if self.geom[i] is not None else None

    def _resolve_community(self) -> None:
        self._match_streets(required=False)
        for i, rec in enumerate(self.rows):
            if rec.get("street_code") is None and rec.get("code") and "street_code" not in self.col_of:
                rec["street_code"] = self._streets_codes().get(rec["code"][:9])
                if rec["street_code"] is None:
                    self.r.error(self.t.where(i), "import.community.no_street", code=rec["code"])
                    self.ok_rows[i] = False
            elif rec.get("street_code") is None and self.ok_rows[i]:
                self.r.error(self.t.where(i, self.col_of.get("street_code")), "import.street.required_empty")
                self.ok_rows[i] = False
            rec["geom"] = to_multipolygon(self.geom[i]) if self.geom[i] is not None else None
        if "street_code" not in self.col_of:
            self.r.warn("import.warn.street_from_code", file=self.t.name)

    def _streets_codes(self) -> dict[str, str]:
        if not hasattr(self, "_codes"):
            self._codes = {c: c for (c,) in self.s.execute(select(m.Street.code))}
        return self._codes

    def _resolve_compound(self) -> None:
        t, r = self.t, self.r
        self._match_streets(required=True)
        boundary = np.full(self.n, None, dtype=object)
        loc = self.location.copy()
        for i, g in enumerate(self.geom):
            if g is None:
                continue
            if g.geom_type == "Point":
                if loc[i] is None:
                    loc[i] = g
            else:
                boundary[i] = to_multipolygon(g)
        need_loc = np.array([b is not None and p is None for b, p in zip(boundary, loc, strict=True)])
        if need_loc.any():
            loc[need_loc] = shapely.point_on_surface(boundary[need_loc].astype(object))
        for i in np.flatnonzero(np.array([p is None for p in loc]) & self.ok_rows):
            r.error(t.where(i, self.geom_label), "import.compound.not_placed")
            self.ok_rows[i] = False
        point_only = np.array([b is None for b in boundary]) & self.ok_rows
        if point_only.any():
            r.warn("import.warn.point_only", file=t.name, n=int(point_only.sum()))
        no_street = np.array([rec.get("street_code") is None for rec in self.rows]) & self.ok_rows
        if "street_code" in self.col_of:
            for i in np.flatnonzero(no_street):
                r.error(t.where(i, self.col_of["street_code"]), "import.street.required_empty")
                self.ok_rows[i] = False
        else:
            self._streets_by_location(loc, no_street, "compound")
        self._match_communities()
        for i, rec in enumerate(self.rows):
            rec["boundary"], rec["location"] = boundary[i], loc[i]
            if not rec.get("id") and self.ok_rows[i]:
                p = loc[i]
                rec["id"] = stable_id(f"{rec['street_code']}-", rec.get("name"), round(p.x, 6), round(p.y, 6))
        if "id" not in self.col_of:
            r.warn("import.warn.ids_compound", file=t.name)
        self._check_refs("managed_by_id", m.Compound.id, "compound")

    def _match_communities(self) -> None:
        if "community_code" not in self.col_of:
            return
        comms = self.s.execute(select(m.Community.code, m.Community.name, m.Community.street_code)).all()
        by_code = {c: c for c, _, _ in comms}
        by_name: dict[tuple[str, str], str] = {(s, n): c for c, n, s in comms}
        col = self.col_of["community_code"]
        for i, rec in enumerate(self.rows):
            v = rec.get("community_code")
            if v is None:
                continue
            got = by_code.get(v) or by_name.get((rec.get("street_code"), v))
            if got is None:
                self.r.error(self.t.where(i, col), "import.community.unknown", value=v)
                self.ok_rows[i] = False
            rec["community_code"] = got

    def _check_refs(self, name: str, column: Any, what: str) -> None:
        col = self.col_of.get(name)
        if col is None:
            return
        in_file = {rec.get("id") for rec in self.rows}
        wanted = {rec[name] for rec in self.rows if rec.get(name)} - in_file
        found = self._existing_values(column, wanted)
        for i, rec in enumerate(self.rows):
            v = rec.get(name)
            if v and v not in in_file and v not in found:
                self.r.error(self.t.where(i, col), "import.ref.unknown", what=Message(f"import.table.{what}"), value=v)
                self.ok_rows[i] = False

    def _existing_values(self, column: Any, values: Iterable[Any]) -> set[Any]:
        """The given values that the column already holds (one bound list per query, not one parameter each)."""
        out: set[Any] = set()
        vals = list(values)
        for k in range(0, len(vals), LOOKUP_CHUNK):
            part = vals[k:k + LOOKUP_CHUNK]
            if self.s.bind.dialect.name == "postgresql":
                where = column == any_(bindparam("vals", value=part, type_=ARRAY(column.type)))
            else:  # SQLite: the list as one JSON text, unpacked by json_each
                listed = func.json_each(bindparam("vals", value=json.dumps(part, ensure_ascii=False, default=str))).table_valued("value")
                where = column.in_(select(listed.c.value))
            out.update(v for (v,) in self.s.execute(select(column).where(where)))
        return out

    def _compound_refs(self, required: bool) -> None:
        """compound_id column: an id, else a unique compound name (within the row's street when known)."""
        col = self.col_of.get("compound_id")
        if col is None:
            return
        wanted = {rec["compound_id"] for rec in self.rows if rec.get("compound_id")}
        ids = self._existing_values(m.Compound.id, wanted)
        names: dict[str, list[str]] = {}
        missing = wanted - ids
        if missing:
            for cid, name in self.s.execute(select(m.Compound.id, m.Compound.name).where(
                    m.Compound.name.in_(list(missing)))):
                names.setdefault(name, []).append(cid)
        for i, rec in enumerate(self.rows):
            v = rec.get("compound_id")
            if v is None:
                if required and self.ok_rows[i]:
                    self.r.error(self.t.where(i, col), "import.compound.required_empty")
                    self.ok_rows[i] = False
                continue
            if v in ids:
                continue
            hits = names.get(v, [])
            if len(hits) == 1:
                rec["compound_id"] = hits[0]
            else:
                if hits:
                    self.r.error(self.t.where(i, col), "import.compound.ambiguous", value=v, n=len(hits))
                else:
                    self.r.error(self.t.where(i, col), "import.compound.unknown", value=v)
                self.ok_rows[i] = False

    def _by_containment(self, points: np.ndarray, rows: np.ndarray) -> dict[int, str]:
        """Row → id of the compound whose boundary contains its point (one vectorised STRtree query)."""
        from geoplatform.store import read_frame

        comps = read_frame(self.s, "compound", columns=["id", "boundary"])
        comps = comps[comps.geometry.notna()]
        idx = np.flatnonzero(rows)
        if comps.empty or not len(idx):
            return {}
        # one bulk STRtree query, as geopandas.sjoin does "within": the tree holds the points and each
        # compound asks which it contains (the polygon is prepared once, not tested point by point)
        c_i, p_i = shapely.STRtree(np.asarray(points[idx])).query(comps.geometry.to_numpy(), predicate="contains")
        order = np.lexsort((c_i, p_i))  # first compound (table order) for a point inside two
        p_i, c_i = p_i[order], c_i[order]
        first = np.ones(len(p_i), dtype=bool)
        first[1:] = p_i[1:] != p_i[:-1]
        return dict(zip(idx[p_i[first]].tolist(), comps["id"].to_numpy()[c_i[first]].tolist(), strict=True))

    def _resolve_building(self) -> None:
        t, r = self.t, self.r
        self._match_streets(required=False)
        self._compound_refs(required=False)
        geoms = to_multipolygons(self.geom)
        live = ~shapely.is_missing(geoms) & self.ok_rows
        pts = np.full(self.n, None, dtype=object)  # a point inside each building, where containment needs one
        if "compound_id" not in self.col_of:
            if live.any():
                pts[live] = shapely.point_on_surface(geoms[live])
            found = self._by_containment(pts, live)
            for i in np.flatnonzero(live):
                self.rows[i]["compound_id"] = found.get(int(i))
            r.warn("import.warn.buildings_by_containment", file=t.name, n=len(found),
                   orphans=int(live.sum()) - len(found))
        need_street = np.array([rec.get("street_code") is None for rec in self.rows]) & live
        if need_street.any():
            cids = {rec["compound_id"] for i, rec in enumerate(self.rows) if need_street[i] and rec.get("compound_id")}
            cstreet = dict(self.s.execute(select(m.Compound.id, m.Compound.street_code).where(
                m.Compound.id.in_(list(cids)))).all()) if cids else {}
            rest = np.zeros(self.n, dtype=bool)
            for i in np.flatnonzero(need_street):
                code = cstreet.get(self.rows[i].get("compound_id"))
                if code:
                    self.rows[i]["street_code"] = code
                else:
                    rest[i] = True
            if rest.any():
                missing = rest & shapely.is_missing(pts)
                pts[missing] = shapely.point_on_surface(geoms[missing])
                self._streets_by_location(pts, rest, "building")
        for i, rec in enumerate(self.rows):
            rec["geom"] = geoms[i]
            if not rec.get("id") and geoms[i] is not None:
                rec["id"] = stable_id("B-", shapely.to_wkb(shapely.set_precision(geoms[i], 1e-7), hex=True))
        if "id" not in self.col_of:
            r.warn("import.warn.ids_building", file=t.name)

    def _resolve_garage(self) -> None:
        self._compound_refs(required=False)
        pts = np.array([g if g is not None else self.location[i] for i, g in enumerate(self.geom)], dtype=object)
        live = np.array([p is not None for p in pts]) & self.ok_rows
        if "compound_id" not in self.col_of and live.any():
            found = self._by_containment(pts, live)
            for i in np.flatnonzero(live):
                self.rows[i]["compound_id"] = found.get(int(i))
            self.r.warn("import.warn.garages_by_containment", file=self.t.name, n=len(found))
        for i, rec in enumerate(self.rows):
            rec["location"] = pts[i]
            if not rec.get("id"):
                p = pts[i]
                rec["id"] = stable_id("G-", rec.get("compound_id"), rec.get("name"), rec.get("garage_type"),
                                      None if p is None else (round(p.x, 6), round(p.y, 6)))

    def _resolve_handover(self) -> None:
        self._compound_refs(required=True)

    def _resolve_barrier(self) -> None:
        for i, rec in enumerate(self.rows):
            rec["geom"] = to_multilinestring(self.geom[i]) if self.geom[i] is not None else None
            if not rec.get("id") and rec["geom"] is not None:
                rec["id"] = stable_id("BR-", rec.get("kind"), shapely.to_wkb(rec["geom"], hex=True))

    # ------------------------------------------------------------------ keys and duplicates
    def _keys(self) -> None:
        t, r = self.t, self.r
        keys = KEYS[self.table_name]
        first: dict[tuple[Any, ...], int] = {}
        unique = False
        if len(keys) == 1:  # one key column: no duplicates is the usual case, checked in one pass
            vals = [rec.get(keys[0]) if ok else None for rec, ok in zip(self.rows, self.ok_rows.tolist(), strict=True)]
            first = {(v,): i for i, v in enumerate(vals) if v is not None}
            unique = len(first) == sum(v is not None for v in vals)
        if not unique:  # row by row, naming each duplicate and the row it repeats
            first = {}
        for i, rec in enumerate(self.rows if not unique else ()):
            if not self.ok_rows[i]:
                continue
            k = tuple(rec.get(c) for c in keys)
            if any(v is None for v in k):
                continue
            if k in first:
                col = self.col_of.get(keys[0])
                r.error(t.where(i, col), "import.key.duplicate", keys="/".join(keys), value="/".join(map(str, k)),
                        first=t.at(first[k]))
                self.ok_rows[i] = False
            else:
                first[k] = i
        table = self.model.__table__
        cols = [table.c[c] for c in keys]
        found: set[tuple[Any, ...]] = set()
        klist = list(first)
        if len(cols) == 1:
            found = {(v,) for v in self._existing_values(cols[0], (k[0] for k in klist))}
        else:
            for s in range(0, len(klist), 500):
                found.update(tuple(row) for row in self.s.execute(select(*cols).where(tuple_(*cols).in_(klist[s:s + 500]))))
        self.existing = found
        if found and not self.upsert:
            for k in klist:
                if k in found:
                    i = first[k]
                    r.error(t.where(i, self.col_of.get(keys[0])), "import.key.exists", value="/".join(map(str, k)))
        elif found:
            r.warn("import.warn.upsert", file=t.name, n=len(found), table=Message(f"import.table.{self.table_name}"))

    # ------------------------------------------------------------------ write
    def count(self) -> None:
        """What a write would do (for --dry-run)."""
        keys = KEYS[self.table_name]
        old = sum(1 for rec in self.rows if tuple(rec.get(c) for c in keys) in self.existing)
        self.r.inserted, self.r.updated, self.r.imported = self.n - old, old, self.n

    def write(self, user: str) -> None:
        """Insert new rows, update existing ones (--upsert), one audit event; inside the caller's transaction."""
        table = self.model.__table__
        keys = KEYS[self.table_name]
        geom_cols = [c for c in ("geom", "boundary", "location") if c in table.c]
        cols = set(table.c.keys())
        if all(rec.keys() <= cols for rec in self.rows):
            records = self.rows  # nothing to drop (the usual case): the rows are written as they are
        else:
            records = [{k: v for k, v in rec.items() if k in cols} for rec in self.rows]
        absent = [gc for gc in geom_cols if all(rec.get(gc) is None for rec in records)]
        self.geom_cols = [gc for gc in geom_cols if gc not in absent]
        if absent:  # a file without (say) boundaries never erases the stored ones on --upsert
            for rec in records:
                for gc in absent:
                    rec.pop(gc, None)
        if "source" in cols:
            source = f"import {self.t.name}"
            for rec in records:
                if not rec.get("source"):
                    rec["source"] = source
        if self.existing:
            new, old = [], []
            for rec in records:
                (old if tuple(rec.get(c) for c in keys) in self.existing else new).append(rec)
        else:
            new, old = records, []
        managed = []
        if self.table_name == "compound":
            for rec in new:
                if rec.get("managed_by_id"):
                    managed.append({"b_id": rec["id"], "managed_by_id": rec.pop("managed_by_id")})
        for gc in self.geom_cols:  # updates bind WKB; new rows are converted column-wise when written
            for rec, b in zip(old, _wkb([rec.get(gc) for rec in old]), strict=True):
                rec[gc] = b
        before = self._before(old) if old else None
        if new:
            self._insert_new(new)
        if old:
            self._update(old)
        if managed:
            self.s.execute(update(table).where(table.c.id == bindparam("b_id")).values(
                managed_by_id=bindparam("managed_by_id")), managed)
        self.r.inserted, self.r.updated = len(new), len(old)
        self.r.imported = len(new) + len(old)
        ids = [str(rec.get(keys[0])) for rec in records[:1000]]
        self.s.add(m.AuditEvent(user_name=user, action="import", entity=self.table_name, entity_id=None,
                                before=before, after={"file": self.t.name, "kind": self.kind, "inserted": len(new),
                                                      "updated": len(old), "keys": ids},
                                detail=f"import {self.kind} from {self.t.name}: {len(new)} inserted, {len(old)} updated"))
        self.s.flush()

    def _insert_new(self, new: list[dict[str, Any]]) -> None:
        """INSERT the new rows in chunks (progress per chunk), the spatial index filled once on SpatiaLite."""
        names, columns = self._new_columns(new)
        done = 0
        with deferred_spatial_index(self.s.connection(), self.model.__table__.name, self.geom_cols, len(new)):
            for k in range(0, len(new), CHUNK):
                chunk = [col[k:k + CHUNK] for col in columns]
                if not self._insert_raw(names, chunk):
                    chunk = [_wkb(v) if n.endswith("__wkb") else v for n, v in zip(names, chunk, strict=True)]
                    self.s.execute(self._insert_stmt(), [dict(zip(names, row, strict=True))
                                                         for row in zip(*chunk, strict=True)])
                done += len(chunk[0])
                self._tick("writing", done)

    def _new_columns(self, rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
        """New rows as columns, with column defaults (an empty cell stays NULL where the column allows it).

        Geometry columns (still shapely objects) are named `<column>__wkb`, the parameter names of
        `_insert_stmt()`.
        """
        with_default = [(c.name, c.nullable, c.default) for c in self.model.__table__.columns
                        if c.default is not None and not c.primary_key]
        first = rows[0].keys()
        uniform = all(rec.keys() == first for rec in rows)
        if uniform:  # the usual case: every row has the same cells; transposed in C, not looked up cell by cell
            names = list(first)
            pick = itemgetter(*names)
            columns = dict(zip(names, map(list, zip(*map(pick, rows), strict=True)), strict=True)) \
                if len(names) > 1 else {names[0]: [rec[names[0]] for rec in rows]}
        else:
            keys: dict[str, None] = {}
            for rec in rows:
                keys.update(dict.fromkeys(rec))
            columns = {k: [rec.get(k) for rec in rows] for k in keys}
        for name, nullable, d in with_default:
            if name in columns and nullable and uniform:
                continue  # every row has the cell: the empty ones stay NULL
            value = d.arg if d.is_scalar else d.arg(None) if d.is_callable else None
            if value is None:
                continue
            if name not in columns:
                columns[name] = [value] * len(rows)
                continue
            vals = columns[name]
            for i, v in enumerate(vals):
                if v is None and not (nullable and name in rows[i]):
                    vals[i] = value
        names = [f"{k}__wkb" if k in self.geom_cols else k for k in columns]
        return names, list(columns.values())

    def _insert_raw(self, names: list[str], columns: list[list[Any]]) -> bool:
        """One DB-API executemany of plain tuples (SQLite) or a COPY (PostGIS); False: not handled here.

        Skips SQLAlchemy's per-row parameter processing, most of the write time of a large file.
        """
        conn = self.s.connection()
        dialect = conn.dialect
        if not columns or not columns[0]:
            return False
        if dialect.name == "postgresql":
            return self._copy_postgis(conn, names, columns)
        if dialect.name != "sqlite":
            return False
        table = self.model.__table__
        compiled = self._insert_stmt().compile(dialect=dialect, column_keys=names)
        order = compiled.positiontup
        if not order or set(order) != set(names):
            return False
        by_name = dict(zip(names, columns, strict=True))
        ordered = []
        for key in order:
            values = by_name[key]
            if key.endswith("__wkb"):  # geometry goes as WKB bytes to ST_GeomFromWKB
                values = _wkb(values)
            else:
                proc = table.c[key].type._cached_bind_processor(dialect)
                if proc is not None:
                    values = [None if v is None else proc(v) for v in values]
            ordered.append(values)
        conn.exec_driver_sql(str(compiled), list(zip(*ordered, strict=True)))
        return True

    def _copy_postgis(self, conn: Any, names: list[str], columns: list[list[Any]]) -> bool:
        """PostGIS: COPY … FROM STDIN (geometries as hex EWKB, SRID 4326), bind conversions applied per column."""
        table = self.model.__table__
        plain = [k[:-5] if k.endswith("__wkb") else k for k in names]
        if any(n not in table.c for n in plain):
            return False
        out = []
        for key, name, values in zip(names, plain, columns, strict=True):
            if key.endswith("__wkb"):
                values = _wkb(values, srid=m.SRID)
            else:
                proc = table.c[name].type._cached_bind_processor(conn.dialect)
                if proc is not None:
                    values = [None if v is None else proc(v) for v in values]
            out.append(values)
        raw = conn.connection.dbapi_connection
        cols = ", ".join(f'"{n}"' for n in plain)
        dbapi = conn.dialect.dbapi
        try:
            with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                for row in zip(*out, strict=True):
                    copy.write_row(row)
        except dbapi.IntegrityError as exc:  # reported like any refused INSERT (import_file rolls back)
            raise IntegrityError("COPY", None, exc) from exc
        except dbapi.DataError as exc:
            raise DataError("COPY", None, exc) from exc
        return True

    def _insert_stmt(self) -> Any:
        """INSERT with geometry bound as plain WKB and built in SQL (ST_GeomFromWKB): no per-row conversions."""
        table = self.model.__table__
        return table.insert().values({gc: _from_wkb(f"{gc}__wkb") for gc in self.geom_cols})

    def _update(self, old: list[dict[str, Any]]) -> None:
        table = self.model.__table__
        keys = KEYS[self.table_name]
        setcols = [c for c in old[0] if c not in keys]
        values: dict[str, Any] = {c: _from_wkb(f"v_{c}") if c in self.geom_cols else bindparam(f"v_{c}")
                                  for c in setcols}
        if "version" in table.c:
            values["version"] = table.c.version + 1
        if "updated_at" in table.c:
            values["updated_at"] = m.utcnow()
        stmt = update(table).values(values)
        for k in keys:
            stmt = stmt.where(table.c[k] == bindparam(f"k_{k}"))
        params = [{**{f"v_{c}": rec.get(c) for c in setcols}, **{f"k_{k}": rec[k] for k in keys}} for rec in old]
        for k in range(0, len(params), CHUNK):
            self.s.execute(stmt, params[k:k + CHUNK])

    def _before(self, old: list[dict[str, Any]]) -> dict[str, Any]:
        """The updated rows' previous attribute values (no geometry), for the audit trail."""
        table = self.model.__table__
        keys = KEYS[self.table_name]
        from geoalchemy2 import Geometry

        cols = [c for c in table.columns if not isinstance(c.type, Geometry)]
        rows: list[dict[str, Any]] = []
        ks = [tuple(rec[k] for k in keys) for rec in old][:500]
        if len(keys) == 1:
            stmt = select(*cols).where(table.c[keys[0]].in_([k[0] for k in ks]))
        else:
            stmt = select(*cols).where(tuple_(*[table.c[k] for k in keys]).in_(ks))
        for row in self.s.execute(stmt).mappings():
            rows.append({k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in row.items()})
        return {"rows": rows, "count": len(old)}


def _from_wkb(name: str) -> Any:
    """SQL building a geometry from a WKB parameter (NULL stays NULL), SRID 4326, on both databases."""
    return func.ST_GeomFromWKB(bindparam(name, type_=LargeBinary), m.SRID)


def _wkb(geoms: list[Any], srid: int | None = None) -> list[Any]:
    """Geometries as WKB bytes (None stays None); with an SRID, as the hex EWKB that PostGIS reads in COPY text."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    wkb = shapely.to_wkb(arr).tolist()
    if srid is None:
        return wkb
    # the SRID goes into each 5-byte WKB header (byte order, type); a file has a handful of distinct headers,
    # so each is converted once (shapely's own EWKB output first copies every geometry to set its SRID)
    heads: dict[str, str] = {}
    out: list[Any] = []
    for b in wkb:
        if b is None:
            out.append(None)
            continue
        h = b.hex()
        head = heads.get(h[:10])
        if head is None:
            head = heads[h[:10]] = _ewkb_header(b[:5], srid).hex()
        out.append(head + h[10:])
    return out


def _ewkb_header(head: bytes, srid: int) -> bytes:
    """A WKB header (byte order, geometry type) turned EWKB: the SRID flag set and the SRID appended."""
    order = "little" if head[0] == 1 else "big"
    kind = int.from_bytes(head[1:5], order)
    if kind & 0x20000000:  # already carries an SRID: never from shapely's plain WKB, kept for safety
        raise ValueError("WKB already carries an SRID")
    return head[:1] + (kind | 0x20000000).to_bytes(4, order) + srid.to_bytes(4, order)
