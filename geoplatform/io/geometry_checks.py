"""Import step: read each row's geometry and check it — type, emptiness, validity, CRS, inside the district.

The geometry comes from the file's own geometry, a WKT column or lon/lat columns. After the
checks every good row's geometry is in EPSG:4326 in `job.geom` (compounds: a point given in
lon/lat columns next to a boundary goes to `job.location`). `--repair` mends invalid shapes with
make_valid and lists every repair; otherwise an invalid shape is an error naming the row.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplatform.crs import SourceCRS, diagnose, looks_like_lonlat, parse_crs, to_wgs84
from geoplatform.i18n import Localized, Message
from geoplatform.io.crs_choice import check_choice, system_of
from geoplatform.io.fields import GEOMETRY_KIND, ValueProblem, parse_number
from geoplatform.io.geometry import has_nonfinite, to_multilinestring, to_multipolygon
from geoplatform.io.job import ImportJob
from geoplatform.io.messages import geos_reason, one_of
from geoplatform.io.values import is_blank
from geoplatform.reference import DISTRICT_NAME
from geoplatform.streets import (
    NEAR_DEGREES,
    district_outline,
    inside_district,
    km_from_district,
    representative_points,
)

__all__ = ["NEAR_DEGREES", "check_geometries"]

TYPE_ID = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}  # GEOS
ALLOWED = {"polygon": ("Polygon", "MultiPolygon"), "polygon?": ("Polygon", "MultiPolygon"),
           "polygon|point": ("Polygon", "MultiPolygon", "Point"), "polygon|point?": ("Polygon", "MultiPolygon", "Point"),
           "point?": ("Point",),
           "line": ("LineString", "MultiLineString")}  # GEOMETRY_KIND → accepted geometry types


def check_geometries(job: ImportJob) -> None:
    """Every geometry check of a core kind; problems go to the report, good geometries to `job.geom`."""
    t, r = job.t, job.r
    want = GEOMETRY_KIND[job.kind]
    if want == "none":
        return
    geoms = np.full(job.n, None, dtype=object)
    problems: dict[int, tuple[str | Message, Message]] = {}
    label: str | Message = Message("import.field.geometry")
    points_from_columns = None
    if t.geometry is not None:
        geoms = np.asarray(t.geometry, dtype=object).copy()
        problems = {i: (label, msg) for i, msg in t.geom_problems.items()}
    if "wkt" in job.col_of:
        label = job.col_of["wkt"]
        texts = [None if is_blank(v) else str(v).strip() for v in t.frame[job.col_of["wkt"]]]
        parsed = shapely.from_wkt(np.array(texts, dtype=object), on_invalid="ignore")
        for i, (txt, g) in enumerate(zip(texts, parsed, strict=True)):
            if txt is not None and g is None:
                problems[i] = (label, Message("import.wkt.invalid"))
        geoms = np.asarray(parsed, dtype=object)
    lonc, latc = job.col_of.get("lon"), job.col_of.get("lat")
    if (lonc is None) != (latc is None):
        r.error(t.name, "import.lonlat.no_partner", column=lonc or latc)
        return
    if lonc is not None:
        xs, ys = np.full(job.n, np.nan), np.full(job.n, np.nan)
        for i, (a, b) in enumerate(zip(t.frame[lonc], t.frame[latc], strict=True)):
            if is_blank(a) and is_blank(b):
                continue
            try:
                xs[i], ys[i] = parse_number(a), parse_number(b)
            except ValueProblem as exc:
                problems[i] = (f"{lonc}/{latc}", exc.message)
        has = np.isfinite(xs) & np.isfinite(ys)
        points_from_columns = np.where(has, shapely.points(np.nan_to_num(xs), np.nan_to_num(ys)), None)
        if t.geometry is None and "wkt" not in job.col_of:
            geoms = points_from_columns
            label = f"{lonc}/{latc}"
            points_from_columns = None
    job.geom_label = label
    for i, (where_col, msg) in problems.items():
        r.error(t.where(i, where_col), msg)
        job.ok_rows[i] = False
    _shape(job, geoms, label, want)
    live = ~shapely.is_missing(geoms) & job.ok_rows
    _validity(job, geoms, live, label)
    live = ~shapely.is_missing(geoms) & job.ok_rows
    loc_live = np.array([g is not None for g in points_from_columns]) & job.ok_rows \
        if points_from_columns is not None else None
    if not r.ok and not live.any():
        return
    source = _source_crs(job, geoms, live, points_from_columns, loc_live)
    if source is None:  # refused: no row can be placed (the report says why, once)
        job.ok_rows[live | (loc_live if loc_live is not None else False)] = False
        return
    if job.source is not None and system_of(source) is not None:  # a system the user chose: check it where we can
        _check_choice(job, geoms, live, points_from_columns, loc_live, system_of(source))
        live &= job.ok_rows
        if loc_live is not None:
            loc_live &= job.ok_rows
    out = np.full(job.n, None, dtype=object)
    if live.any():
        out[live] = to_wgs84(geoms[live], source)
    if points_from_columns is not None and loc_live.any():
        job.location[loc_live] = to_wgs84(points_from_columns[loc_live], source)
    _check_area(job, out, live, label, source)
    job.geom = out


def _shape(job: ImportJob, geoms: np.ndarray, label: str | Message, want: str) -> None:
    """Z/M dropped (warned), null/empty, non-finite coordinates, wrong type, too many vertices (in place)."""
    t, r = job.t, job.r
    present = ~shapely.is_missing(geoms) & job.ok_rows
    has_z = np.zeros(job.n, dtype=bool)
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
    nonfinite = np.zeros(job.n, dtype=bool)
    if present.any():
        nonfinite[present] = has_nonfinite(geoms[present])
    for i in np.flatnonzero(nonfinite):
        r.error(t.where(i, label), "import.geom.nonfinite")
        job.ok_rows[i] = False
    for i in np.flatnonzero(empty & job.ok_rows):
        if not want.endswith("?") and want != "polygon|point":
            r.error(t.where(i, label), "import.geom.empty")
            job.ok_rows[i] = False
    nulls = shapely.is_missing(geoms) & job.ok_rows & ~empty
    if want in ("polygon", "line"):
        for i in np.flatnonzero(nulls):
            r.error(t.where(i, label), "import.geom.null")
            job.ok_rows[i] = False
    allowed = ALLOWED[want]
    live = ~shapely.is_missing(geoms) & job.ok_rows
    right_type = np.isin(shapely.get_type_id(geoms), [TYPE_ID[a] for a in allowed])
    for i in np.flatnonzero(live & ~right_type):
        kind = geoms[i].geom_type
        if kind == "MultiPoint" and "Point" in allowed and len(geoms[i].geoms) == 1:
            geoms[i] = geoms[i].geoms[0]
        else:
            r.error(t.where(i, label), "import.geom.wrong_type", geom_type=kind,
                    kind=Message(f"import.kind.{job.kind}"), allowed=one_of(list(allowed)))
            job.ok_rows[i] = False
    live = ~shapely.is_missing(geoms) & job.ok_rows
    if live.any():
        nverts = shapely.get_num_coordinates(geoms[live])
        for i, nv in zip(np.flatnonzero(live), nverts, strict=True):
            if nv > job.limits.max_vertices:
                r.error(t.where(i, label), "import.geom.too_many_vertices", n=int(nv),
                        limit=job.limits.max_vertices)
                job.ok_rows[i] = False


def _validity(job: ImportJob, geoms: np.ndarray, live: np.ndarray, label: str | Message) -> None:
    """Invalid shapes: an error naming the reason, or with --repair the make_valid result (each repair warned)."""
    if not live.any():
        return
    t, r = job.t, job.r
    idx = np.flatnonzero(live)
    valid = shapely.is_valid(geoms[idx])
    bad = idx[~valid]
    if not len(bad):
        return
    reasons = shapely.is_valid_reason(geoms[bad])
    if not job.repair:
        for i, why in zip(bad, reasons, strict=True):
            r.error(t.where(i, label), "import.geom.invalid", reason=geos_reason(why))
            job.ok_rows[i] = False
        return
    fixed = shapely.make_valid(geoms[bad])
    want = GEOMETRY_KIND[job.kind]
    for i, why, g in zip(bad, reasons, fixed, strict=True):
        g2 = to_multilinestring(g) if want == "line" else to_multipolygon(g) if "polygon" in want else g
        if g2.is_empty:
            r.error(t.where(i, label), "import.geom.unrepairable", reason=geos_reason(why))
            job.ok_rows[i] = False
            continue
        geoms[i] = g2
        r.warn("import.warn.repaired", where=t.where(i, label), reason=geos_reason(why), geom_type=g2.geom_type,
               parts=len(g2.geoms))


def _source_crs(job: ImportJob, geoms: np.ndarray, live: np.ndarray, pts: np.ndarray | None,
                loc_live: np.ndarray | None) -> SourceCRS | None:
    """The file's CRS (--crs, then the file's own, else WGS-84 only when the coordinates look like it — never for
    CSV/XLSX, which cannot declare one: their system must be chosen); None: refused."""
    t, r = job.t, job.r
    xy = shapely.get_coordinates(geoms[live]) if live.any() else np.empty((0, 2))
    if pts is not None and loc_live is not None and loc_live.any():
        xy = np.vstack([xy, shapely.get_coordinates(pts[loc_live])])
    x, y = xy[:, 0], xy[:, 1]
    declared = None
    if job.source is not None:
        if t.crs is not None and t.crs.name != job.source.name:
            r.warn("import.warn.crs_override", file=t.name, crs=job.source.name, origin=t.crs_origin, declared=t.crs.name)
        source, declared = job.source, "--crs"
    elif t.crs is not None:
        source, declared = t.crs, t.crs_origin
    else:
        source = None
    if source is None and not len(x):  # no coordinates at all (a streets list without boundaries): nothing to read
        return parse_crs("EPSG:4326")
    if source is None:
        cause = diagnose(x, y, _near_bbox(job), None)
        if cause or not looks_like_lonlat(x, y):
            r.error(t.name, cause or Message("import.crs.not_lonlat"))
            return None
        if not t.can_declare_crs:  # CSV/XLSX: the system is chosen, never guessed
            r.error(t.name, "import.crs.required", fmt="XLSX" if ".xlsx" in t.name.lower() else "CSV",
                    option=job.option("crs"))
            return None
        r.warn("import.warn.assumed_wgs84", file=t.name, option=job.option("crs"))
        return parse_crs("EPSG:4326")
    if source.is_geographic:
        cause = diagnose(x, y, _near_bbox(job),
                         Message("import.crs.declared", origin=declared, crs=source.name) if declared else None)
        if cause:
            r.error(t.name, cause)
            return None
    elif len(x) and looks_like_lonlat(x, y) and np.abs(x).max() < 180 and np.abs(y).max() < 90:
        r.error(t.name, "import.crs.degrees_as_metres", declared=declared, crs=source.name, x=x[0], y=y[0])
        return None
    return source


def _check_choice(job: ImportJob, geoms: np.ndarray, live: np.ndarray, pts: np.ndarray | None,
                  loc_live: np.ndarray | None, chosen: str) -> None:
    """The user's WGS-84 / GCJ-02 / BD-09 checked against the district (`crs_choice`): refused, with a suggestion,
    when another of the three places every point inside and the choice does not; a point farther outside than the
    GCJ shift is refused in any case. Rows farther than the district margin are left to `_check_area`."""
    t, r = job.t, job.r
    raw = np.full(job.n, None, dtype=object)  # each row's point as written: its lon/lat point, else its shape's
    if live.any():
        raw[live] = representative_points(geoms[live])
    if pts is not None and loc_live is not None:
        raw[loc_live] = pts[loc_live]
    rows = np.flatnonzero(~shapely.is_missing(raw))
    if not len(rows):
        return
    xy = shapely.get_coordinates(raw[rows].astype(object))
    district = _district(job)
    check = check_choice(xy[:, 0], xy[:, 1], chosen, district)
    margin_m = NEAR_DEGREES * 111_000 * 0.76  # beyond it `_check_area` names the row (wrong system, another place)
    names = {s: Message(f"import.crs.system.{s}") for s in ("wgs84", "gcj02", "bd09")}
    if check.refused:
        bad = rows[check.outside]
        shown = Message("import.crs.rows", rows=", ".join(str(t.label(int(i))) for i in bad[:8])
                        + (", …" if len(bad) > 8 else ""))
        r.error(t.name, "import.crs.choice_refused", n=len(bad), units=Message(f"import.units.{t.unit}"),
                district=DISTRICT_NAME, crs=names[chosen], rows=shown, tolerance=check.tolerance_m,
                suggestion=Localized(en=" / ".join(names[s].text("en") for s in check.suggestions),
                                     zh="、".join(names[s].text("zh") for s in check.suggestions)))
        job.ok_rows[bad] = False
        return
    for k in np.flatnonzero(check.far & (check.outside_m <= margin_m)):
        i = int(rows[k])
        r.error(t.where(i, job.geom_label), "import.crs.far_outside", m=float(check.outside_m[k]),
                district=DISTRICT_NAME, crs=names[chosen], shift=check.shift_m)
        job.ok_rows[i] = False


def _district(job: ImportJob) -> shapely.Geometry:
    """The outline features must lie near: the stored district's (the built-in one while importing the district),
    read once per import."""
    if job.district is None:
        job.district = district_outline(job.s if job.kind != "district" else None)
    return job.district


def _near_bbox(job: ImportJob) -> tuple[float, float, float, float]:
    return tuple(_district(job).bounds)  # type: ignore[return-value]


def _check_area(job: ImportJob, geoms: np.ndarray, live: np.ndarray, label: str | Message, source: SourceCRS) -> None:
    """Inside the district (`geoplatform.streets.inside_district`): one error for a file wholly elsewhere, else per row."""
    t, r = job.t, job.r
    every = live.copy()
    locs = np.array([g is not None for g in job.location])
    if not every.any() and not locs.any():
        return
    district = _district(job)
    inside = inside_district(geoms, district) & inside_district(job.location, district)  # geoms: None off `live`
    outside = np.flatnonzero(~inside)
    if not len(outside):
        return
    ref = np.where(every, geoms, job.location)
    dist_km = km_from_district(ref[outside].astype(object), district)
    where_crs = Message("import.crs.from", crs=source.name, origin=t.crs_origin) \
        if job.source is None and t.crs_origin else source.name
    if len(outside) == job.n:
        r.error(t.name, "import.area.all_outside", unit=Message(f"import.unit.{t.unit}"), district=DISTRICT_NAME,
                km=float(np.median(dist_km)), crs=where_crs)
        job.ok_rows[:] = False
        return
    for i, d in zip(outside, dist_km, strict=True):
        r.error(t.where(i, label), "import.area.outside", km=float(d), district=DISTRICT_NAME)
        job.ok_rows[i] = False
