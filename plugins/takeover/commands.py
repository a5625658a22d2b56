"""`geoplatform takeover rank | select | advance` (RULES §4)."""

from __future__ import annotations

import getpass
from typing import Any

import click

from geoplatform.cli import UserError, emit, get_context, print_table, require_schema, resolve_street
from geoplatform.labels import label
from geoplatform.principal import Principal
from plugins.takeover import service
from plugins.takeover.mapping import settings_for
from plugins.takeover.messages import COMPONENT
from plugins.takeover.selection import InfeasibleSelection
from plugins.takeover.settings import COMPONENTS, TakeoverSettings

SHORT = {"contiguity": "连片", "age": "房龄", "renovation": "改造", "fee_viability": "收费", "households": "户数",
         "safety_complaints": "投诉", "utility_handover": "移交", "owners_org": "业委会"}


def cli_principal() -> Principal:
    """The operator at the terminal (the CLI runs with admin rights on the database it is given)."""
    try:
        user = getpass.getuser()
    except Exception:  # pragma: no cover - no login name in some containers
        user = "unknown"
    return Principal(name=f"cli:{user}", role="admin")


def _settings(c: Any) -> TakeoverSettings:
    try:
        return settings_for(c)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def _legend(s: TakeoverSettings) -> None:
    w = s.weights()
    click.echo("得分 = Σ 权重 × 分项(0–1)：" + "，".join(f"{COMPONENT[c][0]} {w[c]:g}" for c in COMPONENTS))
    click.echo(f"阈值：连片半径 {s.contiguity_radius_m:g} 米（{s.contiguity_saturation} 个邻近满分，EPSG:4547 实测距离）；"
               f"老旧小区 ≤{s.age_old_until} 年；收缴率 ≥{s.fee_full_at:.0%} 满分；户数 {s.households_full_at} 户满分；"
               f"投诉 {s.complaints_full_at:g} 件/年满分；建筑面积 ≥{s.public_tender_min_floor_area_m2 / 10000:g} 万㎡ 公开招标")


def _component_points(row: dict[str, Any]) -> dict[str, Any]:
    return {f"pts_{c}": round(v["points"], 1) for c, v in row["components"].items()}


def register(cli: click.Group) -> None:
    """Add the `takeover` command group."""

    @cli.group("takeover")
    def takeover() -> None:
        """国企兜底：候选小区排名、最优入围选择与进度（RULES §4）。"""

    @takeover.command("rank")
    @click.option("--include-community-managed", is_flag=True, help="Also rank 社区代管 compounds.")
    @click.option("--street", default=None, help="Only this street (code or name).")
    @click.option("--limit", type=int, default=None, help="Show only the first N (table only).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def rank_cmd(ctx: click.Context, include_community_managed: bool, street: str | None, limit: int | None,
                 as_json: bool) -> None:
        """Rank takeover candidates by score 0–100 with every component."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        street_code = resolve_street(c, street) if street else None
        with c.session(readonly=True) as sess:
            data = service.rank_payload(sess, s, include_community_managed, street_code)

        def human(d: dict[str, Any]) -> None:
            _legend(s)
            table = [{"rank": i, **r, **_component_points(r), "tender": label("tender_mode", r["tender_mode"])[:4],
                      "state_zh": label("takeover_state", r["state"])}
                     for i, r in enumerate(d["candidates"][:limit] if limit else d["candidates"], 1)]
            cols = [("rank", "排名"), ("compound_id", "编号"), ("name", "小区"), ("street_name", "街镇"),
                    ("score", "得分")] + [(f"pts_{c}", SHORT[c]) for c in COMPONENTS] + [
                    ("takeover_cost", "年补贴(万元)"), ("tender", "选聘方式"), ("state_zh", "进度")]
            print_table(table, cols)
            click.echo(f"共 {len(d['candidates'])} 个候选小区")

        emit(data, as_json, human)

    @takeover.command("select")
    @click.option("--min", "min_n", type=int, default=None, help="Fewest compounds (default 10).")
    @click.option("--max", "max_n", type=int, default=None, help="Most compounds (default 15).")
    @click.option("--budget", type=float, default=None, help="Σ takeover_cost ≤ budget (万元/年).")
    @click.option("--per-street-max", type=int, default=None, help="At most K per street.")
    @click.option("--contiguity-weight", type=float, default=0.0, show_default=True,
                  help="Bonus points per selected pair within the contiguity radius.")
    @click.option("--include-community-managed", is_flag=True)
    @click.option("--save", is_flag=True, help="Save the selection as the year's shortlist.")
    @click.option("--year", type=int, default=None, help="Shortlist year (default: this year).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def select_cmd(ctx: click.Context, min_n: int | None, max_n: int | None, budget: float | None,
                   per_street_max: int | None, contiguity_weight: float, include_community_managed: bool,
                   save: bool, year: int | None, as_json: bool) -> None:
        """Choose the set maximising total score under count, budget and street cap (exact MILP)."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        lo = s.select_min if min_n is None else min_n
        hi = s.select_max if max_n is None else max_n
        if year is not None and not save:
            raise UserError("--year is only used with --save")
        year = year or c.today.year
        try:
            with c.session(readonly=not save) as sess:
                data = service.selection_payload(sess, s, lo, hi, budget, per_street_max, contiguity_weight,
                                                 include_community_managed,
                                                 save_as=(cli_principal(), year) if save else None)
        except InfeasibleSelection as exc:
            raise UserError(f"infeasible ({exc.constraint}): {exc}") from exc

        def human(d: dict[str, Any]) -> None:
            _legend(s)
            table = [{"n": i, **r, "tender": label("tender_mode", r["tender_mode"])[:4]}
                     for i, r in enumerate(d["details"], 1)]
            print_table(table, [("n", "序号"), ("compound_id", "编号"), ("name", "小区"), ("street_name", "街镇"),
                                ("score", "得分"), ("takeover_cost", "年补贴(万元)"), ("tender", "选聘方式")])
            p = d["parameters"]
            g = d["baseline_greedy_objective"]
            greedy_text = "无（按得分贪心凑不足最少数量）" if g is None else f"{g:.2f}"
            verdict = "最优解（HiGHS 已证明）" if d["optimal"] else f"未证明最优：{d['status']}"
            click.echo(f"入选 {len(d['selected'])} 个（范围 {p['min']}–{p['max']}，预算 {p['budget'] or '不限'} 万元，"
                       f"每街镇上限 {p['per_street_max'] or '不限'}，连片加分 {p['contiguity_weight']:g}/对）；"
                       f"目标值 {d['objective']:.2f}（{verdict}）；贪心基线 {greedy_text}；"
                       f"年补贴合计 {d['total_cost']} 万元；求解 {d['solve_seconds']:.3f} 秒")
            if d["saved"]:
                click.echo(f"已保存为 {d['saved']['year']} 年入围名单：新增/更新 {len(d['saved']['shortlisted'])}，"
                           f"移出 {len(d['saved']['dropped'])}，保留后续阶段 {len(d['saved']['kept_in_later_states'])}")

        emit(data, as_json, human)

    @takeover.command("advance")
    @click.argument("compound")
    @click.argument("state", type=click.Choice(service.STATES))
    @click.option("--year", type=int, default=None, help="Pipeline year (default: this year).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def advance_cmd(ctx: click.Context, compound: str, state: str, year: int | None, as_json: bool) -> None:
        """Move a compound one step: candidate → shortlisted → tendering → contracted → serving."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        try:
            with c.session() as sess:
                result = service.advance(sess, cli_principal(), compound, state, year or c.today.year, s)
                result["coverage"] = service.coverage(sess)
        except service.TakeoverError as exc:
            raise UserError(str(exc)) from exc

        def human(d: dict[str, Any]) -> None:
            click.echo(f"{d['compound_id']}（{d['year']}）：{label('takeover_state', d['from'])} → "
                       f"{label('takeover_state', d['to'])}")
            if d.get("management_mode") == "state_owned":
                cov = d["coverage"]
                click.echo(f"已由 {d['property_company']} 进驻服务，移出候选池；专业化物业覆盖率 {cov['coverage_rate']:.1%}")

        emit(result, as_json, human)
