"""Import step: resolve what rows refer to, and their keys.

Streets (a code or any name variant, else the street the feature lies in —
`geoplatform.streets.street_codes_at`), communities, compounds (an id or a unique name; buildings and
garages without one: the compound whose boundary contains them), generated stable ids, then the
key check: duplicates within the file and rows already stored (refused, or updated with --upsert).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Text, any_, bindparam, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.i18n import Localized, Message
from geoplatform.io.geometry import to_multilinestring, to_multipolygon, to_multipolygons
from geoplatform.io.job import ImportJob
from geoplatform.reference import DISTRICT_CODE, DISTRICT_NAME, street_aliases
from geoplatform.sqlin import in_values
from geoplatform.streets import NoStreetPolygons, match_street, street_codes_at, street_lookup

LOOKUP_CHUNK = 50_000  # values per existence query (bound as one list)
SCAN_MIN = 10_000  # [D] PostGIS: from this many values an existence check may read the whole column instead…
SCAN_RATIO = 4  # [D] …when the table holds at most this many rows per value (the planner's estimate, pg_class)


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id from a record's content (same file → same ids on every import)."""
    h = hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}{h[:10].upper()}"


def resolve_references(job: ImportJob) -> None:
    """The table's own resolution step (a plugin kind: its compound_id references)."""
    resolver = RESOLVERS.get(job.table_name) if job.spec is None else resolve_records
    if resolver is not None:
        resolver(job)


# ---------------------------------------------------------------- shared lookups

def existing_values(session: Session, column: Any, values: Iterable[Any]) -> set[Any]:
    """The given values that the column already holds (one bound list per query, not one parameter each; on
    PostGIS one read of the whole column when the table is not much larger than the list — `SCAN_RATIO`)."""
    out: set[Any] = set()
    vals = list(values)
    if len(vals) >= SCAN_MIN and session.bind.dialect.name == "postgresql":
        rows = session.execute(select(text("reltuples")).select_from(text("pg_class")).where(  # -1: never counted
            text("oid = CAST(:t AS regclass)").bindparams(t='"' + column.table.name.replace('"', '""') + '"'))).scalar()
        if rows is not None and 0 <= rows <= SCAN_RATIO * len(vals):
            # the same answer either way; probing 100,000 keys one by one in the primary key costs ≈ 10× the scan
            # (more after a large delete: the probes visit the dead rows' entries too)
            wanted = set(vals)
            return {v for v in session.execute(select(column)).scalars() if v in wanted}
    for k in range(0, len(vals), LOOKUP_CHUNK):
        part = vals[k:k + LOOKUP_CHUNK]
        if session.bind.dialect.name == "postgresql" and plain_texts(part):
            # one text parameter split by the server: binding a list of 100,000 strings as an array costs
            # ≈ 10 µs per element in the driver (its array dumper is Python), the split next to nothing
            listed = func.string_to_array(bindparam("vals", value=SEP.join(part), type_=Text), SEP)
            where = column == any_(listed)
        elif session.bind.dialect.name == "postgresql":
            where = column == any_(bindparam("vals", value=part, type_=ARRAY(column.type)))
        else:  # SQLite: the list as one JSON text, unpacked by json_each
            listed = func.json_each(bindparam("vals", value=json.dumps(part, ensure_ascii=False, default=str))).table_valued("value")
            where = column.in_(select(listed.c.value))
        out.update(v for (v,) in session.execute(select(column).where(where)))
    return out


def _objects(values: list[Any]) -> np.ndarray:
    """A list as a one-dimensional object array (whatever its cells hold)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


SEP = "\x1f"  # the unit separator: splits a list of keys sent as one text (never in a key: checked)


def plain_texts(values: list[Any]) -> bool:
    """Every value a non-empty str, none holding SEP (then they can travel as one SEP-joined text)."""
    try:
        return all(values) and SEP not in "".join(values)
    except TypeError:
        return False


def compounds_containing(session: Session, points: np.ndarray, rows: np.ndarray) -> dict[int, str]:
    """Row → id of the compound whose boundary contains its point (one vectorised STRtree query)."""
    from geoplatform.store import read_frame

    comps = read_frame(session, "compound", columns=["id", "boundary"])
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


# ---------------------------------------------------------------- streets, communities, compounds

def _match_streets(job: ImportJob) -> None:
    """street_code column → codes (error naming the row when unknown)."""
    col = job.col_of.get("street_code")
    values = job.column("street_code")
    named = set(values)  # a file names a handful of streets on thousands of rows: each matched once
    named.discard(None)
    if not named:
        return
    lookup = street_lookup(job.s)
    codes = {v: match_street(job.s, v, lookup) for v in named}
    if None in codes.values():
        for i, v in enumerate(values):
            if v is not None and codes[v] is None:
                job.r.error(job.t.where(i, col), "import.street.unknown", value=v)
                job.ok_rows[i] = False
    job.set_column("street_code", list(map(codes.get, values)))


def _streets_by_location(job: ImportJob, points: np.ndarray, rows: np.ndarray, what: str) -> None:
    """Assign street_code to `rows` by the street their point lies in (`street_codes_at`), warn how it was done."""
    if not rows.any():
        return
    idx = np.flatnonzero(rows)
    try:
        codes = street_codes_at(job.s, points[idx])
    except NoStreetPolygons:
        for i in idx:
            job.r.error(job.t.where(i), "import.street.no_polygons", what=Message(f"import.table.{what}"))
            job.ok_rows[i] = False
        return
    for i, code in zip(idx, codes, strict=True):
        if code is None:
            job.r.error(job.t.where(i), "import.street.not_located", what=Message(f"import.table.{what}"))
            job.ok_rows[i] = False
    job.set_cells("street_code", idx.tolist(), list(codes))
    job.r.warn("import.warn.street_by_location", file=job.t.name, n=len(idx),
               units=Message(f"import.units.{job.t.unit}"))


def _match_communities(job: ImportJob) -> None:
    if "community_code" not in job.col_of:
        return
    comms = job.s.execute(select(m.Community.code, m.Community.name, m.Community.street_code)).all()
    by_code = {c: c for c, _, _ in comms}
    by_name: dict[tuple[str, str], str] = {(s, n): c for c, n, s in comms}
    col = job.col_of["community_code"]
    for i, rec in enumerate(job.rows):
        v = rec.get("community_code")
        if v is None:
            continue
        got = by_code.get(v) or by_name.get((rec.get("street_code"), v))
        if got is None:
            job.r.error(job.t.where(i, col), "import.community.unknown", value=v)
            job.ok_rows[i] = False
        rec["community_code"] = got


def _check_refs(job: ImportJob, name: str, column: Any, what: str) -> None:
    """A column naming rows of `column` (in the file or already stored); an error per unknown value."""
    col = job.col_of.get(name)
    if col is None:
        return
    in_file = {rec.get("id") for rec in job.rows}
    wanted = {rec[name] for rec in job.rows if rec.get(name)} - in_file
    found = existing_values(job.s, column, wanted)
    for i, rec in enumerate(job.rows):
        v = rec.get(name)
        if v and v not in in_file and v not in found:
            job.r.error(job.t.where(i, col), "import.ref.unknown", what=Message(f"import.table.{what}"), value=v)
            job.ok_rows[i] = False


def _compound_refs(job: ImportJob, required: bool) -> None:
    """compound_id column: an id, else a unique compound name (within the row's street when known)."""
    col = job.col_of.get("compound_id")
    if col is None:
        return
    values = job.column("compound_id")
    wanted = set(filter(None, values))
    ids = existing_values(job.s, m.Compound.id, wanted)
    names: dict[str, list[str]] = {}
    missing = wanted - ids
    if missing:
        for cid, name in job.s.execute(select(m.Compound.id, m.Compound.name).where(
                in_values(m.Compound.name, missing))):
            names.setdefault(name, []).append(cid)
    if not missing and "" not in values and not (required and None in values):
        return  # every value is a stored id: nothing to name, nothing to change
    by_name: list[tuple[int, str]] = []
    for i, v in enumerate(values):
        if v is None:
            if required and job.ok_rows[i]:
                job.r.error(job.t.where(i, col), "import.compound.required_empty")
                job.ok_rows[i] = False
            continue
        if v in ids:
            continue
        hits = names.get(v, [])
        if len(hits) == 1:
            by_name.append((i, hits[0]))
        else:
            if hits:
                job.r.error(job.t.where(i, col), "import.compound.ambiguous", value=v, n=len(hits))
            else:
                job.r.error(job.t.where(i, col), "import.compound.unknown", value=v)
            job.ok_rows[i] = False
    if by_name:
        job.set_cells("compound_id", *zip(*by_name, strict=True))


def _refers_to_firms(job: ImportJob) -> bool:
    """The table's `company` column is a foreign key to the firms registry (a plain text column is left alone)."""
    column = job.model.__table__.c.get("company")
    return column is not None and any(fk.column.table.name == "property_company" for fk in column.foreign_keys)


def _resolve_companies(job: ImportJob) -> None:
    """A `company` column names a firm: the registered name it matches (geoplatform.companies), or a new firm
    added to the registry on write (filing unknown; warned); an ambiguous name is an error naming the candidates."""
    from geoplatform.companies import CompanyIndex

    col = job.col_of.get("company")
    if col is None:
        return
    index = CompanyIndex(job.s.scalars(select(m.PropertyCompany.name)))
    seen: dict[str, list[str]] = {}
    matched: dict[str, str] = {}
    for i, rec in enumerate(job.rows):
        v = rec.get("company")
        if v is None:
            continue
        if not v:
            rec["company"] = None
            continue
        hits = seen[v] if v in seen else seen.setdefault(v, index.match(v))
        if len(hits) > 1:
            job.r.error(job.t.where(i, col), "import.company.ambiguous", value=v, candidates=" / ".join(hits))
            job.ok_rows[i] = False
        elif hits:
            if hits[0] != v:
                matched[v] = hits[0]
            rec["company"] = hits[0]
        elif v not in job.new_firms:
            job.new_firms.append(v)
    if matched:
        job.r.warn("import.warn.firms_matched", file=job.t.name, n=len(matched),
                   pairs="; ".join(f"{a} → {b}" for a, b in list(matched.items())[:10]))
    if job.new_firms:
        job.r.warn("import.warn.firms_created", file=job.t.name, n=len(job.new_firms),
                   names="、".join(job.new_firms[:10]) + ("…" if len(job.new_firms) > 10 else ""))


# ---------------------------------------------------------------- per table

def resolve_records(job: ImportJob) -> None:
    """A plugin kind: a compound_id column names a stored compound (an id or a unique name); a street_code
    column's street names become codes before keys are checked (a value no street matches is left as written,
    for the plugin's `check` to report); a company column names a firm of the registry (RULES §7)."""
    fields = {f.name: f for f in job.spec.fields}
    if "compound_id" in fields:
        _compound_refs(job, required=fields["compound_id"].required)
    if "street_code" in fields and "street_code" in job.col_of:
        lookup = street_lookup(job.s)
        for rec in job.rows:
            if rec.get("street_code") is not None:
                rec["street_code"] = match_street(job.s, rec["street_code"], lookup) or rec["street_code"]
    if "company" in fields and _refers_to_firms(job):
        _resolve_companies(job)
    for i, rec in enumerate(job.rows):
        rec["_row"] = job.t.label(i)


def _resolve_district(job: ImportJob) -> None:
    for i, rec in enumerate(job.rows):
        if not rec.get("name"):
            rec["name"] = DISTRICT_NAME
        if not rec.get("code"):
            if rec["name"] in (DISTRICT_NAME, "昆区"):
                rec["code"] = DISTRICT_CODE
            else:
                job.r.error(job.t.where(i), "import.district.no_code")
                job.ok_rows[i] = False
        rec["geom"] = to_multipolygon(job.geom[i]) if job.geom[i] is not None else None


def _resolve_street(job: ImportJob) -> None:
    for i, rec in enumerate(job.rows):
        name = rec.get("name") or ""
        if not rec.get("kind"):
            rec["kind"] = "town" if name.endswith("镇") else "subdistrict"
        if not rec.get("aliases"):
            rec["aliases"] = street_aliases(name, rec["kind"])
        rec["geom"] = to_multipolygon(job.geom[i]) if job.geom[i] is not None else None


def _resolve_community(job: ImportJob) -> None:
    _match_streets(job)
    codes: dict[str, str] | None = None  # stored street codes, read once when a row needs them
    for i, rec in enumerate(job.rows):
        if rec.get("street_code") is None and rec.get("code") and "street_code" not in job.col_of:
            if codes is None:
                codes = {c: c for (c,) in job.s.execute(select(m.Street.code))}
            rec["street_code"] = codes.get(rec["code"][:9])
            if rec["street_code"] is None:
                job.r.error(job.t.where(i), "import.community.no_street", code=rec["code"])
                job.ok_rows[i] = False
        elif rec.get("street_code") is None and job.ok_rows[i]:
            job.r.error(job.t.where(i, job.col_of.get("street_code")), "import.street.required_empty")
            job.ok_rows[i] = False
        g = job.geom[i]
        if g is not None and g.geom_type == "Point":  # a community given as a point (经度/纬度)
            rec["geom"], rec["location"] = None, g
        else:
            rec["geom"] = to_multipolygon(g) if g is not None else None
            rec["location"] = job.location[i]  # lon/lat columns beside a boundary
    if "street_code" not in job.col_of:
        job.r.warn("import.warn.street_from_code", file=job.t.name)


def _resolve_compound(job: ImportJob) -> None:
    t, r = job.t, job.r
    _match_streets(job)
    boundary = np.full(job.n, None, dtype=object)
    loc = job.location.copy()
    for i, g in enumerate(job.geom):
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
    for i in np.flatnonzero(np.array([p is None for p in loc]) & job.ok_rows):
        r.error(t.where(i, job.geom_label), "import.compound.not_placed")
        job.ok_rows[i] = False
    point_only = np.array([b is None for b in boundary]) & job.ok_rows
    if point_only.any():
        r.warn("import.warn.point_only", file=t.name, n=int(point_only.sum()))
    no_street = np.array([rec.get("street_code") is None for rec in job.rows]) & job.ok_rows
    if "street_code" in job.col_of:
        for i in np.flatnonzero(no_street):
            r.error(t.where(i, job.col_of["street_code"]), "import.street.required_empty")
            job.ok_rows[i] = False
        _declared_vs_located(job, loc)
    else:
        _streets_by_location(job, loc, no_street, "compound")
    _match_communities(job)
    _identify(job, loc)
    for i, rec in enumerate(job.rows):
        rec["boundary"], rec["location"] = boundary[i], loc[i]
        if not rec.get("id") and job.ok_rows[i]:
            match = job.matched.get(i)
            p = loc[i]
            rec["id"] = match.compound_id if match is not None else \
                stable_id(f"{rec['street_code']}-", rec.get("name"), round(p.x, 6), round(p.y, 6))
    if "id" not in job.col_of:
        r.warn("import.warn.ids_compound", file=t.name)
    _check_refs(job, "managed_by_id", m.Compound.id, "compound")
    _resolve_companies(job)


def _declared_vs_located(job: ImportJob, loc: np.ndarray) -> None:
    """A compound whose point lies in another street's boundary than the street its row gives: listed in a
    warning (the street given is kept), or — with `street_from_location` — moved to the street of its point."""
    rows = np.array([job.ok_rows[i] and rec.get("street_code") is not None and loc[i] is not None
                     for i, rec in enumerate(job.rows)], dtype=bool)
    idx = np.flatnonzero(rows)
    if not len(idx):
        return
    try:
        located = street_codes_at(job.s, loc[idx])
    except NoStreetPolygons:
        return  # nothing to compare with
    moved = [(int(i), job.rows[i]["street_code"], code) for i, code in zip(idx, located, strict=True)
             if code is not None and code != job.rows[i]["street_code"]]
    if not moved:
        return
    names = dict(job.s.execute(select(m.Street.code, m.Street.name)).all())
    shown = "; ".join(str(Message("import.street.moved", at=job.t.at(i), given=names.get(a, a),
                                  located=names.get(b, b))) for i, a, b in moved[:20]) + ("; …" if len(moved) > 20 else "")
    shown_zh = "；".join(Message("import.street.moved", at=job.t.at(i), given=names.get(a, a),
                                located=names.get(b, b)).text("zh") for i, a, b in moved[:20]) \
        + ("；……" if len(moved) > 20 else "")
    rows_text = Localized(en=shown, zh=shown_zh)
    units = Message(f"import.units.{job.t.unit}")
    if job.street_from_location:
        for i, _, code in moved:
            job.rows[i]["street_code"] = code
        job.r.warn("import.warn.street_from_location", file=job.t.name, n=len(moved), units=units, rows=rows_text)
    else:
        job.r.warn("import.warn.street_mismatch", file=job.t.name, n=len(moved), units=units, rows=rows_text,
                   option=job.option("street_from_location"))


def _identify(job: ImportJob, loc: np.ndarray) -> None:
    """Id-less rows that are stored compounds (`geoplatform.io.identity`: street + name or alias, else location
    within the match radius) take the stored id (`job.matched`); a name naming several stored compounds, two rows
    of the file that are one stored compound, or two id-less rows of one street with one name are errors."""
    from geoplatform.io import identity

    rows = [i for i, rec in enumerate(job.rows) if job.ok_rows[i] and not rec.get("id")]
    if not rows:
        return
    t, r = job.t, job.r
    name_col = job.col_of.get("name")
    seen: dict[tuple[Any, str], int] = {}  # (street, name key) → the first id-less row of the file with it
    for i in rows:
        key = (job.rows[i].get("street_code"), identity.name_key(job.rows[i].get("name")))
        if key[0] is None or not key[1]:
            continue
        if key in seen:
            r.error(t.where(i, name_col), "import.identity.repeated", name=job.rows[i].get("name"), first=t.at(seen[key]))
            job.ok_rows[i] = False
        else:
            seen[key] = i
    rows = [i for i in rows if job.ok_rows[i]]
    radius = match_radius(job.context)
    stored = identity.load_stored(job.s)
    matches, ambiguous = identity.match_rows(
        stored, [job.rows[i].get("street_code") for i in rows], [job.rows[i].get("name") for i in rows],
        [job.rows[i].get("aliases") or () for i in rows], loc[rows], radius)
    for k, ids in ambiguous.items():
        i = rows[k]
        r.error(t.where(i, name_col), "import.identity.ambiguous", name=job.rows[i].get("name"), n=len(ids),
                ids=", ".join(ids[:5]))
        job.ok_rows[i] = False
    first_of: dict[str, int] = {}  # stored id → the first row of the file that is it
    for k in sorted(matches):
        i, match = rows[k], matches[k]
        if match.compound_id in first_of:
            r.error(t.where(i, name_col), "import.identity.same_as", name=job.rows[i].get("name"),
                    id=match.compound_id, stored=match.name, first=t.at(first_of[match.compound_id]),
                    how=_how(job, match))
            job.ok_rows[i] = False
            continue
        first_of[match.compound_id] = i
        job.matched[i] = match
    if job.matched:
        by_name = sum(1 for x in job.matched.values() if x.how == "name")
        r.warn("import.warn.identity", file=t.name, n=len(job.matched), units=Message(f"import.units.{t.unit}"),
               by_name=by_name, by_location=len(job.matched) - by_name, radius=radius)


def _how(job: ImportJob, match: Any) -> Message:
    """How a row was recognised as a stored compound: same street and name, or its point within the radius."""
    if match.how == "name":
        return Message("import.identity.how.name")
    return Message("import.identity.how.location", m=match.metres, radius=match_radius(job.context))


def match_radius(context: Any) -> float:
    """The identity match radius in force (metres; `[rules.import] match_radius_m`)."""
    from geoplatform.io.identity import match_radius as radius

    return radius(context)


def _resolve_building(job: ImportJob) -> None:
    t, r = job.t, job.r
    _match_streets(job)
    _compound_refs(job, required=False)
    geoms = to_multipolygons(job.geom)
    live = ~shapely.is_missing(geoms) & job.ok_rows
    pts = np.full(job.n, None, dtype=object)  # a point inside each building, where containment needs one
    if "compound_id" not in job.col_of:
        if live.any():
            pts[live] = shapely.point_on_surface(geoms[live])
        found = compounds_containing(job.s, pts, live)
        idx = np.flatnonzero(live).tolist()
        job.set_cells("compound_id", idx, list(map(found.get, idx)))
        r.warn("import.warn.buildings_by_containment", file=t.name, n=len(found),
               orphans=int(live.sum()) - len(found))
    need_street = np.equal(_objects(job.column("street_code")), None) & live
    if need_street.any():
        compound_of = job.column("compound_id")
        cids = {compound_of[i] for i in np.flatnonzero(need_street).tolist()} - {None, ""}
        cstreet = dict(job.s.execute(select(m.Compound.id, m.Compound.street_code).where(
            in_values(m.Compound.id, cids))).all()) if cids else {}
        rest = np.zeros(job.n, dtype=bool)
        located: list[tuple[int, str]] = []
        for i in np.flatnonzero(need_street).tolist():
            code = cstreet.get(compound_of[i])
            if code:
                located.append((i, code))
            else:
                rest[i] = True
        if located:
            job.set_cells("street_code", *zip(*located, strict=True))
        if rest.any():
            missing = rest & shapely.is_missing(pts)
            pts[missing] = shapely.point_on_surface(geoms[missing])
            _streets_by_location(job, pts, rest, "building")
    glist = geoms.tolist()
    job.set_column("geom", glist)
    given = job.column("id")
    made = [(i, stable_id("B-", shapely.to_wkb(shapely.set_precision(glist[i], 1e-7), hex=True)))
            for i in np.flatnonzero(~_objects(given).astype(bool)).tolist()  # rows without an id
            if not given[i] and glist[i] is not None]
    if made:
        job.set_cells("id", *zip(*made, strict=True))
    if "id" not in job.col_of:
        r.warn("import.warn.ids_building", file=t.name)


def _resolve_garage(job: ImportJob) -> None:
    _compound_refs(job, required=False)
    pts = np.array([g if g is not None else job.location[i] for i, g in enumerate(job.geom)], dtype=object)
    live = np.array([p is not None for p in pts]) & job.ok_rows
    if "compound_id" not in job.col_of and live.any():
        found = compounds_containing(job.s, pts, live)
        for i in np.flatnonzero(live):
            job.rows[i]["compound_id"] = found.get(int(i))
        job.r.warn("import.warn.garages_by_containment", file=job.t.name, n=len(found))
    for i, rec in enumerate(job.rows):
        rec["location"] = pts[i]
        if not rec.get("id"):
            p = pts[i]
            rec["id"] = stable_id("G-", rec.get("compound_id"), rec.get("name"), rec.get("garage_type"),
                                  None if p is None else (round(p.x, 6), round(p.y, 6)))


def _resolve_handover(job: ImportJob) -> None:
    _compound_refs(job, required=True)


def _resolve_barrier(job: ImportJob) -> None:
    for i, rec in enumerate(job.rows):
        rec["geom"] = to_multilinestring(job.geom[i]) if job.geom[i] is not None else None
        if not rec.get("id") and rec["geom"] is not None:
            rec["id"] = stable_id("BR-", rec.get("kind"), shapely.to_wkb(rec["geom"], hex=True))


RESOLVERS: dict[str, Callable[[ImportJob], None]] = {
    "district": _resolve_district, "street": _resolve_street, "community": _resolve_community,
    "compound": _resolve_compound, "building": _resolve_building, "garage": _resolve_garage,
    "handover": _resolve_handover, "barrier": _resolve_barrier,
}  # table → its resolution step (property_company has none)


# ---------------------------------------------------------------- keys and duplicates

def check_keys(job: ImportJob) -> None:
    """Duplicate keys within the file (each naming the row it repeats) and keys already stored (refused unless
    --upsert); `job.existing` keeps the stored ones for the write."""
    t, r = job.t, job.r
    keys = job.keys
    first: dict[tuple[Any, ...], int] = {}
    unique = False
    key_values = [job.column(c) for c in keys]
    if len(keys) == 1:  # one key column: no duplicates is the usual case, checked in one pass
        vals = [v if ok else None for v, ok in zip(key_values[0], job.ok_rows.tolist(), strict=True)]
        first = {(v,): i for i, v in enumerate(vals) if v is not None}
        unique = len(first) == sum(v is not None for v in vals)
    if not unique:  # row by row, naming each duplicate and the row it repeats
        first = {}
    for i, k in enumerate(zip(*key_values, strict=True) if not unique else ()):
        if not job.ok_rows[i]:
            continue
        if any(v is None for v in k):
            continue
        if k in first:
            col = job.col_of.get(keys[0])
            r.error(t.where(i, col), "import.key.duplicate", keys="/".join(keys), value="/".join(map(str, k)),
                    first=t.at(first[k]))
            job.ok_rows[i] = False
        else:
            first[k] = i
    table = job.model.__table__
    cols = [table.c[c] for c in keys]
    found: set[tuple[Any, ...]] = set()
    klist = list(first)
    if len(cols) == 1:
        found = {(v,) for v in existing_values(job.s, cols[0], (k[0] for k in klist))}
    else:
        for s in range(0, len(klist), 500):
            found.update(tuple(row) for row in job.s.execute(select(*cols).where(tuple_(*cols).in_(klist[s:s + 500]))))
    job.existing = found
    if found and not job.upsert:
        row_names = job.column("name")
        for k in klist:
            if k in found:
                i = first[k]
                match = job.matched.get(i)
                if match is not None:  # an id-less ledger row recognised as a stored compound
                    r.error(t.where(i, job.col_of.get("name")), "import.identity.exists",
                            name=row_names[i], id=match.compound_id, stored=match.name,
                            how=_how(job, match), option=job.option("upsert"))
                else:
                    r.error(t.where(i, job.col_of.get(keys[0])), "import.key.exists", value="/".join(map(str, k)),
                            option=job.option("upsert"))
    elif found:
        r.warn("import.warn.upsert", file=t.name, n=len(found), table=Message(f"import.table.{job.table_name}"),
               option=job.option("upsert"))
