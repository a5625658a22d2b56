"""A working third-party plugin found through a (fake) entry point."""

from geoplatform.hookspecs import hookimpl
from layers.spec import LayerSpec


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """One layer."""
    return [LayerSpec(id="good_layer", title_zh="好图层", title_en="good layer", source="district")]
