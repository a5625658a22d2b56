"""A plugin whose hooks raise when called."""

from geoplatform.hookspecs import hookimpl


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """Fails at call time."""
    raise ValueError("register_layers failed on purpose")


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """Fails at call time."""
    raise ValueError("attributes failed on purpose")


@hookimpl
def permission_allowed(context, user, action, resource):  # noqa: ANN001, ANN201
    """Fails at call time (counts as a denial)."""
    raise ValueError("permission failed on purpose")
