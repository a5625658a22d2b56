"""Built-in plugin: governance clocks (RULES §8) — problem ledger, 24-hour reporting duty, three-tier mediation,
the 2025 pilot communities.

Rules in `rules.py` (pure), thresholds in `settings.py`, the one service layer in `service.py` (CLI and
HTTP), import kinds in `kinds.py`, map layers in `layers.py`, workspaces and API in `routes.py` (this
plugin's blueprint and templates), the shared screens' records in `screens.py`, demo data in `demo.py`.
It reads `owners_org_status` (whether a compound's owners' organisation must be told) and answers
`credit_events` (refused or overdue rectifications for the firms' credit files).
"""

from __future__ import annotations

from typing import Any

from geoplatform.hookspecs import hookimpl
from plugins.governance import messages as _messages  # noqa: F401  (registers enum labels and texts)

# what a community officer may do in their own community (the street officer does everything in their street)
COMMUNITY_OPS = frozenset({"record_problem", "record_dissuasion", "record_meeting", "record_case", "open_mediation",
                           "close_mediation"})


@hookimpl
def register_import_kinds(context):  # noqa: ANN001, ANN201
    """problems, dissuasions, mediations, pilots, meetings, cases (DESIGN.md field names, Chinese aliases)."""
    from plugins.governance.kinds import import_kinds

    return import_kinds()


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform governance check [--street S] [--today D] [--json]`."""
    from plugins.governance.cli import register

    register(cli)


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """Open problems (worst per compound), pilot communities, overdue mediations."""
    from plugins.governance.layers import layer_specs
    from plugins.governance.settings import settings_for

    return layer_specs(settings_for(context))


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """governance_problem_class/_label, governance_open_problems, governance_categories, governance_mediation_*."""
    from plugins.governance.layers import compound_attributes

    return compound_attributes(context, compounds)


@hookimpl
def compound_attribute_inputs(context):  # noqa: ANN001, ANN201
    """Per compound, from a compound's problems and mediations (a write recomputes only the compounds it touched)."""
    from geoplatform.readcache import AttributeInputs

    return AttributeInputs.of("compound", "problem", "mediation", per_compound=True)


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """The workspaces (/ws/governance/…) and the API (/api/v1/governance/…)."""
    from plugins.governance.routes import make_blueprint

    return [make_blueprint(context)]


@hookimpl
def register_messages():  # noqa: ANN201
    """The plugin's texts and enum labels (zh, en)."""
    from plugins.governance.messages import MESSAGES

    return MESSAGES


@hookimpl
def menu_links(context, user):  # noqa: ANN001, ANN201
    """/ws/governance for community and street officers, the bureau and admins."""
    from plugins.governance.screens import menu

    return menu(user)


@hookimpl
def compound_sections(context, compound_id, user):  # noqa: ANN001, ANN201
    """Open problems and mediations of the compound."""
    from plugins.governance.screens import compound_section

    return compound_section(context, compound_id, user)


@hookimpl
def dashboard_panels(context, user, where, street_code):  # noqa: ANN001, ANN201
    """Bureau: the mediation centre's queue, pilot compliance, findings; street: its alarms."""
    from plugins.governance.screens import panels

    return panels(context, user, where, street_code)


@hookimpl
def credit_events(context, today):  # noqa: ANN001, ANN201
    """Refused or past-rectify-by problems → a credit event for the firm (RULES §7, §8)."""
    from plugins.governance import service
    from plugins.governance.settings import settings_for

    with context.session(readonly=True) as s:
        return service.credit_events(s, today or context.today, settings_for(context))


@hookimpl
def permission_allowed(context, user, action, resource):  # noqa: ANN001, ANN201
    """edit_governance: a street officer in their street; a community officer records in their community."""
    return edit_allowed(user, action, resource)


def edit_allowed(user: Any, action: str, resource: Any) -> bool | None:
    """The jurisdiction rule of the workspaces (None for other actions and for admin/bureau: the base policy)."""
    if action != "edit_governance" or user is None:
        return None
    resource = resource or {}
    role = getattr(user, "role", None)
    if role == "street_officer":
        own = getattr(user, "street_code", None)
        return bool(own) and resource.get("street_code") == own
    if role == "community_officer":
        own = getattr(user, "community_code", None)
        if not own or resource.get("community_code") != own or resource.get("op") not in COMMUNITY_OPS:
            return False
        if resource.get("op") in ("open_mediation", "close_mediation") and resource.get("stage") != "community":
            return False
        return True
    return None


@hookimpl
def load_demo(context, session, seed, today):  # noqa: ANN001, ANN201
    """Problems, reports, mediations, pilots, meetings and cases so that every finding fires somewhere."""
    from plugins.governance.demo import load

    return load(session, today, seed)


@hookimpl
def safety_problems(context, session, compound_ids):  # noqa: ANN001, ANN201
    """{compound id: open (open or rectifying) safety problems of the ledger} for the takeover score (RULES §4/§8)."""
    from plugins.governance.service import open_safety_problems
    from plugins.governance.settings import settings_for

    return open_safety_problems(session, list(compound_ids), settings_for(context).safety_categories)
