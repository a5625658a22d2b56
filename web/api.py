"""/api/v1: layers, layer GeoJSON by bbox/street, compound search and detail, streets, KPIs, basemaps."""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for

from web import layerdata, queries
from web.auth import current_user, require
from web.http import BadParameter, cached, json_error, parse_bbox, parse_int
from web.lang import current_lang
from web.maplayers import all_layers, find_layer, layer_meta

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def visible_layers(context) -> list:  # noqa: ANN001
    """The layers the current user may see."""
    user = current_user()
    return [spec for spec in all_layers(context)
            if user is not None and context.allowed(user, spec.permission, {"kind": "layer", "id": spec.id})]


def street_param(context) -> str | None:  # noqa: ANN001
    """The `street` parameter (NBS code or any name) as a street code; NotFound (404, the one street error) when unknown."""
    from geoplatform.streets import resolve_street

    value = request.args.get("street")
    if not value:
        return None
    with context.session(readonly=True) as s:
        return resolve_street(s, value[:100])


INDEX_LINKS = (("layers", "api.layers"), ("streets", "api.streets"), ("compounds", "api.compounds"),
               ("kpi", "coverage.kpi"), ("basemaps", "api.basemaps"), ("ogc", "ogc.landing"))


@bp.get("/")
def index():  # noqa: ANN201
    """Links to the API's resources."""
    require("view")
    present = current_app.view_functions  # a resource of a disabled plugin is not linked
    return jsonify({"links": [{"rel": rel, "href": url_for(endpoint)} for rel, endpoint in INDEX_LINKS
                              if endpoint in present]})


@bp.get("/layers")
def layers():  # noqa: ANN201
    """Every layer the user may see, with titles, groups, legends and popup fields in the UI language."""
    require("view")
    context = _ctx()
    lang = current_lang()
    out = []
    for spec in visible_layers(context):
        meta = layer_meta(spec, lang)
        meta["features"] = url_for("api.layer_features", layer_id=spec.id)
        out.append(meta)
    return jsonify({"layers": out})


def permitted_layer(context, layer_id: str):  # noqa: ANN001, ANN201
    """The layer a data request names, once the user may see it: 404 unknown, 401/403 (audited) not allowed.

    The one gate of every layer's data (GeoJSON features and vector tiles).
    """
    spec = find_layer(context, layer_id)
    if spec is None:
        abort(json_error(404, f"unknown layer {layer_id!r}"))
    require(spec.permission, {"kind": "layer", "id": spec.id})
    return spec


@bp.get("/layers/<layer_id>/features")
def layer_features(layer_id: str):  # noqa: ANN201
    """The layer's GeoJSON for `bbox` (minx,miny,maxx,maxy), `zoom` (simplification) and `street`."""
    context = _ctx()
    spec = permitted_layer(context, layer_id)
    bbox = parse_bbox(request.args.get("bbox"))
    zoom = parse_int(request.args.get("zoom"), "zoom", None, 0, 24)
    street = street_param(context)
    bbox = layerdata.effective_bbox(spec, bbox, zoom)
    lang = current_lang()
    key = f"features|{layer_id}|{bbox}|{zoom}|{street}|{lang}|{queries.revision(context)}"
    return cached(key, lambda: layerdata.layer_geojson_text(context, spec, bbox, zoom, street, lang),
                  mimetype="application/geo+json")


@bp.get("/tiles/<layer_id>/<z>/<x>/<y>.mvt")
def layer_tile(layer_id: str, z: str, x: str, y: str):  # noqa: ANN201
    """One Mapbox vector tile of the layer (XYZ, Web Mercator; optional `street`): the GeoJSON's features and attributes.

    Same gate and caching as the GeoJSON features (ETag from the data revision, `private, no-store`);
    400 for a z/x/y that names no tile, 404 for an unknown layer; an empty tile is an empty body.
    """
    from layers.mvt import MAX_ZOOM, MIME, valid_tile
    from layers.mvt import layer_tile as encode_tile

    context = _ctx()
    spec = permitted_layer(context, layer_id)
    zi = parse_int(z, "z", None, 0, MAX_ZOOM)
    xi = parse_int(x, "x", None, 0, 2**zi - 1)
    yi = parse_int(y, "y", None, 0, 2**zi - 1)
    if zi is None or xi is None or yi is None or not valid_tile(zi, xi, yi):  # pragma: no cover - parse_int refuses
        raise BadParameter("z", "not a tile")
    street = street_param(context)
    lang = current_lang()
    key = f"tile|{layer_id}|{zi}|{xi}|{yi}|{street}|{lang}|{queries.revision(context)}"
    return cached(key, lambda: encode_tile(context, spec, zi, xi, yi, street, lang), mimetype=MIME)


COMPOUNDS_MAX_LIMIT = 500


@bp.get("/compounds")
def compounds():  # noqa: ANN201
    """Compounds whose name or an alias contains `q` (and in `street`): `limit` of them from `offset`, with `total`.

    Without `q`, every compound in id order: follow the `next` link (or raise `offset`) to list them all.
    """
    require("view", {"kind": "compound"})
    context = _ctx()
    q = (request.args.get("q") or "").strip()
    if len(q) > 100:
        raise BadParameter("q", "at most 100 characters")
    limit = parse_int(request.args.get("limit"), "limit", 20, 1, COMPOUNDS_MAX_LIMIT)
    offset = parse_int(request.args.get("offset"), "offset", 0, 0, 10**9)
    street = street_param(context)
    key = f"search|{q}|{street}|{limit}|{offset}|{queries.revision(context)}"

    def build() -> dict:
        rows, total = queries.search_page(context, q, street, limit, offset)
        base = {k: v for k, v in (("q", q), ("street", request.args.get("street"))) if v}
        links = [{"rel": "self", "href": url_for("api.compounds", **base, limit=limit, offset=offset)}]
        if offset + len(rows) < total:
            links.append({"rel": "next", "href": url_for("api.compounds", **base, limit=limit,
                                                         offset=offset + limit)})
        if offset > 0:
            links.append({"rel": "prev", "href": url_for("api.compounds", **base, limit=limit,
                                                         offset=max(0, offset - limit))})
        return {"compounds": rows, "total": total, "limit": limit, "offset": offset, "links": links}

    return cached(key, build)


ETAG = re.compile(r'^(?:W/)?"v(\d+)(?:\.[0-9a-f]+)?"$')


def compound_etag(version: int, revision: str) -> str:
    """The ETag of a compound's representation: its `version` (what If-Match compares) and the data revision."""
    return f"v{version}.{hashlib.sha256(revision.encode()).hexdigest()[:12]}"


def if_match_version() -> int | None:
    """The compound version an `If-Match` header names (None when absent or `*`); 412 when it names none.

    Our ETags carry the version whatever the encoding, so a weak tag (W/, added to gzipped answers)
    names it too.
    """
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    found = {int(m.group(1)) for tag in raw.split(",") if (m := ETAG.match(tag.strip()))}
    if len(found) != 1:
        abort(json_error(412, "If-Match must be the ETag of the compound you read (\"v<version>.…\")"))
    return found.pop()


@bp.get("/compounds/<compound_id>")
def compound(compound_id: str):  # noqa: ANN201
    """One compound with every attribute, plugin attributes and `version`; ETag (If-Match on PATCH names it)."""
    context = _ctx()
    detail = queries.compound_detail(context, compound_id)
    if detail is None:
        return json_error(404, f"unknown compound {compound_id!r}")
    require("view", {"kind": "compound", "id": compound_id, "street_code": detail.get("street_code")})
    etag = compound_etag(int(detail["version"]), queries.revision(context))
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = jsonify(detail)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# PATCH /api/v1/compounds/<id> (field whitelist → 400, stale version → 409 — or 412 when it came as
# If-Match —, jurisdiction → 403) is the accounts issue's route: it registers on this blueprint (`bp`) from its own module, so it is not here.


@bp.get("/streets")
def streets():  # noqa: ANN201
    """Streets with code, name, kind and bounding box (for the street filter)."""
    require("view")
    context = _ctx()
    return cached(f"streets|{queries.revision(context)}", lambda: {"streets": queries.street_list(context)})


@bp.get("/basemaps")
def basemaps():  # noqa: ANN201
    """The basemaps offered in the switcher (key-less Tianditu marked disabled; GCJ-02 never offered)."""
    require("view")
    return jsonify({"basemaps": queries.basemap_list(_ctx(), current_lang())})
