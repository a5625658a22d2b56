"""The OpenAPI 3.0 definition of /ogc (`service-desc`), generated from the collections and their queryables.

What GIS clients read from it: GDAL and QGIS take the page size from `components/parameters/limit`
(`default`, `maximum`) and the server-side filters from each `/collections/{id}/items` path's query
parameters (`style: form`, `explode: false`, a `schema.type`); OWSLib's `api()` returns it.
"""

from __future__ import annotations

from typing import Any

from layers.ogc import Collection, Property

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "required": False, "style": "form",
            "explode": False, "schema": schema, **extra}


def _response(description: str, media: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


ERRORS = {"400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}}


def queryable_parameter_name(name: str, prop: Property) -> str:
    """The components/parameters key of a queryable (one per name and type)."""
    return f"q-{name}-{prop.type}" + (f"-{prop.format}" if prop.format else "")


def document(base_url: str, api_title: str, description: str, cols: list[Collection],
             queryables: dict[str, dict[str, Property]], titles: dict[str, str], default_limit: int,
             max_limit: int, version: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document: generic and per-collection paths, shared parameters, schemas, security."""
    params: dict[str, Any] = {
        "limit": _query("limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
                        f"The number of features in a page (at most {max_limit}: a larger value is served as "
                        f"{max_limit}; {default_limit} when absent). Follow the `next` link for the next page."),
        "offset": _query("offset", {"type": "integer", "minimum": 0, "default": 0},
                         "The number of matching features to skip (features are in id order)."),
        "after": _query("after", {"type": "string"},
                        "Start after the feature with this id (keyset paging; the `next` links use it)."),
        "bbox": _query("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                       "minx,miny,maxx,maxy (or minx,miny,minz,maxx,maxy,maxz) in WGS 84 longitude/latitude: "
                       "features whose geometry intersects it."),
        "bbox-crs": _query("bbox-crs", {"type": "string", "format": "uri",
                                        "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]},
                           "The CRS of bbox (only CRS84)."),
        "f": _query("f", {"type": "string", "enum": ["json", "geojson"]}, "The response format (JSON / GeoJSON)."),
        "lang": _query("lang", {"type": "string", "enum": ["zh", "en"]},
                       "The language of titles and legend labels (zh default)."),
        "collectionId": {"name": "collectionId", "in": "path", "required": True, "description": "A collection id",
                         "schema": {"type": "string", "enum": [c.id for c in cols]}},
        "featureId": {"name": "featureId", "in": "path", "required": True, "description": "A feature id",
                      "schema": {"type": "string"}},
    }
    items_params = [_ref(n) for n in ("limit", "offset", "after", "bbox", "bbox-crs", "f", "lang")]
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "tags": ["Capabilities"],
                      "responses": {"200": _response("The landing page", "application/json", "landingPage"),
                                    **ERRORS}}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformanceDeclaration",
                                 "tags": ["Capabilities"],
                                 "responses": {"200": _response("Conformance classes", "application/json",
                                                                "confClasses"), **ERRORS}}},
        "/api": {"get": {"summary": "This API definition", "operationId": "getApiDefinition",
                         "tags": ["Capabilities"],
                         "responses": {"200": {"description": "The OpenAPI 3.0 document",
                                               "content": {OPENAPI_TYPE: {"schema": {"type": "object"}}}},
                                       **ERRORS}}},
        "/collections": {"get": {"summary": "Feature collections", "operationId": "getCollections",
                                 "tags": ["Capabilities"],
                                 "responses": {"200": _response("The collections", "application/json",
                                                                "collections"), **ERRORS}}},
        "/collections/{collectionId}": {"get": {
            "summary": "A collection", "operationId": "describeCollection", "tags": ["Capabilities"],
            "parameters": [_ref("collectionId")],
            "responses": {"200": _response("The collection", "application/json", "collection"), **ERRORS}}},
        "/collections/{collectionId}/items": {"get": {
            "summary": "Features of a collection", "operationId": "getFeatures", "tags": ["Data"],
            "parameters": [_ref("collectionId"), *items_params],
            "responses": {"200": _response("A page of features", GEOJSON, "featureCollectionGeoJSON"), **ERRORS}}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature", "operationId": "getFeature", "tags": ["Data"],
            "parameters": [_ref("collectionId"), _ref("featureId"), _ref("lang")],
            "responses": {"200": _response("The feature", GEOJSON, "featureGeoJSON"), **ERRORS}}},
        "/collections/{collectionId}/queryables": {"get": {
            "summary": "Queryables of a collection", "operationId": "getQueryables", "tags": ["Data"],
            "parameters": [_ref("collectionId")],
            "responses": {"200": _response("The queryable properties (JSON Schema)", SCHEMA_JSON, "queryables"),
                          **ERRORS}}},
    }
    for c in cols:
        own: list[dict[str, str]] = []
        for name, prop in queryables.get(c.id, {}).items():
            key = queryable_parameter_name(name, prop)
            params.setdefault(key, _query(name, prop.schema(), f"Features whose {name} equals this value."))
            own.append(_ref(key))
        label = titles.get(c.id, c.id)
        op = c.id.replace("-", "_")
        paths[f"/collections/{c.id}"] = {"get": {
            "summary": f"{label}: the collection", "operationId": f"describeCollection_{op}", "tags": ["Capabilities"],
            "responses": {"200": _response("The collection", "application/json", "collection"), **ERRORS}}}
        paths[f"/collections/{c.id}/items"] = {"get": {
            "summary": f"{label}: features ({c.geometry_type or 'no geometry yet'})", "operationId": f"getFeatures_{op}",
            "tags": ["Data"], "parameters": [*items_params, *own],
            "responses": {"200": _response("A page of features", GEOJSON, "featureCollectionGeoJSON"), **ERRORS}}}
        paths[f"/collections/{c.id}/items/{{featureId}}"] = {"get": {
            "summary": f"{label}: one feature", "operationId": f"getFeature_{op}", "tags": ["Data"],
            "parameters": [_ref("featureId"), _ref("lang")],
            "responses": {"200": _response("The feature", GEOJSON, "featureGeoJSON"), **ERRORS}}}
        paths[f"/collections/{c.id}/queryables"] = {"get": {
            "summary": f"{label}: queryables", "operationId": f"getQueryables_{op}", "tags": ["Data"],
            "responses": {"200": _response("The queryable properties (JSON Schema)", SCHEMA_JSON, "queryables"),
                          **ERRORS}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": api_title, "description": description, "version": version,
                 "license": {"name": "see the data provider"}},
        "servers": [{"url": base_url.rstrip("/")}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "parameters": params,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic",
                          "description": "User name and an API token (`geoplatform users token NAME`) as password"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token"},
            },
            "responses": {
                "BadRequest": _response("A parameter is not understood (unknown, or a value of the wrong type)",
                                        "application/json", "exception"),
                "Unauthorized": _response("No or a wrong user name/token", "application/json", "exception"),
                "Forbidden": _response("Outside the user's role", "application/json", "exception"),
                "NotFound": _response("No such collection or feature", "application/json", "exception"),
            },
            "schemas": SCHEMAS,
        },
    }


_LINK = {"type": "object", "required": ["href", "rel"],
         "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                        "title": {"type": "string"}}}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}
SCHEMAS: dict[str, Any] = {
    "link": _LINK,
    "exception": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                                 "parameter": {"type": "string"}}},
    "landingPage": {"type": "object", "required": ["links"],
                    "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": _LINKS}},
    "confClasses": {"type": "object", "required": ["conformsTo"],
                    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}},
    "extent": {"type": "object", "properties": {"spatial": {"type": "object", "properties": {
        "bbox": {"type": "array", "items": {"type": "array", "minItems": 4, "maxItems": 6,
                                            "items": {"type": "number"}}},
        "crs": {"type": "string"}}}}},
    "collection": {"type": "object", "required": ["id", "links"],
                   "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                  "description": {"type": "string"}, "links": _LINKS,
                                  "extent": {"$ref": "#/components/schemas/extent"},
                                  "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}}}},
    "collections": {"type": "object", "required": ["links", "collections"],
                    "properties": {"links": _LINKS, "collections": {"type": "array",
                                                                     "items": {"$ref": "#/components/schemas/collection"}}}},
    "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"],
                       "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                      "geometry": {"nullable": True, "type": "object"},
                                      "properties": {"type": "object", "nullable": True},
                                      "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                                      "links": _LINKS}},
    "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"],
                                 "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                                                "features": {"type": "array",
                                                             "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                                                "links": _LINKS, "timeStamp": {"type": "string", "format": "date-time"},
                                                "numberMatched": {"type": "integer", "minimum": 0},
                                                "numberReturned": {"type": "integer", "minimum": 0}}},
    "queryables": {"type": "object", "properties": {"properties": {"type": "object"}}},
}
