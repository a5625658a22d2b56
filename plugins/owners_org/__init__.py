"""Built-in plugin: 业主委员会 / 物业管理委员会 — the records, rules (RULES §6 A1–A7) and workspace behind the 95 % target.

Organisations, members, evaluations, trainings and custody (geoplatform.models.owners_org) are imported
from the sheets streets keep or recorded in the street officer's 业委会 workspace; their state is
derived as of a day. Other plugins read a compound's organisation through `owners_org_status`
(coverage: the §1 rate; takeover: a contract's signatory; governance: who is told within 24 hours).
"""

from __future__ import annotations

from typing import Any

from geoplatform.hookspecs import hookimpl
from plugins.owners_org import messages as _messages

_messages.register()

ACTIONS = ("edit_owners_org", "record_evaluation")
WORKSPACE_ROLES = ("admin", "bureau", "street_officer", "community_officer")


@hookimpl
def register_messages():  # noqa: ANN201
    """The plugin's texts and enum labels (zh, en)."""
    return _messages.all_messages()


@hookimpl
def register_import_kinds(context):  # noqa: ANN001, ANN201
    """owners_orgs, org_members, org_evaluations, trainings."""
    from plugins.owners_org.imports import import_kinds

    return import_kinds()


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform owners-org check|sync`."""
    from plugins.owners_org.cli import register

    register(cli)


@hookimpl
def owners_org_status(context, compound_ids):  # noqa: ANN001, ANN201
    """{compound id: OrgStatus} from the records as of context.today (all compounds when `compound_ids` is None)."""
    from plugins.owners_org import service
    from plugins.owners_org.settings import settings_for

    statuses = service.district(context, settings_for(context)).statuses
    if compound_ids is None:
        return dict(statuses)
    missing = [cid for cid in compound_ids if cid not in statuses]
    out = {cid: statuses[cid] for cid in compound_ids if cid in statuses}
    if missing:  # compounds newer than the cached district: read them now
        settings = settings_for(context)
        with context.session(readonly=True) as s:
            records = service.load(s, missing)
        out.update(service.statuses(records, service.assess(records, context.today, settings), settings))
    return out


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """owners_org_state, owners_org_kind, owners_org_class, owners_org_counts, owners_org_declared, owners_org_findings."""
    from plugins.owners_org.layers import compound_attributes

    return compound_attributes(context, compounds)


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """`owners_org` (compounds by organisation class) and `owners_org_streets` (compounds still needed for 95 %)."""
    from plugins.owners_org.layers import layer_specs
    from plugins.owners_org.settings import settings_for

    return layer_specs(settings_for(context))


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """The 业委会 workspace (/ws/owners-org) and its API (/api/v1/owners-org)."""
    from plugins.owners_org.routes import make_blueprints

    return make_blueprints(context)


def decide(user: Any, action: str, resource: Any) -> bool | None:
    """Jurisdiction of RULES §6 work: a street officer in their street; a community officer records evaluations
    of their community's compounds only. Admin/bureau and other actions: no opinion (the base policy decides)."""
    if action not in ACTIONS or user is None:
        return None
    role = getattr(user, "role", None)
    resource = resource or {}
    if role in ("admin", "bureau"):
        return None
    if role == "street_officer":
        own = getattr(user, "street_code", None)
        return bool(own) and resource.get("street_code") == own
    if role == "community_officer" and action == "record_evaluation":
        own = getattr(user, "community_code", None)
        return bool(own) and resource.get("community_code") == own
    return False


@hookimpl
def permission_allowed(context, user, action, resource):  # noqa: ANN001, ANN201
    """edit_owners_org: own street; record_evaluation: own street (street officer) or own community (community officer)."""
    return decide(user, action, resource)


@hookimpl
def after_import(context, session, kind, keys):  # noqa: ANN001, ANN201
    """After a compounds import: declared organisations for 业委会/物管会 in the owners_org column (RULES §6 last
    point) and owners_org kept in step with the records where a compound has them."""
    if kind != "compounds":
        return None
    from geoplatform.i18n import Message
    from plugins.owners_org import service
    from plugins.owners_org.settings import settings_for

    ids = [k[0] for k in keys]
    declared = service.declare_from_compounds(session, ids, "import")
    kept = [cid for cid in service.sync_compounds(session, ids, context.today, settings_for(context), "import")
            if cid not in declared]
    out = []
    if declared:
        out.append(Message("owners_org.import.declared", n=len(declared), ids=", ".join(declared[:20]) +
                           (" …" if len(declared) > 20 else "")))
    if kept:
        out.append(Message("owners_org.import.kept", n=len(kept), ids=", ".join(kept[:20]) +
                           (" …" if len(kept) > 20 else "")))
    return out


@hookimpl
def load_demo(context, session, seed, today):  # noqa: ANN001, ANN201
    """Organisations in every state with members, evaluations, trainings and custody (each rule fires somewhere)."""
    from plugins.owners_org.demo import load_demo as load

    load(session, seed, today, context)


@hookimpl
def menu_links(context, user):  # noqa: ANN001, ANN201
    """业委会 for street officers, community officers, the bureau and admins."""
    from geoplatform.screens import MenuLink

    if getattr(user, "role", None) not in WORKSPACE_ROLES:
        return []
    return [MenuLink(href="/ws/owners-org", label="owners_org.nav", order=40, id="owners_org")]


@hookimpl
def compound_sections(context, compound_id, user):  # noqa: ANN001, ANN201
    """The compound's owners' organisation: state, kind, findings, a link to the workspace."""
    from plugins.owners_org.screens import compound_section

    return compound_section(context, compound_id, user)


@hookimpl
def dashboard_panels(context, user, where, street_code):  # noqa: ANN001, ANN201
    """Bureau: the 95 % rate from the records per street; street: this street's rate and alerts count."""
    from plugins.owners_org.screens import dashboard_panel

    return dashboard_panel(context, user, where, street_code)
