"""Built-in plugin: the map's basemaps — OpenStreetMap, 天地图 Tianditu (vector/imagery + annotations), none.

Tianditu (CGCS2000 ≈ WGS-84, web-mercator tiles `_w`) lines up with our EPSG:4326 overlays. GCJ-02
basemaps (Amap, Tencent) would be offset by hundreds of metres, so none is offered here, and the
map drops any GCJ-02 basemap another plugin registers (never silently misaligned). An overlay
`<id>_label` (Tianditu's annotations) is drawn over basemap `<id>`.
"""

from __future__ import annotations

from urllib.parse import quote

from geoplatform.hookspecs import hookimpl
from layers.spec import Basemap

OSM_ATTRIBUTION = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')
TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> 国家地理信息公共服务平台'
_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")


def tianditu_url(layer: str, key: str) -> str:
    """The WMTS-as-XYZ tile URL of one Tianditu web-mercator layer (vec, cva, img, cia)."""
    return _TDT.format(s="{s}", layer=layer, key=quote(key, safe=""))


def basemaps_for(key: str) -> list[Basemap]:
    """OSM, Tianditu vector/imagery (each with its annotation overlay) and none; Tianditu URLs carry `key`."""
    key = key or ""
    out = [
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
        Basemap("none", "无底图（离线）", "No basemap (offline)", "", "", max_zoom=20),
    ]
    return out


@hookimpl
def register_basemaps(context):  # noqa: ANN001, ANN201
    """OpenStreetMap, Tianditu vector/imagery with annotation overlays (key from config), and none."""
    return basemaps_for(context.config.tianditu_key)
