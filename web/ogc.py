"""OGC API – Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 3 queryables as query parameters) at /ogc/.

Read-only, for QGIS, GDAL/OGR and OWSLib. Every layer the user may see is a collection — a layer
mixing geometry types is split so each collection has one (see `layers.ogc`). The API definition
(`/ogc/api`, linked as `service-desc`) advertises the page sizes and each collection's queryables;
`/ogc/api.html` (`service-doc`) describes it for people. Items take `limit` (capped at MAX_LIMIT, as
the standard says), `offset`, `after` (keyset; `next` links use it), `bbox` (4 or 6 numbers) and
`?property=value` filters on queryables; any other parameter is a 400, so a misspelt filter never
silently returns everything. Authentication: Bearer token, HTTP Basic (user name + API token) or a
browser session (web/auth.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, request, url_for
from markupsafe import escape

from geoplatform.i18n import add_messages, t
from layers import ogc as engine
from web import queries
from web.auth import current_user, require
from web.http import BadParameter, cached, json_error
from web.lang import current_lang
from web.maplayers import all_layers
from web.ogc_api import GEOJSON, OPENAPI_TYPE, SCHEMA_JSON, document

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = 1000  # features of a page when `limit` is absent (GDAL and QGIS ask for this many)
MAX_LIMIT = 10_000  # a larger `limit` is served as this many (OGC API – Features, /req/core/fc-limit-response-1)
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
MAX_OFFSET = 10**9  # beyond any collection; larger values would overflow the database's integer
ITEM_PARAMETERS = frozenset({"f", "lang", "limit", "offset", "after", "bbox", "bbox-crs", "crs"})
API_VERSION = "1.1"

add_messages({
    "zh": {"ogc.title": "昆都仑区小区物业服务管理地图 OGC API – Features",
           "ogc.description": "地图图层的只读 OGC API – Features（GeoJSON），供 QGIS、GDAL、OWSLib 使用",
           "ogc.part.point": "{title}（点位）", "ogc.part.line": "{title}（线）", "ogc.part.polygon": "{title}（面）",
           "ogc.part.compound_points": "{title}（无边界小区的点位）"},
    "en": {"ogc.title": "Kundulun residential compounds – OGC API – Features",
           "ogc.description": "The map layers as a read-only OGC API – Features (GeoJSON) for QGIS, GDAL and OWSLib",
           "ogc.part.point": "{title} (points)", "ogc.part.line": "{title} (lines)",
           "ogc.part.polygon": "{title} (areas)", "ogc.part.compound_points": "{title} (points of compounds without a boundary)"},
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _json(payload: Any, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, default=str), mimetype=mimetype)


def _check_format() -> None:
    f = request.args.get("f")
    if f not in (None, "", "json", "geojson"):
        raise BadParameter("f", "only json is offered")


def _layers(context) -> list:  # noqa: ANN001
    """The layers the user may read."""
    user = current_user()
    return [spec for spec in all_layers(context)
            if user is not None and context.allowed(user, spec.permission, {"kind": "layer", "id": spec.id})]


def _collections(context, lang: str) -> list[engine.Collection]:  # noqa: ANN001
    return engine.collections(context, _layers(context), lang)


def _find(collection_id: str, lang: str) -> tuple[Any, engine.Collection | None]:
    context = _ctx()
    coll = engine.find(context, all_layers(context), collection_id, lang)
    if coll is not None:
        require(coll.spec.permission, {"kind": "layer", "id": coll.spec.id})
    return context, coll


def _title(coll: engine.Collection, lang: str) -> str:
    base = coll.spec.title_zh if lang == "zh" else coll.spec.title_en
    if coll.id == coll.spec.id:
        return base
    key = "ogc.part.compound_points" if coll.compounds else f"ogc.part.{coll.family}"
    return t(key, lang, title=base)


def _link(rel: str, mimetype: str, href: str, title: str | None = None) -> dict[str, str]:
    out = {"rel": rel, "type": mimetype, "href": href}
    if title:
        out["title"] = title
    return out


KUNDULUN_BBOX = [109.65, 40.55, 110.05, 40.85]  # the map's extent when the street table is empty


def district_extent(context) -> list[float]:  # noqa: ANN001
    """[minx, miny, maxx, maxy] of all streets (a fixed Kundulun box when there are none) — the map's extent."""
    streets = [s["bbox"] for s in queries.street_list(context) if s["bbox"]]
    if not streets:
        return KUNDULUN_BBOX
    return [min(b[0] for b in streets), min(b[1] for b in streets), max(b[2] for b in streets),
            max(b[3] for b in streets)]


def _collection_doc(context, coll: engine.Collection, lang: str) -> dict[str, Any]:  # noqa: ANN001
    spec = coll.spec
    doc: dict[str, Any] = {
        "id": coll.id,
        "title": _title(coll, lang),
        "description": f"{_title(coll, 'zh')} / {_title(coll, 'en')} ({spec.plugin or 'core'}; "
                       f"{coll.geometry_type or 'no features yet'})",
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link("self", "application/json", url_for("ogc.collection", collection_id=coll.id, _external=True)),
            _link("items", GEOJSON, url_for("ogc.items", collection_id=coll.id, _external=True), "items"),
            _link(QUERYABLES_REL, SCHEMA_JSON, url_for("ogc.queryables", collection_id=coll.id, _external=True),
                  "queryables"),
        ],
    }
    bbox = engine.extent(context, coll, lang)
    if bbox is not None:
        doc["extent"] = {"spatial": {"bbox": [[round(v, 7) for v in bbox]], "crs": CRS84}}
    return doc


@bp.get("/")
def landing():  # noqa: ANN201
    """Landing page: links to the API definition, its documentation, the conformance classes and the collections."""
    require("view")
    _check_format()
    lang = current_lang()
    return _json({
        "title": t("ogc.title", lang),
        "description": t("ogc.description", lang),
        "links": [
            _link("self", "application/json", url_for("ogc.landing", _external=True), "this document"),
            _link("service-doc", "text/html", url_for("ogc.api_html", _external=True), "the API documentation"),
            _link("conformance", "application/json", url_for("ogc.conformance", _external=True),
                  "conformance classes"),
            _link("data", "application/json", url_for("ogc.collections", _external=True), "collections"),
            _link("service-desc", OPENAPI_TYPE, url_for("ogc.api", _external=True), "the API definition"),
        ],
    })


@bp.get("/conformance")
def conformance():  # noqa: ANN201
    """The conformance classes implemented."""
    require("view")
    _check_format()
    return _json({"conformsTo": CONFORMANCE})


def _api_document(context, lang: str) -> dict[str, Any]:  # noqa: ANN001
    cols = _collections(context, lang)
    base = url_for("ogc.landing", _external=True)
    key = f"ogc|api|{lang}|{base}|{','.join(c.id for c in cols)}"

    def build() -> dict[str, Any]:
        return document(base, t("ogc.title", lang), t("ogc.description", lang), cols,
                        {c.id: engine.queryables(context, c, lang) for c in cols},
                        {c.id: _title(c, lang) for c in cols}, DEFAULT_LIMIT, MAX_LIMIT, API_VERSION)

    return context.memo(key, build)


@bp.get("/api")
def api():  # noqa: ANN201
    """The OpenAPI 3.0 definition of this API (collections, queryables, page sizes)."""
    require("view")
    _check_format()
    context = _ctx()
    lang = current_lang()
    key = f"ogc-api|{lang}|{url_for('ogc.landing', _external=True)}|{_user_key(context)}|{queries.revision(context)}"
    return cached(key, lambda: _api_document(context, lang), mimetype=OPENAPI_TYPE)


def _user_key(context) -> str:  # noqa: ANN001
    return ",".join(spec.id for spec in _layers(context))


@bp.get("/api.html")
def api_html():  # noqa: ANN201
    """The API documentation for people: every collection, its geometry type and queryables."""
    require("view")
    context = _ctx()
    lang = current_lang()
    rows = []
    for coll in _collections(context, lang):
        items = url_for("ogc.items", collection_id=coll.id)
        names = ", ".join(f"{name} ({prop.format or prop.type})"
                          for name, prop in engine.queryables(context, coll, lang).items())
        rows.append(f"<tr><td><a href=\"{escape(items)}\">{escape(coll.id)}</a></td><td>{escape(_title(coll, lang))}"
                    f"</td><td>{escape(coll.geometry_type or '')}</td><td>{escape(names)}</td></tr>")
    api_url = url_for("ogc.api")
    html = (f"<!doctype html><html lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(t('ogc.title', lang))}</title></head><body><h1>{escape(t('ogc.title', lang))}</h1>"
            f"<p>{escape(t('ogc.description', lang))}</p>"
            f"<p>OpenAPI 3.0: <a href=\"{escape(api_url)}\">{escape(api_url)}</a>. Items: <code>limit</code> "
            f"(default {DEFAULT_LIMIT}, at most {MAX_LIMIT}), <code>offset</code>, <code>after</code>, "
            f"<code>bbox</code>=minx,miny,maxx,maxy, and <code>?property=value</code> on the queryables below; "
            f"any other parameter is refused (400).</p>"
            f"<table><thead><tr><th>collection</th><th>title</th><th>geometry</th><th>queryables</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></body></html>")
    return Response(html, mimetype="text/html")


@bp.get("/collections")
def collections():  # noqa: ANN201
    """Every collection of the layers the user may read."""
    require("view")
    _check_format()
    context = _ctx()
    lang = current_lang()
    key = f"ogc-collections|{lang}|{url_for('ogc.landing', _external=True)}|{_user_key(context)}|" \
          f"{queries.revision(context)}"

    def build() -> dict[str, Any]:
        return {"links": [_link("self", "application/json", url_for("ogc.collections", _external=True))],
                "collections": [_collection_doc(context, c, lang) for c in _collections(context, lang)]}

    return cached(key, build)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):  # noqa: ANN201
    """One collection's description."""
    _check_format()
    lang = current_lang()
    context, coll = _find(collection_id, lang)
    if coll is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    return _json(_collection_doc(context, coll, lang))


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):  # noqa: ANN201
    """The properties `items` filters on (`?name=value`), as a JSON Schema."""
    _check_format()
    lang = current_lang()
    context, coll = _find(collection_id, lang)
    if coll is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    props = {}
    for name, prop in engine.queryables(context, coll, lang).items():
        schema = prop.schema()
        label = t(f"field.{name}", lang)
        if label != f"field.{name}":
            schema["title"] = label
        props[name] = schema
    return _json({"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": url_for("ogc.queryables", collection_id=coll.id, _external=True),
                  "type": "object", "title": _title(coll, lang), "properties": props,
                  "additionalProperties": False}, SCHEMA_JSON)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`minx,miny,maxx,maxy` or `minx,miny,minz,maxx,maxy,maxz` (heights ignored) in WGS 84 degrees."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise BadParameter("bbox", "expected 4 numbers (minx,miny,maxx,maxy) or 6 (with minz and maxz)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadParameter("bbox", "coordinates must be numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise BadParameter("bbox", "coordinates must be finite")
    minx, miny, maxx, maxy = (values[0], values[1], values[2], values[3]) if len(values) == 4 else \
        (values[0], values[1], values[3], values[4])
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadParameter("bbox", "coordinates out of WGS-84 range")
    if miny > maxy:
        raise BadParameter("bbox", "miny greater than maxy")
    if minx > maxx:
        raise BadParameter("bbox", "a bbox across the antimeridian is not supported (minx greater than maxx)")
    return minx, miny, maxx, maxy


def _int(name: str, default: int, lo: int, hi: int | None = MAX_OFFSET) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, "must be an integer") from None
    if value < lo:
        raise BadParameter(name, f"must be at least {lo}")
    if hi is not None and value > hi:
        raise BadParameter(name, f"must be at most {hi}")
    return value


def _item_arguments(context, coll: engine.Collection, lang: str) -> dict[str, Any]:  # noqa: ANN001
    """The validated items parameters; 400 on an unknown parameter, a repeated one or a bad value."""
    queryable = engine.queryables(context, coll, lang)
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise BadParameter(name, "given more than once")
        if name not in ITEM_PARAMETERS and name not in queryable:
            known = ", ".join(sorted(ITEM_PARAMETERS - {"crs"}))
            where = url_for("ogc.queryables", collection_id=coll.id, _external=True)
            raise BadParameter(name, f"unknown parameter: items take {known} and the queryables listed at {where}")
    _check_format()
    for name in ("bbox-crs", "crs"):
        if request.args.get(name) not in (None, "", CRS84):
            raise BadParameter(name, f"only {CRS84} is supported")
    limit = min(_int("limit", DEFAULT_LIMIT, 1, hi=None), MAX_LIMIT)  # any larger limit is capped, as the standard says
    offset = _int("offset", 0, 0)
    after = request.args.get("after") or None
    if after is not None and len(after) > 200:
        raise BadParameter("after", "at most 200 characters")
    try:
        filters = engine.parse_filters(queryable, {k: v for k, v in request.args.items() if k in queryable})
    except engine.FilterError as exc:
        raise BadParameter(exc.name, exc.message) from None
    return {"bbox": parse_bbox(request.args.get("bbox")), "limit": limit, "offset": offset, "after": after,
            "filters": filters}


class Prefetch:
    """Pages computed ahead in one background thread: the page a `next` link names, while the client reads
    the current one (GDAL and QGIS read a page, then fetch the next: the server would idle meanwhile)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ogc-prefetch")
        self.items: OrderedDict[tuple[Any, ...], Future] = OrderedDict()
        self.lock = threading.Lock()

    def start(self, key: tuple[Any, ...], compute: Callable[[], engine.Page]) -> None:
        """Compute a page in the background unless it is already there."""
        with self.lock:
            if key in self.items:
                return
            self.items[key] = self.pool.submit(compute)
            while len(self.items) > self.size:
                self.items.popitem(last=False)[1].cancel()

    def take(self, key: tuple[Any, ...]) -> engine.Page | None:
        """The page computed ahead for this key (waiting for it if under way), or None."""
        with self.lock:
            future = self.items.pop(key, None)
        if future is None:
            return None
        try:
            return future.result(timeout=120)
        except Exception:  # noqa: BLE001 - computed again in the request, where an error is reported properly
            return None


PREFETCH = Prefetch()


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):  # noqa: ANN201
    """A page of the collection's features as GeoJSON, with next/prev links (see the module doc for parameters)."""
    lang = current_lang()
    context, coll = _find(collection_id, lang)
    if coll is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    args = _item_arguments(context, coll, lang)
    passed = {k: v for k, v in request.args.items() if k not in ("limit", "offset", "after")}
    revision = queries.revision(context)
    key = f"ogc|{coll.id}|{sorted(passed.items())}|{args['limit']}|{args['offset']}|{args['after']}|{lang}|" \
          f"{url_for('ogc.landing', _external=True)}|{revision}"
    same = (coll.id, tuple(sorted(passed.items())), lang, revision)  # what a prefetched page must share

    def build() -> str:
        limit, offset = args["limit"], args["offset"]
        got = PREFETCH.take((*same, args["after"], limit)) or engine.page(
            context, coll, args["bbox"], args["filters"], limit, offset, args["after"], lang)

        def href(**extra: Any) -> str:
            return url_for("ogc.items", collection_id=coll.id, **passed, **{"limit": limit, **extra}, _external=True)

        after = args["after"]
        here = {**({"after": after} if after else {}), **({"offset": offset} if offset else {})}
        links = [_link("self", GEOJSON, href(**here)),
                 _link("collection", "application/json",
                       url_for("ogc.collection", collection_id=coll.id, _external=True))]
        # `next` links carry the keyset cursor and the position; a bare `after` leaves the position unknown
        placed = after is None or "offset" in request.args
        seen = offset + got.returned
        more = seen < got.matched if placed else got.returned == limit
        if more and got.last_key is not None:
            # the next page is at least DEFAULT_LIMIT long: GDAL before 3.8 (Debian 12's 3.6) pages by 10
            # whatever the API definition advertises, and follows the link as given
            size = max(limit, DEFAULT_LIMIT)
            links.append(_link("next", GEOJSON, href(after=got.last_key, offset=seen, limit=size)))
            if after is not None:  # a client following `next` links: compute the next page while it reads this one
                bbox, filters, last = args["bbox"], args["filters"], got.last_key
                PREFETCH.start((*same, last, size),
                               lambda: engine.page(context, coll, bbox, filters, size, seen, last, lang))
        if placed and offset > 0:
            links.append(_link("prev", GEOJSON, href(offset=max(0, offset - limit))))
        return engine.feature_collection(got, links, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    return cached(key, build, mimetype=GEOJSON)


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def item(collection_id: str, feature_id: str):  # noqa: ANN201
    """One feature of a collection by id, with its `self` and `collection` links."""
    _check_format()
    for name in request.args:
        if name not in ("f", "lang"):
            raise BadParameter(name, "unknown parameter (a single feature takes f and lang)")
    lang = current_lang()
    context, coll = _find(collection_id, lang)
    if coll is None:
        return json_error(404, f"unknown collection {collection_id!r}")
    key = f"ogc-item|{coll.id}|{feature_id}|{lang}|{url_for('ogc.landing', _external=True)}|" \
          f"{queries.revision(context)}"
    text = engine.feature(context, coll, feature_id, lang)
    if text is None:
        return json_error(404, f"unknown feature {feature_id!r} in {coll.id}")
    links = [_link("self", GEOJSON, url_for("ogc.item", collection_id=coll.id, feature_id=feature_id,
                                            _external=True)),
             _link("collection", "application/json", url_for("ogc.collection", collection_id=coll.id,
                                                             _external=True))]
    return cached(key, lambda: text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}",
                  mimetype=GEOJSON)
