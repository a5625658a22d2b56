"""`geoplatform takeover rank | select | advance` (RULES §4)."""

from __future__ import annotations

from typing import Any

import click

from geoplatform.cli import (
    UserError,
    acting_principal,
    emit,
    get_context,
    print_table,
    require_schema,
    resolve_street,
)
from geoplatform.config import plan_settings
from geoplatform.i18n import t
from geoplatform.labels import label
from plugins.takeover import service
from plugins.takeover.mapping import settings_for
from plugins.takeover.settings import COMPONENTS, TakeoverSettings


def _settings(c: Any, include_unknown: bool = False) -> TakeoverSettings:
    """The takeover settings; `--include-unknown` makes compounds 待核实 candidates too (RULES §1)."""
    from dataclasses import replace

    try:
        s = settings_for(c)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    return replace(s, include_unknown=True) if include_unknown else s


INCLUDE_UNKNOWN_HELP = "Also rank compounds whose management mode is unknown (待核实; left out by default)."


def _legend(s: TakeoverSettings, lang: str) -> None:
    w = s.weights()
    sep = "，" if lang == "zh" else ", "
    parts = sep.join(f"{label('takeover_component', c, lang)} {w[c]:g}" for c in COMPONENTS)
    click.echo(t("takeover.legend.formula", lang, parts=parts))
    click.echo(t("takeover.legend.thresholds", lang, radius=f"{s.contiguity_radius_m:g}", sat=s.contiguity_saturation,
                 old=s.age_old_until, fee=f"{s.fee_full_at:.0%}", hh=s.households_full_at,
                 compl=f"{s.complaints_full_at:g}", hazards=f"{s.safety_problems_full_at:g}", area=f"{s.public_tender_min_floor_area_m2 / 10000:g}"))


def _cols(lang: str, *keys: str) -> list[tuple[str, str]]:
    return [(k, t(f"takeover.col.{h}", lang)) for k, h in (key.split(":") for key in keys)]


def _reasons(row: dict[str, Any], lang: str, top: int = 3) -> str:
    """The components that earned most points, e.g. "连片20 房龄15 改造15"."""
    best = sorted(row["components"].items(), key=lambda kv: -kv[1]["points"])[:top]
    return " ".join(f"{t(f'takeover.short.{c}', lang)}{v['points']:g}" for c, v in best if v["points"] > 0)


def _component_points(row: dict[str, Any]) -> dict[str, Any]:
    return {f"pts_{c}": round(v["points"], 1) for c, v in row["components"].items()}


def register(cli: click.Group) -> None:
    """Add the `takeover` command group."""

    @cli.group("takeover")
    def takeover() -> None:
        """国企兜底：候选小区排名、最优入围选择与进度（RULES §4）。"""

    @takeover.command("rank")
    @click.option("--include-community-managed", is_flag=True, help="Also rank 社区代管 compounds.")
    @click.option("--include-unknown", is_flag=True, help=INCLUDE_UNKNOWN_HELP)
    @click.option("--street", default=None, help="Only this street (code or name).")
    @click.option("--limit", type=int, default=None, help="Show only the first N (table only).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def rank_cmd(ctx: click.Context, include_community_managed: bool, include_unknown: bool, street: str | None,
                 limit: int | None, as_json: bool) -> None:
        """Rank takeover candidates by score 0–100 with every component."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c, include_unknown)
        street_code = resolve_street(c, street) if street else None
        with c.session(readonly=True) as sess:
            data = service.rank_payload(sess, s, include_community_managed, street_code)

        lang = c.config.language

        def human(d: dict[str, Any]) -> None:
            _legend(s, lang)
            table = [{"rank": i, **r, **_component_points(r), "tender": t(f"takeover.tender_short.{r['tender_mode']}", lang),
                      "state_label": label("takeover_state", r["state"], lang)}
                     for i, r in enumerate(d["candidates"][:limit] if limit else d["candidates"], 1)]
            cols = _cols(lang, "rank:rank", "compound_id:id", "name:name", "street_name:street", "score:score") + \
                [(f"pts_{c}", t(f"takeover.short.{c}", lang)) for c in COMPONENTS] + \
                _cols(lang, "takeover_cost:cost", "tender:tender", "state_label:state")
            print_table(table, cols)
            click.echo(t("takeover.total", lang, n=len(d["candidates"])))

        emit(data, as_json, human)

    @takeover.command("select")
    @click.option("--min", "min_n", default=None, help="Fewest compounds (default 10; 0–500).")
    @click.option("--max", "max_n", default=None, help="Most compounds (default 15; 1–500).")
    @click.option("--budget", default=None, help="Σ takeover_cost ≤ budget (万元/年, 0–1e7).")
    @click.option("--per-street-max", default=None, help="At most K per street (1–500).")
    @click.option("--contiguity-weight", default=None, help="Bonus points per selected pair within the contiguity radius "
                  "(0–1000, default 0).")
    @click.option("--include-community-managed", is_flag=True)
    @click.option("--include-unknown", is_flag=True, help=INCLUDE_UNKNOWN_HELP)
    @click.option("--save", is_flag=True, help="Save the selection as the year's shortlist.")
    @click.option("--year", default=None, help="Shortlist year (default: this year).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def select_cmd(ctx: click.Context, min_n: str | None, max_n: str | None, budget: str | None,
                   per_street_max: str | None, contiguity_weight: str | None, include_community_managed: bool,
                   include_unknown: bool, save: bool, year: str | None, as_json: bool) -> None:
        """Choose the set maximising total score under count, budget and street cap (exact MILP).

        The parameters are checked by the same parser as /api/v1/takeover/select and the workspace
        (service.parse_params): the same bad value gets the same message everywhere.
        """
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c, include_unknown)
        if year is not None and not save:
            raise UserError("--year is only used with --save")
        raw = {"min": min_n, "max": max_n, "budget": budget, "per_street_max": per_street_max,
               "contiguity_weight": contiguity_weight, "include_community_managed": include_community_managed,
               "year": year}
        try:  # the CLI maps UserInputError to exit 2 itself; here the solver's detail joins the one line
            params = service.parse_params({k: v for k, v in raw.items() if v is not None}, s, c.today)
            with c.session(readonly=not save) as sess:
                data = service.choose(sess, s, params, save_as=(acting_principal(c), params.year) if save else None)
        except service.TakeoverError as exc:
            detail = exc.message.params.get("detail")
            raise UserError(f"{exc} ({detail})" if detail else str(exc)) from exc

        lang = c.config.language

        def human(d: dict[str, Any]) -> None:
            _legend(s, lang)
            table = [{"n": i, **r, "tender": t(f"takeover.tender_short.{r['tender_mode']}", lang),
                      "reasons": _reasons(r, lang)} for i, r in enumerate(d["details"], 1)]
            print_table(table, _cols(lang, "n:n", "compound_id:id", "name:name", "street_name:street", "score:score",
                                     "takeover_cost:cost", "tender:tender", "reasons:reasons"))
            p = d["parameters"]
            g = d["baseline_greedy_objective"]
            none = t("takeover.unlimited", lang)
            verdict = service.verdict(d, lang)
            click.echo(t("takeover.summary", lang, n=len(d["selected"]), lo=p["min"], hi=p["max"],
                         budget=none if p["budget"] is None else f"{p['budget']:g} 万元",
                         cap=none if p["per_street_max"] is None else p["per_street_max"],
                         w=f"{p['contiguity_weight']:g}", obj=d["objective"], verdict=verdict,
                         greedy=t("takeover.greedy_none", lang) if g is None else f"{g:.2f}",
                         cost=d["total_cost"], sec=d["solve_seconds"]))
            if d["saved"]:
                sv = d["saved"]
                click.echo(t("takeover.saved", lang, year=sv["year"], added=len(sv["shortlisted"]),
                             dropped=len(sv["dropped"]), kept=len(sv["kept_in_later_states"])))

        emit(data, as_json, human)

    @takeover.command("advance")
    @click.argument("compound")
    @click.argument("state", type=click.Choice(service.STATES))
    @click.option("--year", type=int, default=None, help="Pipeline year (default: this year).")
    @click.option("--mode", "tender_mode", default=None,
                  help="tendering: public | invited (public required at ≥ 5万 m² or unknown area).")
    @click.option("--bidders", default=None, help="tendering: number of bidders (an invited tender needs ≥ 3).")
    @click.option("--company", default=None, help="contracted: the firm that won the tender (must be eligible).")
    @click.option("--contract-start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="contracted: YYYY-MM-DD.")
    @click.option("--contract-end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="contracted: YYYY-MM-DD.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def advance_cmd(ctx: click.Context, compound: str, state: str, year: int | None, tender_mode: str | None,
                    bidders: str | None, company: str | None, contract_start: Any, contract_end: Any,
                    as_json: bool) -> None:
        """Move a compound one step: candidate → shortlisted → tendering → contracted → serving.

        tendering records the tender (--mode, --bidders); contracted records the contract (--company,
        --contract-start, --contract-end) and needs a signatory owners' organisation (RULES §4).
        """
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        try:
            terms = service.parse_tender_terms({"mode": tender_mode, "bidders": bidders})
            with c.session() as sess:
                result = service.advance(sess, acting_principal(c), compound, state, year or c.today.year, s,
                                         company=company, **terms,
                                         contract_start=contract_start.date() if contract_start else None,
                                         contract_end=contract_end.date() if contract_end else None)
                result["coverage"] = service.coverage(sess, plan_settings(c.config).served_modes)
        except service.TakeoverError as exc:
            raise UserError(str(exc)) from exc

        lang = c.config.language

        def human(d: dict[str, Any]) -> None:
            click.echo(t("takeover.moved", lang, name=d["compound_id"], year=d["year"],
                         frm=label("takeover_state", d["from"], lang), to=label("takeover_state", d["to"], lang)))
            if d.get("management_mode") == "state_owned":
                click.echo(t("takeover.served", lang, company=d["company"],
                             rate=d["coverage"]["coverage_rate"]))

        emit(result, as_json, human)
