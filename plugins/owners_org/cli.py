"""`geoplatform owners-org check [--street S] [--today D] [--json]` and `owners-org sync` (RULES §6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from geoplatform.i18n import t
from geoplatform.labels import label


def _today(c: Any, today: dt.datetime | None) -> dt.date:
    if today is not None:
        c.today = today.date()
    return c.today


def human(report: dict[str, Any], lang: str) -> None:
    """The check report as two tables (organisations, streets) and the thresholds applied."""
    from geoplatform.cli import print_table
    from plugins.owners_org.messages import finding_text

    sep = "；" if lang == "zh" else "; "
    click.echo(t("owners_org.cli.today", lang, today=report["today"]))
    if report["orgs"]:
        rows = [{"org_id": o["org_id"], "compound_id": o["compound_id"], "kind": label("org_kind", o["kind"], lang),
                 "state": label("org_state", o["state"], lang),
                 "findings": sep.join(finding_text(f, lang) for f in o["findings"])} for o in report["orgs"]]
        print_table(rows, [(k, t(f"owners_org.cli.col.{k}", lang))
                           for k in ("org_id", "compound_id", "kind", "state", "findings")])
    else:
        click.echo(t("owners_org.cli.none", lang))
    click.echo("")
    rows = [{"street_code": s["street_code"], "trainings": s["trainings"],
             "findings": sep.join(finding_text(f, lang) for f in s["findings"])} for s in report["streets"]]
    print_table(rows, [(k, t(f"owners_org.cli.col.{k}", lang)) for k in ("street_code", "trainings", "findings")])


def thresholds(settings: Any, lang: str) -> None:
    """The settings applied, with their provenance."""
    from plugins.owners_org.settings import settings_table

    click.echo("")
    click.echo(t("owners_org.cli.thresholds", lang))
    for item in settings_table(settings):
        click.echo(f"  {item['name']} = {item['value']}  {item['provenance']}")


def register(cli: click.Group) -> None:
    """Add the `owners-org` group to the CLI."""

    @cli.group("owners-org")
    def owners_org() -> None:
        """业委会/物管会 (RULES §6): check the organisations' records; keep compound.owners_org in step."""

    @owners_org.command("check")
    @click.option("--street", default=None, help="Only this street (NBS code or name).")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge as of this day.")
    @click.option("--json", "as_json", is_flag=True, help='One JSON document {"today","orgs","streets"}.')
    @click.pass_context
    def check(ctx: click.Context, street: str | None, today: dt.datetime | None, as_json: bool) -> None:
        """Every organisation's state and findings (A1–A7) and every street's trainings."""
        from geoplatform.cli import UserError, emit, get_context, require_schema
        from geoplatform.errors import UserInputError
        from geoplatform.streets import resolve_street
        from plugins.owners_org import service
        from plugins.owners_org.settings import settings_for

        c = get_context(ctx)
        require_schema(c)
        lang = c.config.language
        try:
            settings = settings_for(c)
            day = _today(c, today)
            with c.session(readonly=True) as s:
                code = resolve_street(s, street) if street else None
                report = service.check_report(s, day, settings, code)
        except UserInputError as exc:
            raise UserError(exc.message.text(lang)) from exc
        except ValueError as exc:  # bad [rules.owners_org] settings
            raise UserError(str(exc)) from exc

        def show(d: dict[str, Any]) -> None:
            human(d, lang)
            thresholds(settings, lang)

        emit(report, as_json, show)

    @owners_org.command("sync")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge as of this day.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def sync(ctx: click.Context, today: dt.datetime | None, as_json: bool) -> None:
        """Declared organisations for compounds whose owners_org names one; compound.owners_org from the records."""
        from geoplatform.cli import UserError, acting_principal, emit, get_context, require_schema
        from plugins.owners_org import service
        from plugins.owners_org.settings import settings_for

        c = get_context(ctx)
        require_schema(c)
        try:
            settings = settings_for(c)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        day = _today(c, today)
        user = acting_principal(c)
        with c.session() as s:
            declared = service.declare_from_compounds(s, None, user)
            changed = service.sync_compounds(s, None, day, settings, user)
        lang = c.config.language
        emit({"today": day.isoformat(), "declared": declared, "changed": changed}, as_json,
             lambda d: click.echo(t("owners_org.cli.synced", lang, changed=len(d["changed"]), declared=len(d["declared"]))))
