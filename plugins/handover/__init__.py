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
    """`geoplatform export handover-ledger|handover-acceptances --format xlsx|csv` (整改台账, 验收记录)."""
    from layers.spec import Exporter
    from plugins.handover.ledger import export_acceptances, export_ledger

    return [Exporter(name="handover-ledger", title_zh="整改台账", title_en="Rectification ledger",
                     formats=("xlsx", "csv"), function=export_ledger, data="handover"),
            Exporter(name="handover-acceptances", title_zh="设施移交验收记录", title_en="Handover acceptances",
                     formats=("xlsx", "csv"), function=export_acceptances, data="handover")]


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
    """Handover rows (RULES §2, docs/security.md): facility-scoped roles read, export and change only their own
    facilities' rows; a viewer reads none; a street officer changes only its street's rows."""
    from plugins.handover.settings import settings_for

    return handover_allowed(user, action, resource, settings_for(context))


# What carries handover rows: the rows themselves, and exports (`data`) of the handover/ledger tables.
HANDOVER_DATA = "handover"
READS = frozenset({"view", "export"})


def facility_scope(user: Any, settings: Any) -> frozenset[str] | None:
    """The facility kinds a facility-scoped account owns (empty when it owns none), None for other roles.

    Declared by data: a `utility` account owns its `utility` plus `settings.utility_extra_facilities` of it; any
    role in `settings.role_facilities` (telecom, fire, …) owns the kinds listed there.
    """
    role = getattr(user, "role", None)
    if role == "utility":
        own = getattr(user, "utility", None)
        return frozenset({own, *settings.utility_extra_facilities.get(own, ())}) if own else frozenset()
    if role in settings.role_facilities:
        return frozenset(settings.role_facilities[role])
    return None


def default_facility(user: Any, settings: Any) -> str | None:
    """The facility a facility-scoped account works on when a request names none (its own first kind)."""
    role = getattr(user, "role", None)
    if role == "utility":
        return getattr(user, "utility", None)
    kinds = settings.role_facilities.get(role) if role else None
    return kinds[0] if kinds else None


def handover_allowed(user: Any, action: str, resource: Any, settings: Any) -> bool | None:
    """The one rule for handover rows, whatever the surface (API, workspace, compound page, exports).

    Reads (`view`, `export`) of a resource of kind `handover` (or an export whose `data` is handover rows): a
    facility-scoped role only for one of its facilities (a request over every facility — `facility` None — is
    outside it), a viewer never. `edit_handover`: a facility-scoped role its facilities, a street officer its
    street. None otherwise (the base policy decides: admin/bureau all, other roles read all).
    """
    if user is None:
        return None
    resource = resource or {}
    role = getattr(user, "role", None)
    rows = resource.get("kind") == HANDOVER_DATA or resource.get("data") == HANDOVER_DATA
    if action in READS and rows:
        if role == "viewer":
            return False
        scope = facility_scope(user, settings)
        return None if scope is None else resource.get("facility") in scope
    if action != "edit_handover":
        return None
    scope = facility_scope(user, settings)
    if scope is not None:
        return resource.get("facility") in scope
    if role == "street_officer":
        street = getattr(user, "street_code", None)
        return bool(street) and resource.get("street_code") == street
    return None


def edit_handover_allowed(user: Any, action: str, resource: Any, context: Any = None) -> bool | None:
    """The jurisdiction rule of RULES §2 for `edit_handover` (None for other actions; see `handover_allowed`)."""
    from plugins.handover.settings import settings_for

    if action != "edit_handover":
        return None
    return handover_allowed(user, action, resource, settings_for(context))
