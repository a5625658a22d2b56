"""Built-in plugin: EV charging-pile eligibility per garage (RULES §3, GB/T 51313-2018)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from geoplatform.hookspecs import hookimpl
from plugins.charging.messages import register as _register_messages

_register_messages()


@hookimpl
def register_layers(context: Any) -> list[Any]:
    """The compound layer coloured by worst garage decision."""
    from plugins.charging.layer import charging_layer

    return [charging_layer()]


@hookimpl
def compute_compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """Per compound: best/worst garage decision, counts per decision and popup texts (prefix `charging_`)."""
    from plugins.charging.settings import settings_for
    from plugins.charging.stored import compound_summary_columns, evaluate_columns, load_garage_columns

    settings = settings_for(context)
    with context.session(readonly=True) as s:
        frame = load_garage_columns(s, compounds.index)
    return compound_summary_columns(evaluate_columns(frame, settings), compounds.index)


@hookimpl
def compound_attribute_inputs(context):  # noqa: ANN001, ANN201
    """Per compound, from a compound's garages (a write recomputes only the compounds it touched)."""
    from geoplatform.readcache import AttributeInputs

    return AttributeInputs.of("compound", "garage", per_compound=True)


@hookimpl
def register_commands(cli: Any) -> None:
    """`geoplatform charging evaluate …`."""
    from plugins.charging.cli import charging

    cli.add_command(charging)


@hookimpl
def register_exporters(context: Any) -> list[Any]:
    """`geoplatform export charging --format xlsx|csv|geojson`: every garage with decision and reasons."""
    from plugins.charging.export import exporters

    return exporters()


@hookimpl
def register_routes(context: Any) -> list[Any]:
    """No pages of its own: a blueprint carrying the templates of its dashboard panel and compound section."""
    from plugins.charging.screens import blueprint

    return [blueprint()]


@hookimpl
def register_messages() -> dict[str, dict[str, str]]:
    """The texts of the plugin's panel and section (zh, en)."""
    from plugins.charging.screens import MESSAGES

    return MESSAGES


@hookimpl
def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Any]:
    """Bureau dashboard: garages per charging decision."""
    from plugins.charging.screens import dashboard_panels as panels

    return panels(context, user, where, street_code)


@hookimpl
def compound_sections(context: Any, compound_id: str, user: Any) -> list[Any]:
    """The compound's garages with their decisions and reasons."""
    from plugins.charging.screens import compound_sections as sections

    return sections(context, compound_id, user)
