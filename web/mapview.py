"""The map page: a folium/Leaflet map whose layers the browser fetches per viewport from /api/v1."""

from __future__ import annotations

from typing import Any

import folium
from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup

import web.mapmessages  # noqa: F401  (the map page's catalogue entries)
from geoplatform.i18n import catalogue
from geoplatform.labels import LABELS
from web.auth import public, require
from web.lang import current_lang
from web.maplayers import layer_meta
from web.queries import basemap_list

bp = Blueprint("map", __name__)

KUNDULUN_CENTER = (40.64, 109.83)
START_ZOOM = 12

# folium's CDN defaults, replaced by the vendored copies in web/static/vendor (see its README.md)
VENDOR_JS = [
    ("leaflet", "vendor/leaflet/leaflet.js"),
    ("jquery", "vendor/jquery/jquery.min.js"),
    ("bootstrap", "vendor/bootstrap/js/bootstrap.bundle.min.js"),
    ("awesome_markers", "vendor/awesome-markers/leaflet.awesome-markers.min.js"),
]
VENDOR_CSS = [
    ("leaflet_css", "vendor/leaflet/leaflet.css"),
    ("bootstrap_css", "vendor/bootstrap/css/bootstrap.min.css"),
    ("glyphicons_css", "vendor/glyphicons/css/bootstrap-glyphicons.css"),
    ("awesome_markers_font_css", "vendor/fontawesome/css/all.min.css"),
    ("awesome_markers_css", "vendor/awesome-markers/leaflet.awesome-markers.css"),
    ("awesome_rotate_css", "vendor/folium/leaflet.awesome.rotate.min.css"),
]


def offline_map(**kwargs: Any) -> folium.Map:
    """A folium Map whose JS/CSS come from this app's static files, never from a CDN."""
    m = folium.Map(**kwargs)
    # instance attributes: the class-level lists are shared by every folium user in the process
    m.default_js = [(name, url_for("static", filename=path)) for name, path in VENDOR_JS]
    m.default_css = [(name, url_for("static", filename=path)) for name, path in VENDOR_CSS]
    return m


def render_folium(m: folium.Map, nonce: str) -> dict[str, Markup]:
    """The map's header, body and script parts for embedding in our own template (inline scripts get the CSP nonce).

    Only folium's generated scaffolding is touched (no user text is ever put into folium elements;
    feature data arrive later through the API and are inserted as text by map.js).
    """
    fig = m.get_root()
    fig.render()
    header = fig.header.render().replace("<script>", f'<script nonce="{nonce}">')
    return {"header": Markup(header), "html": Markup(fig.html.render()),
            "script": Markup(fig.script.render())}


def offered_basemaps(context, lang: str) -> list[dict[str, Any]]:  # noqa: ANN001
    """The basemaps the switcher shows: only usable ones (Tianditu without a key is left out, not greyed);
    URLs of the app's own basemaps get the app's mount point."""
    root = request.script_root
    out = []
    for b in basemap_list(context, lang):
        if not b["enabled"]:
            continue
        if b["url"].startswith("/") and not b["url"].startswith("//"):
            b = {**b, "url": root + b["url"]}
        out.append(b)
    return out


def default_basemap(basemaps: list[dict[str, Any]]) -> str:
    """The basemap shown first: `GEOPLATFORM_BASEMAP` when set and offered, else the first one the server
    holds (a loaded tile package, else the own-data outline basemap) — never one that leaves the server."""
    offered = {b["id"] for b in basemaps if not b["overlay"]}
    configured = context_default_basemap()
    if configured in offered:
        return configured
    local = [b["id"] for b in basemaps if not b["overlay"] and not b["remote"] and b["url"]]
    return local[0] if local else "none"


def page_config(context, lang: str, map_name: str) -> dict[str, Any]:  # noqa: ANN001
    """The JSON config map.js starts from: layers, basemaps, labels, API URLs (no geometry)."""
    from flask import current_app

    from layers.features import source_count
    from web.api import visible_layers
    from web.auth import current_user

    basemaps = offered_basemaps(context, lang)
    user = current_user()
    manage = ("basemaps.manage" in current_app.view_functions and user is not None
              and context.allowed(user, "manage_basemaps", {"kind": "basemap"}))
    return {
        "map": map_name,
        "lang": lang,
        "today": context.today.isoformat(),
        "layers": [{**layer_meta(spec, lang), "feature_count": source_count(context, spec.source)}
                   for spec in visible_layers(context)],
        # layers with more features than `threshold` are drawn from vector tiles ({z}/{x}/{y} in the URL)
        "tiles": {"threshold": int(current_app.config.get("GEOPLATFORM_TILE_THRESHOLD", 20000)),
                  "url": url_for("api.layer_tile", layer_id="__ID__", z="__Z__", x="__X__", y="__Y__")
                  .replace("__Z__", "{z}").replace("__X__", "{x}").replace("__Y__", "{y}")},
        "basemaps": basemaps,
        "default_basemap": default_basemap(basemaps),
        "manage_basemaps": url_for("basemaps.manage") if manage else None,
        "vendor": {"vector_tiles": url_for("static", filename="vendor/protomaps-leaflet/protomaps-leaflet.js")},
        "messages": {k: v for k, v in catalogue(lang).items() if k.split(".")[0] in
                     ("map", "kpi", "field", "group", "basemap", "app")},
        "labels": {enum: {v: (zh if lang == "zh" else en) for v, (zh, en) in vals.items()}
                   for enum, vals in LABELS.items()},
        "api": {
            "layers": url_for("api.layers"),
            "features": url_for("api.layer_features", layer_id="__ID__"),
            "compounds": url_for("api.compounds"),
            "compound": url_for("api.compound", compound_id="__ID__"),
            "compound_page": url_for("ws_compound.page", compound_id="__ID__"),
            "streets": url_for("api.streets"),
            "kpi": served_path("/api/v1/kpi"),  # the KPI box, when a plugin serves the KPI (coverage)
        },
    }


def served_path(path: str) -> str | None:
    """`path` when some route of the app serves it (a plugin's contract URL), else None."""
    from flask import current_app

    return path if any(rule.rule == path for rule in current_app.url_map.iter_rules()) else None


def context_default_basemap() -> str:
    """The configured first basemap (`GEOPLATFORM_BASEMAP`, env/app config); "" = the first the server holds."""
    from flask import current_app

    return current_app.config.get("GEOPLATFORM_BASEMAP", "") or ""


@bp.get("/")
def index():  # noqa: ANN201
    """The map page (zh-CN by default; ?lang=en switches and is remembered)."""
    require("view")
    from web.app import get_context
    from web.security import csp_nonce

    context = get_context()
    lang = current_lang()
    # zoom and scale controls are added by map.js with translated titles and units
    m = offline_map(location=KUNDULUN_CENTER, zoom_start=START_ZOOM, tiles=None, control_scale=False,
                    prefer_canvas=True, max_zoom=20, min_zoom=8, zoom_control=False)
    from web.ogc import district_extent

    parts = render_folium(m, csp_nonce())
    config = page_config(context, lang, m.get_name())
    # map.js fits this without animation before its first data request (folium's animated fitBounds
    # left the first requests on the pre-fit view, then loaded every layer a second time)
    config["extent"] = list(district_extent(context))
    return render_template("map.html", folium=parts, config=config)


@bp.get("/healthz")
@public
def health():  # noqa: ANN201
    """Liveness check without login: the app answers and the database is reachable."""
    from sqlalchemy import text

    from web.app import get_context

    try:
        with get_context().session(readonly=True) as s:
            s.execute(text("SELECT 1"))
    except Exception:  # the check reports, it does not explain
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
