"""Built-in plugin: the map's basemaps — offline first.

Served by this app (no request leaves the server): the tile packages the bureau loads (MBTiles or
PMTiles, raster or vector; `geoplatform basemap add` or the page /bureau/basemaps), newest first, and
the own-data basemap "outline" (district, street and community outlines with names, named main
roads, rivers and railways). Online, only when a user picks them: OpenStreetMap and 天地图 Tianditu
(vector/imagery + annotations, only with `tianditu_key`). Then "none".

Tianditu (CGCS2000 ≈ WGS-84, web-mercator tiles `_w`) lines up with our EPSG:4326 overlays. GCJ-02
basemaps (Amap, Tencent) would be offset by hundreds of metres, so none is offered here, a package
whose metadata says GCJ-02 is refused, and the map drops any GCJ-02 basemap another plugin registers
(never silently misaligned). An overlay `<id>_label` (Tianditu's annotations) is drawn over basemap `<id>`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from geoplatform.hookspecs import hookimpl
from geoplatform.i18n import add_messages, t
from layers.spec import Basemap
from plugins.basemaps.messages import MESSAGES

add_messages(MESSAGES)

OSM_ATTRIBUTION = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')
TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> 国家地理信息公共服务平台'
OUTLINE_URL = "/basemaps/outline.geojson"
_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")


def tianditu_url(layer: str, key: str) -> str:
    """The WMTS-as-XYZ tile URL of one Tianditu web-mercator layer (vec, cva, img, cia)."""
    return _TDT.format(s="{s}", layer=layer, key=quote(key, safe=""))


def outline_basemap() -> Basemap:
    """The own-data basemap (drawn in the browser from OUTLINE_URL)."""
    return Basemap("outline", t("basemaps.outline", "zh"), t("basemaps.outline", "en"), OUTLINE_URL, "",
                   max_zoom=20, kind="outline")


def online_basemaps(key: str) -> list[Basemap]:
    """OSM and Tianditu vector/imagery (each with its annotation overlay); Tianditu URLs carry `key`."""
    key = key or ""
    return [
        Basemap("osm", "OpenStreetMap", "OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                OSM_ATTRIBUTION, max_zoom=19),
        Basemap("tianditu_vec", "天地图 矢量", "Tianditu vector", tianditu_url("vec", key), TIANDITU_ATTRIBUTION,
                max_zoom=18, requires_key=True, subdomains="01234567"),
        Basemap("tianditu_vec_label", "天地图 矢量注记", "Tianditu vector labels", tianditu_url("cva", key),
                TIANDITU_ATTRIBUTION, max_zoom=18, requires_key=True, subdomains="01234567", overlay=True),
        Basemap("tianditu_img", "天地图 影像", "Tianditu imagery", tianditu_url("img", key), TIANDITU_ATTRIBUTION,
                max_zoom=18, requires_key=True, subdomains="01234567"),
        Basemap("tianditu_img_label", "天地图 影像注记", "Tianditu imagery labels", tianditu_url("cia", key),
                TIANDITU_ATTRIBUTION, max_zoom=18, requires_key=True, subdomains="01234567", overlay=True),
    ]


def basemaps_for(key: str) -> list[Basemap]:
    """The built-in basemaps without packages: outline, OSM, Tianditu (+ annotations), none."""
    return [outline_basemap(), *online_basemaps(key),
            Basemap("none", "无底图", "No basemap", "", "", max_zoom=20)]


def package_basemap(manifest: dict[str, Any]) -> Basemap:
    """The basemap of one stored tile package (its tile URL carries the package version for caching)."""
    from plugins.basemaps.service import basemap_id

    name = manifest["name"]
    url = f"/basemaps/tiles/{quote(name)}/{{z}}/{{x}}/{{y}}?v={str(manifest.get('sha256', ''))[:12]}"
    bounds = manifest.get("bounds")
    return Basemap(basemap_id(name), str(manifest.get("title") or name), str(manifest.get("title") or name), url,
                   str(manifest.get("attribution") or ""), max_zoom=int(manifest.get("max_zoom", 18)),
                   min_zoom=int(manifest.get("min_zoom", 0)), kind=manifest.get("kind", "raster"),
                   bounds=tuple(bounds) if bounds else None, data_layers=tuple(manifest.get("data_layers") or ()))


@hookimpl
def register_basemaps(context):  # noqa: ANN001, ANN201
    """Stored tile packages (newest first), the own-data outline basemap, OSM, Tianditu (key from config), none."""
    from plugins.basemaps.service import list_packages

    return [package_basemap(m) for m in list_packages(context)] + basemaps_for(context.config.tianditu_key)


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform basemap add FILE [--name N] [--title T]`, `basemap list`, `basemap remove NAME`."""
    from plugins.basemaps.cli import register

    register(cli)


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """Tiles (/basemaps/tiles/…), the outline basemap (/basemaps/outline.geojson), the page /bureau/basemaps."""
    from plugins.basemaps.routes import make_blueprint

    return [make_blueprint(context)]


@hookimpl
def register_messages():  # noqa: ANN201
    """The plugin's catalogue entries (also added at import)."""
    return MESSAGES


@hookimpl
def menu_links(context, user):  # noqa: ANN001, ANN201
    """「底图管理」 for those who may manage basemaps (admin, bureau)."""
    from geoplatform.screens import MenuLink

    if user is None or not context.allowed(user, "manage_basemaps", {"kind": "basemap"}):
        return []
    return [MenuLink("/bureau/basemaps", "basemaps.nav", order=900, id="basemaps")]
