"""Built-in plugin: bundled management (打包管理, RULES §5) — orphans put under adjacent managed compounds."""

from __future__ import annotations

from typing import Any

from geoplatform.hookspecs import hookimpl
from plugins.bundling import messages as _messages  # noqa: F401  (registers labels and catalogue entries)


@hookimpl
def register_layers(context: Any) -> list:
    """Orphans by outcome, proposed links, host compounds and possible new bundles."""
    from plugins.bundling.layers import layers

    return layers()


@hookimpl
def compute_compound_attributes(context: Any, compounds: Any) -> Any:
    """bundling_orphan, bundling_status, bundling_host_of, bundling_proposal_id, bundling_managed_by."""
    from plugins.bundling.layers import compound_attributes

    return compound_attributes(context, compounds)


@hookimpl
def register_commands(cli: Any) -> None:
    """`geoplatform bundle plan|list|accept|reject|revert`."""
    from plugins.bundling.cli import register

    register(cli)


def decide(user: Any, action: str, resource: Any) -> bool | None:
    """decide_bundle: a street officer only for their own street; other actions and roles: no opinion."""
    if action != "decide_bundle" or getattr(user, "role", None) != "street_officer":
        return None
    street = resource.get("street_code") if isinstance(resource, dict) else getattr(resource, "street_code", None)
    own = getattr(user, "street_code", None)
    return bool(own) and street == own


@hookimpl
def permission_allowed(context: Any, user: Any, action: str, resource: Any) -> bool | None:
    """decide_bundle for a street officer of the proposal's street (False elsewhere); revert is the base policy's."""
    return decide(user, action, resource)


@hookimpl
def register_routes(context: Any) -> list:
    """The street workspace's bundling actions: accept / reject / revert a proposal, re-plan a street."""
    from plugins.bundling.pages import blueprint

    return [blueprint(context)]


@hookimpl
def register_messages() -> dict:
    """The texts of the bundling tab and the compound section (zh, en)."""
    from plugins.bundling.screens import MESSAGES

    return MESSAGES


@hookimpl
def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list:
    """Street workspace: the bundling tab (proposals, new bundles, unmatched orphans) and its map layers."""
    from plugins.bundling.screens import dashboard_panels as panels

    return panels(context, user, where, street_code)


@hookimpl
def compound_sections(context: Any, compound_id: str, user: Any) -> list:
    """The compound's bundle proposals and its role in the current plan."""
    from plugins.bundling.screens import compound_sections as sections

    return sections(context, compound_id, user)


@hookimpl
def projection_changes(context, session):  # noqa: ANN001, ANN201
    """Accepted and open bundle proposals as unit changes (a bundled lone building joins its host; RULES §1)."""
    from plugins.bundling.path import projection_changes as changes

    return changes(session)


@hookimpl
def plan_actions(context, session):  # noqa: ANN001, ANN201
    """Open bundle proposals as actions of coverage's planner."""
    from plugins.bundling.path import plan_actions as actions

    return actions(session)


@hookimpl
def takeover_bundles(context, session):  # noqa: ANN001, ANN201
    """New bundles of orphans with no host as takeover units (RULES §4/§5): one candidate each."""
    from plugins.bundling.takeover_units import takeover_bundles as units

    return units(context, session)
