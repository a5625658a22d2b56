"""The layers of the map: the base layers of the core tables plus every registered plugin layer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from geoplatform.context import Context
from geoplatform.i18n import t
from geoplatform.labels import LABELS
from layers.spec import LayerSpec, Legend, PopupField, StyleRule

BASE_GROUP = "基础"


def _f(attr: str) -> PopupField:
    return PopupField(attr, t(f"field.{attr}", "zh"), t(f"field.{attr}", "en"))


def _enum_rules(enum: str, colors: dict[str, str]) -> tuple[StyleRule, ...]:
    return tuple(StyleRule(color=colors[v], label_zh=zh, label_en=en, value=v)
                 for v, (zh, en) in LABELS[enum].items() if v in colors)


MODE_COLORS = {"professional": "#2a9d8f", "state_owned": "#457b9d", "self_managed": "#e9c46a",
               "community_managed": "#f4a261", "none": "#e63946"}
BARRIER_COLORS = {"main_road": "#8d6e63", "river": "#1e88e5", "railway": "#424242"}


def base_layers() -> list[LayerSpec]:
    """The core layers every map has (district, streets, compounds, buildings, barriers)."""
    import web.messages  # noqa: F401  (field labels)

    return [
        LayerSpec("district", t("layer.district", "zh"), t("layer.district", "en"), "district", group=BASE_GROUP,
                  legend=Legend("code", default_color="#b71c1c"), tooltip=(_f("name"),), visible=True,
                  plugin="core"),
        LayerSpec("streets", t("layer.streets", "zh"), t("layer.streets", "en"), "streets", group=BASE_GROUP,
                  legend=Legend("code", default_color="#6a1b9a"), tooltip=(_f("name"),),
                  popup=(_f("name"), _f("code"), _f("kind")), visible=True, plugin="core"),
        LayerSpec("compounds", t("layer.compounds", "zh"), t("layer.compounds", "en"), "compounds",
                  group=BASE_GROUP, legend=Legend("management_mode", rules=_enum_rules("management_mode", MODE_COLORS)),
                  tooltip=(_f("name"),),
                  popup=(_f("name"), _f("aliases"), _f("address"), _f("households"), _f("build_year"),
                         _f("management_mode"), _f("owners_org"), _f("company")),
                  visible=True, plugin="core", detail_zoom=13),
        LayerSpec("buildings", t("layer.buildings", "zh"), t("layer.buildings", "en"), "buildings",
                  group=BASE_GROUP, legend=Legend("floors", default_color="#5d4037"), tooltip=(_f("address"),),
                  popup=(_f("id"), _f("address"), _f("floors"), _f("households"), _f("build_year"),
                         _f("compound_id")), min_zoom=15, visible=True, plugin="core"),
        LayerSpec("barriers", t("layer.barriers", "zh"), t("layer.barriers", "en"), "barriers", group=BASE_GROUP,
                  legend=Legend("kind", rules=_enum_rules("barrier_kind", BARRIER_COLORS)),
                  tooltip=(_f("name"),), popup=(_f("name"), _f("kind")), plugin="core"),
    ]


def all_layers(context: Context) -> list[LayerSpec]:
    """Base layers first, then every plugin layer (a plugin layer with a base layer's id replaces it).

    The plain compounds layer starts hidden when a plugin shows compounds already (e.g. coverage's
    management-mode layer), so the same polygons are not drawn twice.
    """
    cached = getattr(context, "_web_layers", None)  # layer specs never change for a context: build once
    if cached is None:
        plugin_layers = list(context.layers)
        taken = {spec.id for spec in plugin_layers}
        shown_sources = {spec.source for spec in plugin_layers if spec.visible}
        base = [replace(spec, visible=False) if spec.source in shown_sources else spec
                for spec in base_layers() if spec.id not in taken]
        cached = context._web_layers = [_with_dot_zoom(spec) for spec in base + plugin_layers]
        context._web_layer_index = {spec.id: spec for spec in cached}
    return cached


DEFAULT_DETAIL_ZOOM = 13  # compound/garage layers below this zoom are dot maps unless their spec says otherwise


def _with_dot_zoom(spec: LayerSpec) -> LayerSpec:
    """Give per-compound/garage layers a dot-map zoom so district-wide answers stay small at any data size."""
    if spec.detail_zoom is None and spec.source in ("compounds", "garages"):
        return replace(spec, detail_zoom=DEFAULT_DETAIL_ZOOM)
    return spec


def find_layer(context: Context, layer_id: str) -> LayerSpec | None:
    """The layer with this id, or None."""
    all_layers(context)
    return context._web_layer_index.get(layer_id)


def layer_meta(spec: LayerSpec, lang: str) -> dict[str, Any]:
    """What the browser and the API need to know about a layer (labels in `lang`)."""
    zh = lang == "zh"
    legend = None
    if spec.legend is not None:
        legend = {
            "attribute": spec.legend.attribute,
            "kind": spec.legend.kind,
            "default_color": spec.legend.default_color,
            "rules": [{"color": r.color, "label": r.label_zh if zh else r.label_en, "value": r.value,
                       "min": r.min, "max": r.max} for r in spec.legend.rules],
        }
    fields = lambda fs: [{"attribute": f.attribute, "label": f.label_zh if zh else f.label_en} for f in fs]  # noqa: E731
    # group names are Chinese in LayerSpec; a catalogue entry "group.<name>" translates them
    group = t("group.base", lang) if spec.group == BASE_GROUP else t(f"group.{spec.group}", lang)
    if group == f"group.{spec.group}":
        group = spec.group
    return {
        "id": spec.id, "title": spec.title_zh if zh else spec.title_en, "title_zh": spec.title_zh,
        "title_en": spec.title_en, "group": group, "source": spec.source, "plugin": spec.plugin,
        "min_zoom": spec.min_zoom, "detail_zoom": spec.detail_zoom, "visible": spec.visible, "legend": legend,
        "popup": fields(spec.popup), "tooltip": fields(spec.tooltip),
    }
