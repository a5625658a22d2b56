"""`geoplatform kpi [--street S] [--json]`: coverage and owners' organisation KPIs (RULES §1)."""

from __future__ import annotations

from typing import Any

import click

from geoplatform.i18n import t

TABLE_COLUMNS = ("code", "name", "compounds", "unknown", "served", "coverage_rate", "coverage_rate_lower", "households",
                 "served_households", "coverage_rate_households", "owners_org", "owners_org_unknown", "owners_org_rate",
                 "compounds_needed_for_target", "owners_org_needed_for_target")
RATES = {"coverage_rate", "coverage_rate_lower", "coverage_rate_households", "owners_org_rate"}


def _percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def human_table(report: dict[str, Any], lang: str = "zh") -> None:
    """Print the KPI report as an aligned table with the district total and the thresholds applied."""
    from geoplatform.cli import print_table
    from geoplatform.labels import label
    from plugins.coverage.settings import CoverageSettings, settings_table

    rows = [*report["streets"], {**report["district"], "code": "", "name": t("coverage.district", lang)}]
    shown = [{k: (_percent(r.get(k)) if k in RATES else r.get(k)) for k in TABLE_COLUMNS} for r in rows]
    print_table(shown, [(k, t(f"coverage.col.{k}", lang)) for k in TABLE_COLUMNS])
    d = report["district"]
    settings = CoverageSettings(target_coverage=d["target_coverage"], target_owners_org=d["target_owners_org"])
    click.echo("")
    click.echo(t("coverage.thresholds", lang))
    enums = {"served_modes": "management_mode", "owners_org_values": "owners_org"}
    for item in settings_table(settings):
        value = item["value"]
        if isinstance(value, float):
            shown_value = _percent(value)
        else:
            shown_value = ("、" if lang == "zh" else ", ").join(label(enums[item["name"]], v, lang) for v in value)
        click.echo(f"  {t('coverage.setting.' + item['name'], lang)} {shown_value}  {item['provenance']}")
    click.echo(t("coverage.unknown_note", lang, n=d["unknown"], orgs=d["owners_org_unknown"]))


def register(cli: click.Group) -> None:
    """Add the `kpi` command to the CLI group."""

    @cli.command("kpi")
    @click.option("--street", default=None, help="Only this street's row (NBS code or name); district stays whole.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document {district, streets}.")
    @click.pass_context
    def kpi(ctx: click.Context, street: str | None, as_json: bool) -> None:
        """专业化物业覆盖率与业主组织组建率 (coverage and owners' organisation KPIs, RULES §1)."""
        from geoplatform.cli import UserError, emit, get_context, require_schema, resolve_street
        from plugins.coverage.service import kpi_report

        c = get_context(ctx)
        require_schema(c)
        code = resolve_street(c, street) if street else None
        try:
            report = kpi_report(c, street=code)
        except ValueError as exc:  # bad [rules.coverage] settings
            raise UserError(str(exc)) from exc
        emit(report, as_json, lambda d: human_table(d, c.config.language))
