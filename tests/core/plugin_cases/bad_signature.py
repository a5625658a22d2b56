"""A plugin whose hook takes an argument the spec does not have."""

from geoplatform.hookspecs import hookimpl


@hookimpl
def register_layers(context, flavour):  # noqa: ANN001, ANN201
    """Never called."""
    return []
