"""Built-in plugin: 专业经营设施移交 — utility handover backlog, state machine, rectification ledger (RULES §2)."""

from __future__ import annotations

from typing import Any

from geoplatform.hookspecs import hookimpl
from plugins.handover import labels as _labels  # noqa: F401  (registers enum labels and messages)


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """One layer per facility plus an "all facilities" layer."""
    from plugins.handover.attributes import layer_specs
    from plugins.handover.settings import settings_for

    return layer_specs(settings_for(context))


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """handover_worst_state, handover_class, per-facility states, handover_overdue, handover_taken_over_share."""
    from plugins.handover.attributes import compound_attributes

    return compound_attributes(context, compounds)


@hookimpl
def compound_attribute_inputs(context):  # noqa: ANN001, ANN201
    """Per compound, from a compound's handover rows, their events and ledger items (a write recomputes only the compounds it touched)."""
    from geoplatform.readcache import AttributeInputs

    return AttributeInputs.of("compound", "handover", "handover_event", "ledger_item", per_compound=True)


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform handover backlog|set|done|show|history`."""
    from plugins.handover.cli import register

    register(cli)


@hookimpl
def register_exporters(context):  # noqa: ANN001, ANN201
    """`geoplatform export handover-ledger --format xlsx|csv` (整改台账)."""
    from layers.spec import Exporter
    from plugins.handover.ledger import export_ledger

    return [Exporter(name="handover-ledger", title_zh="整改台账", title_en="Rectification ledger",
                     formats=("xlsx", "csv"), function=export_ledger)]


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """The utility workspace /ws/utility and the API /api/v1/handover/… and /api/v1/handovers/<compound>/<facility>."""
    from plugins.handover.pages import blueprints

    return blueprints(context)


@hookimpl
def register_messages():  # noqa: ANN201
    """The texts of the plugin's screens and errors (zh, en)."""
    from plugins.handover.screens import MESSAGES

    return MESSAGES


@hookimpl
def menu_links(context, user):  # noqa: ANN001, ANN201
    """The utility workspace (home page of utility accounts; also for admin/bureau)."""
    from plugins.handover.screens import menu_links as links

    return links(context, user)


@hookimpl
def compound_sections(context, compound_id, user):  # noqa: ANN001, ANN201
    """Each facility's handover state and rectification ledger."""
    from plugins.handover.screens import compound_sections as sections

    return sections(context, compound_id, user)


@hookimpl
def dashboard_panels(context, user, where, street_code):  # noqa: ANN001, ANN201
    """Bureau: backlog per utility; street workspace: the street's ledger tab."""
    from plugins.handover.screens import dashboard_panels as panels

    return panels(context, user, where, street_code)


@hookimpl
def permission_allowed(context, user, action, resource):  # noqa: ANN001, ANN201
    """edit_handover: a utility only its own facility's rows, a street officer only its street's rows."""
    return edit_handover_allowed(user, action, resource, context)


def edit_handover_allowed(user: Any, action: str, resource: Any, context: Any = None) -> bool | None:
    """The jurisdiction rule of RULES §2 (None for other actions and roles: the base policy decides)."""
    if action != "edit_handover" or user is None:
        return None
    resource = resource or {}
    role = getattr(user, "role", None)
    if role == "utility":
        from plugins.handover.settings import settings_for

        own = getattr(user, "utility", None)
        if not own:
            return False
        mine = {own, *settings_for(context).utility_extra_facilities.get(own, ())}
        return resource.get("facility") in mine
    if role == "street_officer":
        street = getattr(user, "street_code", None)
        return bool(street) and resource.get("street_code") == street
    return None
