"""Write API with jurisdiction checks: PATCH compounds (GET is web/api.py's), GET/PATCH handover rows, audit, /me.

PATCH bodies are JSON objects of whitelisted fields plus `version`; unknown or protected fields
→ 400, values checked by type/enum/range → 400, outside the caller's jurisdiction → 403
(audited), stale `version` → 409. Each committed change writes one audit event.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

import shapely
from flask import Blueprint, Response, abort, current_app, jsonify, request
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, mapping, shape
from sqlalchemy.orm.exc import StaleDataError

from geoplatform import audit
from geoplatform import models as m
from web.auth import current_user, require

bp = Blueprint("api_edit", __name__, url_prefix="/api/v1")

PROTECTED_COMPOUND_FIELDS = frozenset({"id", "street_code", "version", "managed_by_id", "source", "updated_at"})
# Kundulun lies far inside these bounds; anything outside is a coordinate mistake (wrong CRS, swapped axes).
PLAUSIBLE_BOUNDS = (73.0, 18.0, 135.0, 54.0)
STREET_TOLERANCE_DEG = 0.0005  # [D] ≈ 50 m: a boundary may overlap its street's edge by this much


class FieldError(ValueError):
    """A field value that cannot be accepted (→ 400 naming the field)."""


def _text(max_len: int, nullable: bool = True, min_len: int = 0) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if v is None and nullable:
            return None
        if not isinstance(v, str):
            raise FieldError("must be text")
        v = v.strip()
        if not min_len <= len(v) <= max_len:
            raise FieldError(f"length must be {min_len}–{max_len}")
        return v
    return check


def _number(lo: float, hi: float, integer: bool = False, nullable: bool = True) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if v is None and nullable:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise FieldError("must be a number")
        if not math.isfinite(v):
            raise FieldError("must be finite")
        if integer and not float(v).is_integer():
            raise FieldError("must be a whole number")
        if not lo <= v <= hi:
            raise FieldError(f"must be between {lo} and {hi}")
        return int(v) if integer else float(v)
    return check


def _enum(values: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if v not in values:
            raise FieldError(f"must be one of: {', '.join(values)}")
        return v
    return check


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise FieldError("must be true or false")
    return v


def _date(v: Any) -> dt.date | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise FieldError("must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise FieldError("must be a date YYYY-MM-DD") from None


def _aliases(v: Any) -> list[str]:
    if not isinstance(v, list) or len(v) > 50 or not all(isinstance(a, str) and 0 < len(a) <= 200 for a in v):
        raise FieldError("must be a list of up to 50 names")
    return [a.strip() for a in v]


def _geometry(kinds: tuple[str, ...], nullable: bool) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if v is None and nullable:
            return None
        if not isinstance(v, dict) or v.get("type") not in kinds:
            raise FieldError(f"must be a GeoJSON {' or '.join(kinds)}")
        try:
            geom = shape(v)
        except Exception:
            raise FieldError("is not valid GeoJSON") from None
        if geom.is_empty or not geom.is_valid:
            raise FieldError("geometry is empty or invalid (self-intersection?)")
        minx, miny, maxx, maxy = geom.bounds
        bx0, by0, bx1, by1 = PLAUSIBLE_BOUNDS
        if not (bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1):
            raise FieldError("coordinates must be WGS-84 longitude/latitude inside China")
        if geom.geom_type == "Polygon":
            geom = MultiPolygon([geom])
        return geom
    return check


COMPOUND_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": _text(200, nullable=False, min_len=1),
    "aliases": _aliases,
    "address": _text(300),
    "community_code": _text(12),
    "build_year": _number(1800, 2100, integer=True),
    "households": _number(0, 100_000, integer=True),
    "floor_area_m2": _number(0, 10_000_000),
    "management_mode": _enum(m.MANAGEMENT_MODES),
    "property_company": _text(200),
    "contract_end": _date,
    "owners_org": _enum(m.OWNERS_ORGS),
    "renovation": _enum(m.RENOVATION_STATES),
    "fee_collection_rate": _number(0, 1),
    "complaints_per_year": _number(0, 1_000_000, integer=True),
    "demolition_planned": _bool,
    "takeover_cost": _number(0, 1_000_000),
    "boundary": _geometry(("Polygon", "MultiPolygon"), nullable=True),
    "location": _geometry(("Point",), nullable=False),
}
GEOMETRY_FIELDS = ("boundary", "location")
HANDOVER_FIELDS = frozenset({"state", "note", "deadline", "items", "responsible_unit"})


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, "status": status, **extra})
    response.status_code = status
    return response


def _json_body() -> dict[str, Any]:
    limit = current_app.config.get("JSON_MAX_BYTES", 1024 * 1024)
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        abort(413)
    try:
        body = current_app.json.loads(raw or b"null")  # the app's parser: nesting depth bounded
    except ValueError:
        abort(400, "body must be a JSON object")
    if not isinstance(body, dict):
        abort(400, "body must be a JSON object")
    return body


def _version(body: dict[str, Any]) -> int:
    v = body.get("version")
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**31:
        abort(400, "`version` (the version you read) is required and must be an integer from 0 to 2^31-1")
    return v


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _geojson(value: Any) -> dict[str, Any] | None:
    return None if value is None else mapping(to_shape(value))


def compound_dict(c: m.Compound) -> dict[str, Any]:
    """A compound as the API returns it (geometries as GeoJSON, dates ISO)."""
    out: dict[str, Any] = {"id": c.id, "street_code": c.street_code, "version": c.version,
                           "managed_by_id": c.managed_by_id, "source": c.source}
    for name in COMPOUND_FIELDS:
        value = getattr(c, name)
        if name in GEOMETRY_FIELDS:
            value = _geojson(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value
    out["boundary_missing"] = c.boundary is None
    return out


def _resource(c: m.Compound, **extra: Any) -> dict[str, Any]:
    return {"kind": "compound", "id": c.id, "street_code": c.street_code, **extra}


def street_of(session: Any, geom: shapely.Geometry) -> str | None:
    """The street a geometry lies in (None when outside every street or across a street border)."""
    from geoplatform.store import read_frame

    streets = read_frame(session, "street", columns=["code", "geom"])
    streets = streets[streets.geometry.notna()]
    if streets.empty:
        return None
    geoms = streets.geometry.values
    if geom.geom_type == "Point":
        inside = shapely.covers(geoms, geom)
        return str(streets["code"].values[inside.argmax()]) if inside.any() else None
    overlap = shapely.area(shapely.intersection(geoms, geom))
    if not overlap.max() > 0:
        return None
    best = int(overlap.argmax())
    if not shapely.covers(shapely.buffer(geoms[best], STREET_TOLERANCE_DEG), geom):
        return None  # reaches into another street
    return str(streets["code"].values[best])


@bp.patch("/compounds/<compound_id>")
def patch_compound(compound_id: str) -> Response:
    """Change whitelisted fields of a compound given the `version` read (see module doc)."""
    body = _json_body()
    version = _version(body)
    changes = {k: v for k, v in body.items() if k != "version"}
    protected = sorted(k for k in changes if k in PROTECTED_COMPOUND_FIELDS)
    unknown = sorted(k for k in changes if k not in COMPOUND_FIELDS and k not in PROTECTED_COMPOUND_FIELDS)
    if protected:
        return _error(400, f"protected field(s) cannot be changed: {', '.join(protected)}", fields=protected)
    if unknown:
        return _error(400, f"unknown field(s): {', '.join(unknown)}", fields=unknown)
    if not changes:
        return _error(400, "nothing to change")
    values: dict[str, Any] = {}
    for key, raw in changes.items():
        try:
            values[key] = COMPOUND_FIELDS[key](raw)
        except FieldError as exc:
            return _error(400, f"{key}: {exc}", field=key)
    ctx = _ctx()
    user = current_user()
    with ctx.session() as s:
        c = s.get(m.Compound, compound_id, with_for_update=True)
        if c is None:
            abort(404, "unknown compound")
        extra: dict[str, Any] = {"fields": sorted(values)}
        moved = [values[k] for k in GEOMETRY_FIELDS if values.get(k) is not None]
        new_street = c.street_code
        if moved:
            streets = {street_of(s, g) for g in moved}
            new_street = streets.pop() if len(streets) == 1 else None
            extra["new_street_code"] = new_street
        if "community_code" in values and values["community_code"] is not None:
            community = s.get(m.Community, values["community_code"])
            if community is None:
                return _error(400, "community_code: unknown community", field="community_code")
            extra["community_street_code"] = community.street_code
        require("edit_compound", _resource(c, **extra))
        if "community_street_code" in extra and extra["community_street_code"] != (new_street or c.street_code):
            return _error(400, "community_code: the community belongs to another street", field="community_code")
        if c.version != version:
            return _error(409, f"compound {compound_id} changed: version is {c.version}, you sent {version}",
                          version=c.version)
        before = {k: _plain(getattr(c, k), k) for k in values}
        for key, value in values.items():
            setattr(c, key, from_shape(value, srid=m.SRID) if key in GEOMETRY_FIELDS and value is not None else value)
        if moved and new_street and new_street != c.street_code:
            before["street_code"] = c.street_code
            c.street_code = new_street
            values["street_code"] = new_street
        try:
            s.flush()
        except StaleDataError:
            s.rollback()
            return _error(409, f"compound {compound_id} was changed by someone else; reload and retry")
        after = {k: _plain(v, k) for k, v in values.items()}
        audit.record(s, user, "update", "compound", compound_id, before, after, street_code=before.get(
            "street_code", c.street_code))
        result = compound_dict(c)
    return jsonify(result)


def _plain(value: Any, key: str) -> Any:
    if key in GEOMETRY_FIELDS and value is not None:
        geom = value if isinstance(value, shapely.Geometry) else to_shape(value)
        return mapping(geom)
    return audit.jsonable(value)


def _handover_service():  # noqa: ANN202
    try:
        from plugins.handover import service
    except ImportError:  # pragma: no cover - the handover plugin is disabled or absent
        abort(404, "handover plugin not available")
    return service


def _handover_resource(service: Any, s: Any, compound_id: str, facility: str) -> dict[str, Any]:
    try:
        return service.handover_resource(s, compound_id, facility)
    except service.UnknownCompound:
        abort(404, "unknown compound")
    except service.HandoverError as exc:
        abort(400, str(exc))


@bp.get("/handovers/<compound_id>/<facility>")
def get_handover(compound_id: str, facility: str) -> Response:
    """One compound × facility handover row (`unknown`, version 0 when never surveyed)."""
    service = _handover_service()
    with _ctx().session(readonly=True) as s:
        require("view", _handover_resource(service, s, compound_id, facility))
        data = service.get_handover(s, compound_id, facility, today=_ctx().today)
    return Response(json.dumps(data, ensure_ascii=False, default=audit.jsonable), mimetype="application/json")


def _items(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 100:
        raise FieldError("must be a list of ledger items")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"content", "responsible_unit", "deadline", "done_date"}:
            raise FieldError("each item has only content, responsible_unit, deadline, done_date")
        out.append({"content": _text(2000, nullable=False, min_len=1)(item.get("content")),
                    "responsible_unit": _text(200)(item.get("responsible_unit")),
                    "deadline": _date(item.get("deadline")), "done_date": _date(item.get("done_date"))})
    return out


@bp.patch("/handovers/<compound_id>/<facility>")
def patch_handover(compound_id: str, facility: str) -> Response:
    """Move a handover row to `state` (RULES §2 transitions) given the `version` read."""
    service = _handover_service()
    body = _json_body()
    version = _version(body)
    unknown = sorted(k for k in body if k != "version" and k not in HANDOVER_FIELDS)
    if unknown:
        return _error(400, f"unknown field(s): {', '.join(unknown)}", fields=unknown)
    try:
        state = _text(32, nullable=False, min_len=1)(body.get("state"))
        note = _text(2000)(body.get("note"))
        deadline = _date(body.get("deadline"))
        items = _items(body.get("items"))
        unit = _text(200)(body.get("responsible_unit"))
    except FieldError as exc:
        return _error(400, str(exc))
    ctx = _ctx()
    with ctx.session() as s:
        resource = _handover_resource(service, s, compound_id, facility)
        user = require("edit_handover", {**resource, "fields": sorted(k for k in body if k != "version")})
        try:
            data = service.set_state(s, user, compound_id, facility, state, note=note, deadline=deadline,
                                     items=items, expected_version=version, responsible_unit=unit)
        except service.StaleVersion as exc:
            s.rollback()
            return _error(409, str(exc))
        except service.TransitionNotAllowed as exc:
            s.rollback()
            return _error(400, str(exc), allowed=list(exc.allowed))
        except service.HandoverError as exc:
            s.rollback()
            return _error(400, str(exc))
    return Response(json.dumps(data, ensure_ascii=False, default=audit.jsonable), mimetype="application/json")


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"{name} must be an integer")
    if not lo <= value <= hi:
        abort(400, f"{name} must be between {lo} and {hi}")
    return value


@bp.get("/audit")
def audit_events() -> Response:
    """The audit trail, newest first; filters entity, entity_id, street, user, outcome, action (bureau)."""
    street = request.args.get("street") or None
    require("view_audit", {"kind": "audit", "street_code": street})
    limit = _int_arg("limit", 200, 1, audit.MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 10_000_000)
    filters = {k: (request.args.get(k) or None) for k in ("entity", "entity_id", "user", "outcome", "action")}
    for key, value in filters.items():
        if value is not None and len(value) > 128:
            abort(400, f"{key} is too long")
    with _ctx().session(readonly=True) as s:
        events = audit.query(s, street=street, limit=limit, offset=offset, **filters)
    return jsonify({"events": events, "count": len(events), "limit": limit, "offset": offset})


@bp.get("/me")
def me() -> Response:
    """Who is logged in, and the CSRF token browser scripts send as X-CSRF-Token."""
    from web.security import csrf_token

    user = current_user()
    return jsonify({"name": user.name, "role": user.role, "street_code": user.street_code,
                    "utility": user.utility, "csrf_token": csrf_token()})



EXPORT_MIMETYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
                    "shp": "application/zip", "csv": "text/csv", "xlsx":
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXPORT_SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "csv": ".csv", "xlsx": ".xlsx"}


@bp.get("/export/<name>")
def export(name: str) -> Response:
    """Download a table or a plugin's named export (`?format=&street=`), checked like a read of it."""
    import tempfile
    from pathlib import Path

    from flask import after_this_request, send_file

    from geoplatform.io import export as ex
    from geoplatform.streets import match_street

    ctx = _ctx()
    fmt = request.args.get("format", "geojson")
    if fmt not in EXPORT_MIMETYPES:
        abort(400, f"format must be one of: {', '.join(EXPORT_MIMETYPES)}")
    street = request.args.get("street") or None
    if street is not None:
        with ctx.session(readonly=True) as s:
            street = match_street(s, street[:100])
        if street is None:
            abort(400, "unknown street")
    exporters = ctx.exporters()
    exporter = exporters.get(name)
    if exporter is None and name not in ex.EXPORTABLE_TABLES:
        abort(404, "unknown export")
    resource = {"kind": "export", "id": name, "street_code": street, "format": fmt}
    require("export", resource)
    if exporter is not None and getattr(exporter, "permission", "view") not in ("view", "export"):
        require(exporter.permission, resource)
    if exporter is not None and fmt not in exporter.formats:
        abort(400, f"export {name} supports {', '.join(exporter.formats)}")
    tmpdir = tempfile.TemporaryDirectory(prefix="gp-export-")
    path = Path(tmpdir.name) / f"{name}{EXPORT_SUFFIX[fmt]}"
    if exporter is not None:
        exporter.function(ctx, fmt, str(path), street)
    else:
        with ctx.session(readonly=True) as s:
            frame = ex.table_frame(s, name, street)
        ex.write_file(frame, path, fmt, table=name)

    @after_this_request
    def _cleanup(response: Response) -> Response:
        response.call_on_close(tmpdir.cleanup)
        return response

    return send_file(path, mimetype=EXPORT_MIMETYPES[fmt], as_attachment=True, download_name=path.name)
