"""Declarative descriptions of map layers, basemaps and exporters that plugins register."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

SOURCES = ("compounds", "buildings", "garages", "streets", "district", "barriers", "custom")


@dataclass(frozen=True)
class StyleRule:
    """One legend class: features whose `attribute` equals `value` (categorical) or lies in [min, max) (graduated)."""

    color: str
    label_zh: str
    label_en: str
    value: Any = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Legend:
    """How a layer is coloured: on one attribute, categorical or graduated, with a fallback colour."""

    attribute: str
    kind: Literal["categorical", "graduated"] = "categorical"
    rules: tuple[StyleRule, ...] = ()
    default_color: str = "#9e9e9e"


@dataclass(frozen=True)
class PopupField:
    """An attribute shown in a popup/tooltip with its label."""

    attribute: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class LayerSpec:
    """A map layer: where its features come from, how they look, who may see it."""

    id: str
    title_zh: str
    title_en: str
    source: str  # one of SOURCES
    group: str = "专题"
    legend: Legend | None = None
    popup: tuple[PopupField, ...] = ()
    tooltip: tuple[PopupField, ...] = ()
    min_zoom: int = 0
    permission: str = "view"  # action checked through the permission_allowed hook
    plugin: str = ""
    visible: bool = False
    # Below this zoom the GeoJSON is a dot map: one MultiPoint per legend class (with `_count`), no
    # per-feature properties — keeps district-wide payloads small. None: always per feature.
    detail_zoom: int | None = None
    # For source == "custom": loader(context, bbox, street) -> GeoDataFrame in EPSG:4326
    loader: Callable[..., Any] | None = field(default=None, compare=False)
    # Optional filter on the source frame (e.g. only candidates): predicate(frame) -> boolean Series
    where: Callable[..., Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Basemap:
    """A basemap; `crs` is the datum its tiles are drawn in (wgs84 or gcj02).

    `kind`: "raster" (image tiles at `url`, an XYZ template), "vector" (Mapbox vector tiles at `url`,
    drawn in the browser; `data_layers` names their layers) or "outline" (`url` answers a GeoJSON
    FeatureCollection of outlines and lines with names, drawn and labelled in the browser). A `url`
    that starts with "/" is served by this app; one with a scheme makes the browser ask that host.
    """

    id: str
    title_zh: str
    title_en: str
    url: str
    attribution: str
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    max_zoom: int = 18
    requires_key: bool = False
    subdomains: str = ""
    overlay: bool = False
    kind: Literal["raster", "vector", "outline"] = "raster"
    min_zoom: int = 0
    bounds: tuple[float, float, float, float] | None = None  # minx, miny, maxx, maxy (EPSG:4326)
    data_layers: tuple[str, ...] = ()

    @property
    def remote(self) -> bool:
        """True when the browser fetches this basemap from a host other than this app."""
        return "://" in self.url or self.url.startswith("//")


@dataclass(frozen=True)
class Exporter:
    """A named export (`geoplatform export NAME`): function(context, fmt, path, street) -> rows written."""

    name: str
    title_zh: str
    title_en: str
    formats: tuple[str, ...]
    function: Callable[..., int] = field(compare=False)
    permission: str = "view"
    # what the file holds, for the read rules (docs/security.md): a table name such as "handover", "" = its own name
    data: str = ""
