"""`geoplatform governance check [--street S] [--today D] [--json]` (RULES §8; the JSON is in docs/governance.md)."""

from __future__ import annotations

from typing import Any

import click


def register(cli: click.Group) -> None:
    """Add the `governance` group to the CLI."""

    @cli.group("governance")
    def governance() -> None:
        """Governance clocks (RULES §8): problem ledger, 24-hour reports, mediation, pilots."""

    @governance.command("check")
    @click.option("--street", default=None, help="One street (NBS code or name); default the whole district.")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="Judge as of this day (default today; the 24-hour clock: the end of that day).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def check(ctx: click.Context, street: str | None, today: Any, as_json: bool) -> None:
        """Every finding: report_late, rectification_refused/overdue, mediation_overdue, pilot_* (with ids)."""
        from geoplatform.cli import UserError, emit, get_context, print_table, require_schema
        from geoplatform.i18n import t
        from plugins.governance import hooks, service
        from plugins.governance.settings import settings_for

        c = get_context(ctx)
        require_schema(c)
        day = today.date() if today else c.today
        try:
            settings = settings_for(c)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        as_of = hooks.as_of(day, settings)
        with c.session(readonly=True) as s:  # a UserInputError (unknown street) is exit 2 through the CLI group
            scope = service.Scope(street_code=_street(s, street)) if street else service.Scope()
            data = service.check(s, day, as_of, settings, hooks.org_lookup(c), scope)

        def human(d: dict[str, Any]) -> None:
            rows = [{**f, "what": t(f"governance_finding.{f['code']}"),
                     "late": "、".join(t(f"recipient.{r}") for r in f.get("late", ()))} for f in d["findings"]]
            print_table(rows, [("code", "code"), ("what", t("governance.col.code")),
                               ("street_code", t("governance.col.street")),
                               ("community_code", t("governance.col.community")),
                               ("problem_id", t("governance.col.problem")), ("mediation_id", t("governance.col.id")),
                               ("company", t("governance.col.company")), ("late", t("governance.col.late")),
                               ("period", t("governance.col.period"))])
            key = "governance.cli.findings" if rows else "governance.cli.none"
            click.echo(t(key, n=len(rows), today=d["today"]), err=True)

        emit(data, as_json, human)


def _street(session: Any, value: str) -> str:
    from geoplatform.streets import resolve_street

    return resolve_street(session, value)
