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
    """coverage_served (professionally served), coverage_owners_org (its 业委会/物管会 counts, from the records) and
    coverage_owners_org_known (False: 待核实)."""
    import pandas as pd

    from plugins.coverage.rules import owners_org_known, owners_org_mask, served_mask
    from plugins.coverage.service import with_org_status
    from plugins.coverage.settings import settings_for

    settings = settings_for(context)
    orgs = with_org_status(context, compounds[["owners_org"]])
    return pd.DataFrame({"coverage_served": served_mask(compounds, settings),
                         "coverage_owners_org": owners_org_mask(orgs, settings),
                         "coverage_owners_org_known": owners_org_known(orgs)}, index=compounds.index)


@hookimpl
def compound_attribute_inputs(context):  # noqa: ANN001, ANN201
    """Per compound, from the compound row and its owners' organisation records (a write recomputes only the compounds it touched)."""
    from geoplatform.readcache import AttributeInputs

    return AttributeInputs.of("compound", "owners_org", "org_member", "org_evaluation", "org_custody", "training", per_compound=True)


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform kpi [--street S] [--json]`."""
    from plugins.coverage.cli import register

    register(cli)


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """GET /api/v1/kpi (+ /projection, /plan), /ws/coverage/path; the templates of the panels and the section."""
    from plugins.coverage.pages import blueprint, workspace

    return [blueprint(context), workspace(context)]


@hookimpl
def menu_links(context, user):  # noqa: ANN001, ANN201
    """The path-to-target page for the bureau, the state company and street officers (their own street)."""
    from geoplatform.screens import MenuLink

    if getattr(user, "role", None) not in ("admin", "bureau", "state_company", "street_officer"):
        return []
    return [MenuLink(href="/ws/coverage/path", label="coverage.path.menu", order=45,
                     id="gp-nav-coverage-path")]


@hookimpl
def register_messages():  # noqa: ANN201
    """The texts of the plugin's panel and section (zh, en)."""
    from plugins.coverage.screens import MESSAGES

    return MESSAGES


@hookimpl
def dashboard_panels(context, user, where, street_code):  # noqa: ANN001, ANN201
    """Bureau dashboard: KPI tiles, per-street charts against the targets, distance to target, monthly trend."""
    from plugins.coverage.screens import dashboard_panels as panels

    return panels(context, user, where, street_code)


@hookimpl
def compound_sections(context, compound_id, user):  # noqa: ANN001, ANN201
    """Professionally served? Owners' organisation?"""
    from plugins.coverage.screens import compound_sections as sections

    return sections(context, compound_id, user)


def kpi_report(context, street=None):  # noqa: ANN001, ANN201
    """`{"district": {...}, "streets": [...]}` (see plugins.coverage.service.kpi_report); for the web dashboard."""
    from plugins.coverage.service import kpi_report as report

    return report(context, street=street)
