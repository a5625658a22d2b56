"""Write API with jurisdiction checks: PATCH compounds (GET is web/api.py's), audit, /me, exports.

(Handover rows are the handover plugin's: /api/v1/handovers/… lives in plugins/handover/pages.py.)

PATCH bodies are JSON objects of whitelisted fields plus `version`. Authorisation comes first: a caller who may
not change the named fields of this compound gets 403 (audited) whatever the body holds; then unknown or
protected fields → 400, values checked by type/enum/range → 400, a move outside the caller's jurisdiction →
403 (audited), stale `version` → 409. Each committed change writes one audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping
from sqlalchemy.orm.exc import StaleDataError

from geoplatform import audit
from geoplatform import models as m
from geoplatform.errors import Conflict, UserInputError
from web.auth import current_user, require

bp = Blueprint("api_edit", __name__, url_prefix="/api/v1")


class StaleIfMatch(Conflict):
    """The If-Match precondition names a version that is no longer current (HTTP 412)."""

    status = 412

# The compound schema (fields, ranges, enums) and the geometry → street rule are the importer's: geoplatform.edits.
GEOMETRY_FIELDS = ("boundary", "location")


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
    from geoplatform.edits import editable_names

    for name in editable_names():
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


@bp.patch("/compounds/<compound_id>")
def patch_compound(compound_id: str) -> Response:
    """Change fields of a compound given the version read: the body's `version` or an `If-Match` ETag.

    Checks: geoplatform.edits (the importer's schema and geometry → street rule); a stale body version is 409,
    a stale If-Match 412 (the HTTP rule for preconditions).
    """
    from geoplatform.edits import check_company, parse_edit, place
    from web.api import if_match_version

    ctx = _ctx()
    # authorisation before validation: may this caller change these fields of this compound at all? (403,
    # audited) — only then are the body, the version and the values checked (400/409/412 explain the rules)
    with ctx.session(readonly=True) as s:
        found = s.get(m.Compound, compound_id)
        if found is None:
            abort(404, "unknown compound")
        street_code = found.street_code
    small = (request.content_length or 0) <= current_app.config.get("JSON_MAX_BYTES", 1024 * 1024)
    sent = request.get_json(silent=True) if request.is_json and small else None
    named = sorted(k for k in sent if k != "version") if isinstance(sent, dict) else []
    require("edit_compound", {"kind": "compound", "id": compound_id, "street_code": street_code,
                              "fields": [str(k)[:64] for k in named]})
    body = _json_body()
    matched = if_match_version()  # If-Match: the ETag read, instead of (or agreeing with) the body's version
    if matched is not None and "version" in body and body["version"] != matched:
        raise UserInputError("compound.version_mismatch", version=body["version"], etag=matched)
    version = matched if matched is not None else _version(body)
    values = parse_edit({k: v for k, v in body.items() if k != "version"}, ctx.today)
    user = current_user()
    with ctx.session() as s:
        c = s.get(m.Compound, compound_id, with_for_update=True)
        if c is None:
            abort(404, "unknown compound")
        extra: dict[str, Any] = {"fields": sorted(values)}
        moved = [k for k in GEOMETRY_FIELDS if k in values]
        new_street = c.street_code
        if moved:  # the importer's rule: the street holding the patched point, else a point of the (new) boundary
            stored_boundary = to_shape(c.boundary) if c.boundary is not None else None
            boundary = values["boundary"] if "boundary" in values else stored_boundary
            location = values.get("location")
            if location is None and values.get("boundary") is None:
                location = to_shape(c.location) if c.location is not None else None
            new_street = place(s, boundary, location, moved)
            extra["new_street_code"] = new_street
        check_company(s, values)  # a key of the firms registry (RULES §7), never free text
        if values.get("community_code") is not None:
            community = s.get(m.Community, values["community_code"])
            if community is None:
                raise UserInputError("compound.unknown_community", field="community_code")
            extra["community_street_code"] = community.street_code
        require("edit_compound", _resource(c, **extra))
        if "community_street_code" in extra and extra["community_street_code"] != new_street:
            raise UserInputError("compound.community_street", field="community_code")
        if c.version != version:
            stale = StaleIfMatch if matched is not None else Conflict
            raise stale("compound.stale_version", compound=compound_id, version=c.version, sent=version)
        before = {k: _plain(getattr(c, k), k) for k in values}
        for key, value in values.items():
            setattr(c, key, from_shape(value, srid=m.SRID) if key in GEOMETRY_FIELDS and value is not None else value)
        if new_street != c.street_code:
            before["street_code"] = c.street_code
            c.street_code = new_street
            values["street_code"] = new_street
        try:
            s.flush()
        except StaleDataError:
            s.rollback()
            raise Conflict("compound.changed_meanwhile", compound=compound_id) from None
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
    """Download a table, a layer or a plugin's named export (`?format=&street=`), checked like a read of it.

    The same function as `geoplatform export` (`geoplatform.io.export.export_to_file`): the same bad input
    gets the same message, as 400 (bad format), 404 (unknown export or street) or 403.
    """
    import tempfile
    from pathlib import Path

    from flask import after_this_request, send_file

    from geoplatform.io import export as ex

    ctx = _ctx()
    fmt = request.args.get("format", "geojson")
    street = (request.args.get("street") or "")[:100] or None

    def authorize(target: ex.ExportTarget, street_code: str | None) -> None:
        # `data`: what the file holds (a table, a layer, or an exporter's declared data) — the read rule of that
        # data decides (docs/security.md): the same answer as reading it through the API or a workspace
        resource = {"kind": "export", "id": target.name, "data": target.data, "facility": None,
                    "street_code": street_code, "format": fmt}
        g.export_street = street_code
        require("export", resource)
        if target.permission not in ("view", "export"):
            require(target.permission, resource)

    tmpdir = tempfile.TemporaryDirectory(prefix="gp-export-")
    path = Path(tmpdir.name) / f"{name}{EXPORT_SUFFIX.get(fmt, '')}"
    try:  # a UserInputError is answered by web/http.py's handler (400/403/404), like the CLI's exit 2
        rows = ex.export_to_file(ctx, name, fmt, path, street, authorize=authorize)
    except BaseException:
        tmpdir.cleanup()
        raise

    @after_this_request
    def _cleanup(response: Response) -> Response:
        response.call_on_close(tmpdir.cleanup)
        return response

    from geoplatform.webshell import export_made

    export_made(name, fmt, g.get("export_street"), rows if isinstance(rows, int) else None)
    return send_file(path, mimetype=EXPORT_MIMETYPES[fmt], as_attachment=True, download_name=path.name)
