"""Built-in plugin: 专业化物业服务覆盖率 — compounds by management mode, coverage and owners' organisation KPIs (RULES §1)."""

from __future__ import annotations

from geoplatform.hookspecs import hookimpl
from plugins.coverage import messages as _messages  # noqa: F401  (registers the plugin's text)


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """`coverage` (compounds by management mode) and `coverage_streets` (streets by coverage rate)."""
    from plugins.coverage.layers import layer_specs
    from plugins.coverage.settings import settings_for

    return layer_specs(settings_for(context))


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """coverage_served (professionally served) and coverage_owners_org (its 业委会/物管会 counts, from the records)."""
    import pandas as pd

    from plugins.coverage.rules import owners_org_mask, served_mask
    from plugins.coverage.service import with_org_status
    from plugins.coverage.settings import settings_for

    settings = settings_for(context)
    orgs = with_org_status(context, compounds[["owners_org"]])
    return pd.DataFrame({"coverage_served": served_mask(compounds, settings),
                         "coverage_owners_org": owners_org_mask(orgs, settings)}, index=compounds.index)


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform kpi [--street S] [--json]`."""
    from plugins.coverage.cli import register

    register(cli)


def kpi_report(context, street=None):  # noqa: ANN001, ANN201
    """`{"district": {...}, "streets": [...]}` (see plugins.coverage.service.kpi_report); for the web dashboard."""
    from plugins.coverage.service import kpi_report as report

    return report(context, street=street)
