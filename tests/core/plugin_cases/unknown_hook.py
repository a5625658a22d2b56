"""A plugin implementing a hook name that does not exist (a typo)."""

from geoplatform.hookspecs import hookimpl


@hookimpl
def register_layer(context):  # noqa: ANN001, ANN201 - typo of register_layers
    """Never called."""
    return []
