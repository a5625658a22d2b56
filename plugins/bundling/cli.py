"""`geoplatform bundle plan | list | accept | reject | revert` (RULES §5)."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm.exc import StaleDataError

from geoplatform import audit
from geoplatform.cli import (
    UserError,
    acting_principal,
    emit,
    get_context,
    print_table,
    require_schema,
    resolve_street,
)
from geoplatform.i18n import t
from geoplatform.labels import label
from geoplatform.principal import Principal
from plugins.bundling.settings import BundlingSettings

KIND_SHORT = {"building": "楼栋", "compound": "小区"}


def _service():  # noqa: ANN202
    """The service module, imported on use so that `geoplatform --help` stays light."""
    from plugins.bundling import service

    return service


def _settings(c: Any, max_distance: float | None = None, include_unknown: bool | None = None) -> BundlingSettings:
    if max_distance is not None and max_distance < 0:
        raise UserError(f"--max-distance must be ≥ 0, got {max_distance:g}")
    try:
        return _service().settings_for(c, max_distance, include_unknown)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def _ids(ids: list[str], n: int = 3) -> str:
    return ", ".join(ids[:n]) + (f" 等{len(ids)}个" if len(ids) > n else "")


def _decide(c: Any, principal: Principal, action: str, proposal_id: str, fn: Any, **kw: Any) -> dict[str, Any]:
    """Run one decision in one transaction; refusals become one clear line and exit status 2."""
    svc = _service()
    try:
        with c.session() as s:
            return fn(c, s, principal, proposal_id, **kw)
    except svc.BundleDenied as exc:
        street = svc.street_of_id(proposal_id)
        audit.record_denied(c, principal, action, "bundle_proposal", proposal_id, street_code=street, detail=str(exc))
        raise UserError(f"permission denied: {exc}") from exc
    except svc.BundleError as exc:
        raise UserError(str(exc)) from exc
    except StaleDataError as exc:
        raise UserError(f"proposal {proposal_id} or its records were changed by someone else meanwhile; "
                        "nothing was written — try again") from exc


def register(cli: click.Group) -> None:
    """Add the `bundle` command group."""

    @cli.group("bundle")
    def bundle() -> None:
        """打包管理：单体楼栋与小规模小区并入相邻专业化物业小区（RULES §5）。"""

    @bundle.command("plan")
    @click.option("--street", default=None, help="Only this street's orphans (NBS code or name).")
    @click.option("--max-distance", type=float, default=None, help="Edge-to-edge reach in metres (default 300).")
    @click.option("--include-unknown", is_flag=True, default=None,
                  help="Compounds whose management mode is unknown (待核实) may be orphans too (default: left out).")
    @click.option("--save", is_flag=True, help="Store the proposals (status proposed); decided ones are kept.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def plan_cmd(ctx: click.Context, street: str | None, max_distance: float | None, include_unknown: bool | None,
                 save: bool, user: str | None, as_json: bool) -> None:
        """Propose a host for every orphan; group the rest into new bundles or say why unmatched."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c, max_distance, include_unknown or None)
        street_code = resolve_street(c, street) if street else None
        principal = acting_principal(c, user)
        if save and user is not None and not c.allowed(principal, "decide_bundle",
                                                       {"kind": "bundle", "street_code": street_code}):
            audit.record_denied(c, principal, "plan", "bundle_proposal", None, street_code=street_code)
            raise UserError(f"permission denied: {principal.name} may not save proposals for "
                            f"{street_code or 'every street'} (give your own --street)")
        with c.session(readonly=not save) as sess:
            plan = _service().compute_plan(sess, s, street_code)
            saved = _service().save_plan(sess, plan, principal, street_code) if save else None
            statuses = _service().stored_statuses(sess, list(plan.proposals["id"]))
        data = plan.to_dict(with_settings=True)
        for p in data["proposals"]:
            p["status"] = statuses.get(p["id"], "proposed")
        if saved is not None:
            data["saved"] = saved

        def human(d: dict[str, Any]) -> None:
            click.echo(t("bundling.thresholds", **d["settings"]))
            rows = [{**p, "kind": KIND_SHORT[p["orphan_kind"]], "orphans": _ids(p["orphan_ids"]),
                     "status_zh": label("bundle_status", p["status"]),
                     "area": f"{p['merged_floor_area_m2'] / 10000:.2f}"} for p in d["proposals"]]
            print_table(rows, [("id", "建议编号"), ("kind", "类型"), ("orphans", "楼栋/小区"),
                               ("host_compound_id", "并入小区"), ("distance_m", "间距(米)"),
                               ("area", "合并后面积(万㎡)"), ("merged_households", "合并后户数"),
                               ("status_zh", "状态")])
            for b in d["new_bundles"]:
                click.echo(f"新管理区域 {b['id']}（{b['street']}）：{_ids(b['orphan_ids'])}，"
                           f"建筑面积 {b['floor_area_m2'] / 10000:.2f} 万㎡ — 国企兜底候选")
            if d["unmatched"]:
                click.echo("暂无可打包对象：")
                print_table([{**u, "kind": KIND_SHORT[u["orphan_kind"]],
                              "why": label("bundle_reason", u["reason"])} for u in d["unmatched"]],
                            [("orphan_id", "编号"), ("kind", "类型"), ("street", "街镇"), ("why", "原因"),
                             ("nearest_host_distance_m", "最近专业化小区(米)")])
            click.echo(f"打包建议 {len(d['proposals'])} 条，新管理区域 {len(d['new_bundles'])} 个，"
                       f"暂无可打包 {len(d['unmatched'])} 个")
            if d.get("saved"):
                sv = d["saved"]
                click.echo(f"已保存：新增 {sv['inserted']}，更新 {sv['updated']}，保留已决定 {sv['kept_decided']}，"
                           f"删除过时 {sv['removed_stale']}")
            elif d["proposals"]:
                click.echo("用 `geoplatform bundle accept 建议编号 --vote-area 总面积/参与面积/同意面积 "
                           "--vote-owners 总人数/参与人数/同意人数` 同意，"
                           "`geoplatform bundle reject 建议编号 --reason …` 驳回")

        emit(data, as_json, human)

    @bundle.command("list")
    @click.option("--street", default=None, help="Only this street (NBS code or name).")
    @click.option("--status", type=click.Choice(["proposed", "accepted", "rejected", "reverted"]), default=None)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def list_cmd(ctx: click.Context, street: str | None, status: str | None, as_json: bool) -> None:
        """Stored proposals with their status and decision."""
        c = get_context(ctx)
        require_schema(c)
        street_code = resolve_street(c, street) if street else None
        with c.session(readonly=True) as sess:
            rows = _service().list_proposals(sess, street_code, status)

        def human(d: dict[str, Any]) -> None:
            print_table([{**p, "orphans": _ids(p["orphan_ids"]), "status_zh": label("bundle_status", p["status"])}
                         for p in d["proposals"]],
                        [("id", "建议编号"), ("orphans", "楼栋/小区"), ("host_compound_id", "并入小区"),
                         ("distance_m", "间距(米)"), ("status_zh", "状态"), ("decided_by", "决定人")])

        emit({"proposals": rows}, as_json, human)

    def _show(d: dict[str, Any]) -> None:
        click.echo(f"{d['id']}：{label('bundle_status', d['status'])}（{_ids(d['orphan_ids'])} → "
                   f"{d['host_compound_id']}，{d['decided_by']}）")

    @bundle.command("accept")
    @click.argument("proposal_id")
    @click.option("--vote-area", default=None, metavar="TOTAL/PARTICIPATING/YES",
                  help="The owners' vote by floor area in m² (民法典 §278: participants ≥ 2/3, yes > 1/2 of them).")
    @click.option("--vote-owners", default=None, metavar="TOTAL/PARTICIPATING/YES",
                  help="The owners' vote by head count (participants ≥ 2/3 of the owners, yes > 1/2 of them).")
    @click.option("--consent-note", default=None, help="Owners' consent (业主大会表决) reference.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def accept_cmd(ctx: click.Context, proposal_id: str, vote_area: str | None, vote_owners: str | None,
                   consent_note: str | None, user: str | None, as_json: bool) -> None:
        """Move the orphan(s) under the host compound (one transaction, audited, reversible by an admin).

        The owners' vote is required and must pass; it is recorded with the host's firm (RULES §5).
        """
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        result = _decide(c, acting_principal(c, user), "decide_bundle", proposal_id, _service().accept,
                         consent_note=consent_note, settings=s, vote_area=vote_area, vote_owners=vote_owners)
        emit(result, as_json, _show)

    @bundle.command("reject")
    @click.argument("proposal_id")
    @click.option("--reason", required=True, help="Why the proposal is rejected.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def reject_cmd(ctx: click.Context, proposal_id: str, reason: str, user: str | None, as_json: bool) -> None:
        """Reject a proposal with a reason; re-planning keeps it rejected."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        result = _decide(c, acting_principal(c, user), "decide_bundle", proposal_id, _service().reject, reason=reason,
                         settings=s)
        emit(result, as_json, _show)

    @bundle.command("revert")
    @click.argument("proposal_id")
    @click.option("--note", required=True, help="Why the accepted proposal is undone (required, audited).")
    @click.option("--user", default=None, help="Act as this stored user (admin only).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def revert_cmd(ctx: click.Context, proposal_id: str, note: str | None, user: str | None, as_json: bool) -> None:
        """Undo an accepted proposal exactly (admin only)."""
        c = get_context(ctx)
        require_schema(c)
        result = _decide(c, acting_principal(c, user), "revert_bundle", proposal_id, _service().revert, note=note)
        emit(result, as_json, _show)
