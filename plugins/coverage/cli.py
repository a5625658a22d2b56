"""`geoplatform kpi [--street S] [--json]`: coverage and owners' organisation KPIs (RULES §1)."""

from __future__ import annotations

from typing import Any

import click

from geoplatform.i18n import t

TABLE_COLUMNS = ("code", "name", "compounds", "unknown", "served", "coverage_rate", "coverage_rate_lower", "households",
                 "served_households", "coverage_rate_households", "owners_org", "owners_org_unknown", "owners_org_rate",
                 "compounds_needed_for_target", "owners_org_needed_for_target",
                 "units", "lone_buildings", "served_units", "coverage_rate_units", "needed_units", "served_verified")
RATES = {"coverage_rate", "coverage_rate_lower", "coverage_rate_households", "owners_org_rate", "coverage_rate_units"}


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
        if item["name"] not in (*enums, "target_coverage", "target_owners_org"):
            continue  # the path-to-target settings are shown by `kpi projection` / `kpi plan`
        value = item["value"]
        if isinstance(value, float):
            shown_value = _percent(value)
        else:
            shown_value = ("、" if lang == "zh" else ", ").join(label(enums[item["name"]], v, lang) for v in value)
        click.echo(f"  {t('coverage.setting.' + item['name'], lang)} {shown_value}  {item['provenance']}")
    click.echo(t("coverage.unknown_note", lang, n=d["unknown"], orgs=d["owners_org_unknown"]))
    click.echo(t("coverage.units_note", lang))


def _today(c: Any, today: Any) -> None:
    if today is not None:
        c.today = today.date()


def human_projection(doc: dict[str, Any], lang: str = "zh") -> None:
    """Each street (and the district) at each milestone: rate and gap to target."""
    from geoplatform.cli import print_table

    dates = [m["date"] for m in doc["milestones"]]
    rows = []
    for name, code, ms in [*((r["name"], r["street_code"], r["milestones"]) for r in doc["streets"]),
                           (t("coverage.district", lang), "", doc["milestones"])]:
        row: dict[str, Any] = {"code": code, "name": name}
        for m in ms:
            row[m["date"]] = f"{_percent(m['rate'])} ({t('coverage.projection.gap', lang, n=m['gap'])})"
        rows.append(row)
    click.echo(t("coverage.projection.title", lang, today=doc["today"], target=_percent(doc["target"])))
    print_table(rows, [("code", t("coverage.col.code", lang)), ("name", t("coverage.col.name", lang)),
                       *((d, d) for d in dates)])
    _provenance(("milestones", "target_coverage"), lang)


def _provenance(names: tuple[str, ...], lang: str) -> None:
    """The settings applied, with where each comes from."""
    from plugins.coverage.settings import PROVENANCE

    click.echo("")
    click.echo(t("coverage.thresholds", lang))
    for name in names:
        click.echo(f"  {name}: {PROVENANCE[name]}")


def human_plan(doc: dict[str, Any], lang: str = "zh") -> None:
    """The chosen actions per street, their cost, and the streets that cannot be closed."""
    click.echo(t("coverage.plan.title", lang, milestone=doc["milestone"], target=_percent(doc["target"]),
                 cost=f"{doc['cost']:g}", n=len(doc["actions"])))
    for r in doc["streets"]:
        if not r["gap"]:
            continue
        state = t("coverage.plan.closed" if r["closed"] else "coverage.plan.open", lang)
        click.echo(f"{r['name'] or r['street_code']}: {_percent(r['before']['rate'])} → {_percent(r['after']['rate'])}"
                   f"  {state}")
        for a in r["actions"]:
            click.echo(f"  - [{t('coverage.plan.kind.' + a['kind'], lang)}] {a['label']}  "
                       f"{t('coverage.plan.cost', lang, cost=a['cost'])}")
        if r["missing"]:
            click.echo("  " + t("coverage.plan.missing", lang, n=r["missing"]["served_short"]))
    if doc["status"] == "budget_insufficient":
        click.echo(t("coverage.plan.budget_insufficient", lang, need=doc["budget_needed"]))
    _provenance(("milestones", "target_coverage", "bundle_action_cost", "renewal_action_cost"), lang)


def register(cli: click.Group) -> None:
    """Add the `kpi` group (`kpi`, `kpi projection`, `kpi plan`) to the CLI group."""

    @cli.group("kpi", invoke_without_command=True)
    @click.option("--street", default=None, help="Only this street's row (NBS code or name); district stays whole.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document {district, streets}.")
    @click.pass_context
    def kpi(ctx: click.Context, street: str | None, as_json: bool) -> None:
        """专业化物业覆盖率与业主组织组建率 (coverage and owners' organisation KPIs, RULES §1)."""
        if ctx.invoked_subcommand is not None:
            return
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

    @kpi.command("projection")
    @click.option("--street", default=None, help="Only this street's row (NBS code or name); district stays whole.")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge contracts as of this day.")
    @click.option("--json", "as_json", is_flag=True, help='One JSON document {"milestones", "streets"}.')
    @click.pass_context
    def projection(ctx: click.Context, street: str | None, today: Any, as_json: bool) -> None:
        """到2025/2026/2027年底的覆盖率推演 (RULES §1 path to target)."""
        from geoplatform.cli import UserError, emit, get_context, require_schema, resolve_street
        from plugins.coverage.service import projection_report

        c = get_context(ctx)
        require_schema(c)
        _today(c, today)
        code = resolve_street(c, street) if street else None
        try:
            doc = projection_report(c, street=code)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        emit(doc, as_json, lambda d: human_projection(d, c.config.language))

    @kpi.command("plan")
    @click.option("--street", default=None, help="Only this street's row (NBS code or name); the plan stays one.")
    @click.option("--budget", type=float, default=None, help="At most this total cost (万元/year).")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge contracts as of this day.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document.")
    @click.pass_context
    def plan(ctx: click.Context, street: str | None, budget: float | None, today: Any, as_json: bool) -> None:
        """最低成本补齐各街镇2027年覆盖率缺口的行动方案 (least-cost actions to the target)."""
        from geoplatform.cli import UserError, emit, get_context, require_schema, resolve_street
        from plugins.coverage.service import plan_report

        c = get_context(ctx)
        require_schema(c)
        _today(c, today)
        code = resolve_street(c, street) if street else None
        try:
            doc = plan_report(c, street=code, budget=budget)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        emit(doc, as_json, lambda d: human_plan(d, c.config.language))
