"""Built-in plugin: state-owned takeover (国企兜底, RULES §4) — rank, optimal selection, shortlist pipeline."""

from __future__ import annotations

from typing import Any

from geoplatform.hookspecs import hookimpl
from plugins.takeover import messages as _messages  # noqa: F401  (registers labels and catalogue entries)


@hookimpl
def register_layers(context: Any) -> list:
    """Candidates by score and the shortlist/served highlight layer."""
    from plugins.takeover.mapping import layers

    return layers()


@hookimpl
def compute_compound_attributes(context: Any, compounds: Any) -> Any:
    """takeover_candidate, takeover_score, takeover_state (+ rank, tender mode, component points)."""
    from plugins.takeover.mapping import compound_attributes

    return compound_attributes(context, compounds)


@hookimpl
def register_commands(cli: Any) -> None:
    """`geoplatform takeover rank|select|advance`."""
    from plugins.takeover.commands import register

    register(cli)


@hookimpl
def register_exporters(context: Any) -> list:
    """`takeover-shortlist` (xlsx / geojson / csv, Chinese headers)."""
    from plugins.takeover.mapping import exporters

    return exporters()


@hookimpl
def permission_allowed(context: Any, user: Any, action: str, resource: Any) -> bool | None:
    """edit_takeover: allowed for the state company (admin/bureau come from the base policy); else no opinion."""
    if action != "edit_takeover":
        return None
    return True if getattr(user, "role", None) == "state_company" else None


@hookimpl
def register_routes(context: Any) -> list:
    """The workspace /ws/takeover (picker, pipeline, print) and the API /api/v1/takeover (rank, select, shortlist, advance)."""
    from plugins.takeover.pages import blueprints

    return blueprints(context)


@hookimpl
def register_messages() -> dict:
    """The texts of the workspace, its errors and the compound section (zh, en)."""
    from plugins.takeover.page_messages import MESSAGES

    return MESSAGES


@hookimpl
def menu_links(context: Any, user: Any) -> list:
    """The takeover workspace (home page of the state company; also for admin/bureau)."""
    from plugins.takeover.screens import menu_links as links

    return links(context, user)


@hookimpl
def compound_sections(context: Any, compound_id: str, user: Any) -> list:
    """The takeover score with its components, the tender mode and the pipeline rows."""
    from plugins.takeover.screens import compound_sections as sections

    return sections(context, compound_id, user)


@hookimpl
def projection_changes(context: Any, session: Any) -> list:
    """Pipeline rows not yet serving (shortlisted, tendering, contracted): +served (RULES §1 path to target)."""
    from plugins.takeover.path import projection_changes as changes

    return changes(session)


@hookimpl
def plan_actions(context: Any, session: Any) -> list:
    """Candidates outside the pipeline, each +served at its takeover_cost (coverage's planner)."""
    from plugins.takeover.path import plan_actions as actions
    from plugins.takeover.settings import load_settings

    return actions(session, load_settings(context.rules("takeover")))
