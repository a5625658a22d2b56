"""OGC API – Features (Part 1: Core, GeoJSON) read-only at /ogc/ so QGIS and GDAL can add every layer.

Collections: `compounds`, `buildings` and every layer id (the two base ids are layers too).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from web import layerdata, queries
from web.auth import current_user, require
from web.http import BadParameter, cached, json_error, parse_bbox, parse_int
from web.lang import current_lang
from web.maplayers import all_layers, find_layer

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
GEOJSON = "application/geo+json"
KUNDULUN_BBOX = [109.65, 40.55, 110.05, 40.85]  # extent announced when the district table is empty


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _json(payload: Any, mimetype: str = "application/json") -> Response:
    import json

    return Response(json.dumps(payload, ensure_ascii=False, default=str), mimetype=mimetype)


def _check_format() -> None:
    f = request.args.get("f")
    if f not in (None, "", "json", "geojson"):
        raise BadParameter("f", "only json is offered")


def _collections(context) -> list:  # noqa: ANN001
    user = current_user()
    return [spec for spec in all_layers(context)
            if user is not None and context.allowed(user, spec.permission, {"kind": "layer", "id": spec.id})]


def district_extent(context) -> list[float]:  # noqa: ANN001
    """[minx, miny, maxx, maxy] of all streets (a fixed Kundulun box when there are none)."""
    streets = [s["bbox"] for s in queries.street_list(context) if s["bbox"]]
    if not streets:
        return KUNDULUN_BBOX
    return [min(b[0] for b in streets), min(b[1] for b in streets), max(b[2] for b in streets),
            max(b[3] for b in streets)]


def _collection_doc(context, spec, lang: str, extent: list[float]) -> dict[str, Any]:  # noqa: ANN001
    items = url_for("ogc.items", collection_id=spec.id, _external=True)
    return {
        "id": spec.id,
        "title": spec.title_zh if lang == "zh" else spec.title_en,
        "description": f"{spec.title_zh} / {spec.title_en} ({spec.plugin or 'core'})",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "href": url_for("ogc.collection", collection_id=spec.id,
                                                                         _external=True)},
            {"rel": "items", "type": GEOJSON, "title": "items", "href": items},
        ],
    }


@bp.get("/")
def landing():  # noqa: ANN201
    """Landing page: links to the API definition-free service's conformance and collections."""
    require("view")
    _check_format()
    from geoplatform.i18n import t

    return _json({
        "title": t("app.title", current_lang()),
        "description": "OGC API – Features (read-only) of the geoplatform map layers",
        "links": [
            {"rel": "self", "type": "application/json", "href": url_for("ogc.landing", _external=True)},
            {"rel": "conformance", "type": "application/json", "href": url_for("ogc.conformance", _external=True)},
            {"rel": "data", "type": "application/json", "href": url_for("ogc.collections", _external=True)},
        ],
    })


@bp.get("/conformance")
def conformance():  # noqa: ANN201
    """The conformance classes implemented."""
    require("view")
    _check_format()
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/collections")
def collections():  # noqa: ANN201
    """Every layer the user may read, as a collection."""
    require("view")
    _check_format()
    context = _ctx()
    lang = current_lang()
    extent = district_extent(context)
    return _json({
        "links": [{"rel": "self", "type": "application/json", "href": url_for("ogc.collections", _external=True)}],
        "collections": [_collection_doc(context, spec, lang, extent) for spec in _collections(context)],
    })


def _spec_or_404(collection_id: str):  # noqa: ANN202
    context = _ctx()
    spec = find_layer(context, collection_id)
    if spec is None:
        return context, None
    require(spec.permission, {"kind": "layer", "id": spec.id})
    return context, spec


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):  # noqa: ANN201
    """One collection's description."""
    _check_format()
    context, spec = _spec_or_404(collection_id)
    if spec is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    return _json(_collection_doc(context, spec, current_lang(), district_extent(context)))


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):  # noqa: ANN201
    """Features of a collection as GeoJSON, filtered by `bbox`, paged by `limit`/`offset` with next/prev links."""
    _check_format()
    context, spec = _spec_or_404(collection_id)
    if spec is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    bbox = parse_bbox(request.args.get("bbox"))
    if "bbox-crs" in request.args and request.args["bbox-crs"] != CRS84:
        raise BadParameter("bbox-crs", f"only {CRS84} is supported")
    limit = parse_int(request.args.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int(request.args.get("offset"), "offset", 0, 0, 10**9)
    lang = current_lang()
    key = f"ogc|{collection_id}|{bbox}|{limit}|{offset}|{lang}|{queries.revision(context)}"

    def build() -> dict[str, Any]:
        frame = layerdata.full_frame(context, spec, bbox, lang)
        matched = len(frame)
        page = frame.iloc[offset:offset + limit]
        features = layerdata.ogc_features(page)
        base = {"bbox": ",".join(repr(v) for v in bbox)} if bbox else {}
        links = [{"rel": "self", "type": GEOJSON,
                  "href": url_for("ogc.items", collection_id=spec.id, limit=limit, offset=offset, **base,
                                  _external=True)},
                 {"rel": "collection", "type": "application/json",
                  "href": url_for("ogc.collection", collection_id=spec.id, _external=True)}]
        if offset + len(features) < matched:
            links.append({"rel": "next", "type": GEOJSON,
                          "href": url_for("ogc.items", collection_id=spec.id, limit=limit, offset=offset + limit,
                                          **base, _external=True)})
        if offset > 0:
            links.append({"rel": "prev", "type": GEOJSON,
                          "href": url_for("ogc.items", collection_id=spec.id, limit=limit,
                                          offset=max(0, offset - limit), **base, _external=True)})
        import datetime as dt

        return {"type": "FeatureCollection", "features": features, "numberMatched": matched,
                "numberReturned": len(features), "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "links": links}

    return cached(key, build, mimetype=GEOJSON)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):  # noqa: ANN201
    """One feature of a collection by id."""
    _check_format()
    context, spec = _spec_or_404(collection_id)
    if spec is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    frame = layerdata.full_frame(context, spec, None, current_lang())
    hit = frame[frame.index.astype(str) == feature_id]
    if not len(hit):
        return json_error(404, f"unknown feature {feature_id!r}")
    feature = layerdata.ogc_features(hit)[0]
    feature["links"] = [{"rel": "collection", "type": "application/json",
                         "href": url_for("ogc.collection", collection_id=spec.id, _external=True)}]
    return _json(feature, GEOJSON)
