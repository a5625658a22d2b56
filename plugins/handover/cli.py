"""`geoplatform handover …` commands: backlog, set, done, show, history."""

from __future__ import annotations

import datetime as dt
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
from geoplatform.i18n import t
from geoplatform.labels import label, parse_enum
from geoplatform.principal import Principal
from plugins.handover import rules
from plugins.handover.labels import facility_label, state_label

DATE = click.DateTime(["%Y-%m-%d"])
READ_AS = ("Read as this user account: its read rule applies (a utility reads only its facility's rows, a viewer "
           "none; default: the local operator, admin).")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _parse(enum: str, value: str) -> str | None:
    """Our labels, plus the importer's synonyms when the io package is present (same words everywhere)."""
    try:
        from geoplatform.io.fields import parse_enum_value
    except ImportError:  # pragma: no cover
        return parse_enum(enum, value)
    return parse_enum_value(enum, value)


def _facility(value: str | None) -> str | None:
    if value is None:
        return None
    f = _parse("facility", value)
    if f is None:
        raise UserError(f"unknown facility/utility {value!r}; choose one of: {', '.join(rules.FACILITIES)}")
    return f


def _state(facility: str, value: str) -> str:
    s = value if value in rules.machine(facility) else _parse("handover_state", value)
    if s is None or s not in rules.machine(facility):
        raise UserError(f"unknown state {value!r} for {facility}; states: {', '.join(rules.states(facility))}")
    return s


def _organiser(value: str | None) -> str | None:
    """An acceptance organiser from its value or Chinese label (区政府…); other text is left to the service."""
    if value is None:
        return None
    return value if value in rules.ORGANISERS else (parse_enum("acceptance_organiser", value) or value)


def _compound_id(c: Any, value: str) -> str:
    """A compound id from an id or an exact, unique name (unknown values are left to the service to reject)."""
    from sqlalchemy import select

    from geoplatform.models import Compound

    with c.session(readonly=True) as s:
        if s.get(Compound, value) is not None:
            return value
        ids = s.execute(select(Compound.id).where(Compound.name == value).limit(3)).scalars().all()
    if len(ids) > 1:
        raise UserError(f"compound name {value!r} is ambiguous ({', '.join(ids)}, …): give the compound id")
    return ids[0] if ids else value


def register(cli: click.Group) -> None:
    """Add the `handover` group to the CLI."""

    @cli.group("handover")
    def handover() -> None:
        """专业经营设施移交 (RULES §2): backlog, state changes, rectification ledger."""

    @handover.command("backlog")
    @click.option("--utility", "utility", default=None, help="water|power|heating|gas (or a gap kind, or 供水…).")
    @click.option("--street", default=None, help="Only this street (NBS code or name).")
    @click.option("--today", type=DATE, default=None, help="Reference day for overdue (default: today).")
    @click.option("--user", default=None, help=READ_AS)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def backlog_cmd(ctx: click.Context, utility: str | None, street: str | None, today: dt.datetime | None,
                    user: str | None, as_json: bool) -> None:
        """Rows not yet taken over/finished, with deadlines, overdue flags and counts per state and street."""
        from plugins.handover import default_facility
        from plugins.handover.service import backlog
        from plugins.handover.settings import settings_for

        c = get_context(ctx)
        require_schema(c)
        principal = acting_principal(c, user)
        try:
            settings = settings_for(c)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        facility = _facility(utility) or default_facility(principal, settings)
        street_code = resolve_street(c, street) if street else None
        day = today.date() if today else c.today
        _require(c, principal, "view", {"kind": "handover", "id": None, "facility": facility,
                                        "street_code": street_code})
        with c.session(readonly=True) as s:
            data = backlog(s, day, settings, facility, street_code)
        data["settings"] = {"row_deadline_overdue": settings.row_deadline_overdue,
                            "list_unsurveyed": settings.list_unsurveyed}
        data = _jsonable(data)
        for item in data["items"]:
            item.pop("street_code", None)

        def human(d: dict[str, Any]) -> None:
            rows = [{**i, "facility": facility_label(i["facility"]), "state": state_label(i["state"]),
                     "since": (i["since"] or "")[:10], "overdue": t("handover.yes") if i["overdue"] else ""}
                    for i in d["items"]]
            cols = ["compound_id", "compound_name", "street", "facility", "state", "since", "deadline", "overdue",
                    "open_items"]
            print_table(rows, [(k, t(f"handover.col.{k}")) for k in cols])
            click.echo(t("handover.total", total=d["counts"]["total"], overdue=d["counts"]["overdue"]))
            click.echo("按状态: " + "，".join(f"{state_label(k)} {v}" for k, v in d["counts"]["by_state"].items()))
            click.echo("按街道: " + "，".join(f"{k} {v}" for k, v in d["counts"]["by_street"].items()))
            rule = "整改项超过整改期限未完成" + ("，或本环节期限已过" if d["settings"]["row_deadline_overdue"] else "")
            click.echo(f"逾期判定（截至 {d['today']}）: {rule}；期限当天不算逾期 [rules.handover.row_deadline_overdue]")
        emit(data, as_json, human)

    @handover.command("set")
    @click.argument("compound")
    @click.argument("facility")
    @click.argument("state")
    @click.option("--note", default=None)
    @click.option("--deadline", type=DATE, default=None, help="Deadline of this stage (YYYY-MM-DD).")
    @click.option("--item", "items", multiple=True,
                  help='Ledger item "content|responsible unit|YYYY-MM-DD" (any open state; a failed acceptance\'s '
                       'defects).')
    @click.option("--organised-by", "organised_by", default=None,
                  help="Acceptance organiser: district_government|utility|street|other (district_government lets "
                       "not_handed_over go to acceptance).")
    @click.option("--acceptance-date", "acceptance_date", type=DATE, default=None,
                  help="Day the acceptance was (or is to be) held (default for a result: today).")
    @click.option("--participants", default=None, help="Units taking part in the acceptance.")
    @click.option("--unit", default=None, help="Responsible unit of the row.")
    @click.option("--expected-version", type=int, default=None, help="Fail if the row's version differs.")
    @click.option("--user", default=None, help="Act as this user account (its jurisdiction is enforced).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def set_cmd(ctx: click.Context, compound: str, facility: str, state: str, note: str | None,
                deadline: dt.datetime | None, items: tuple[str, ...], organised_by: str | None,
                acceptance_date: dt.datetime | None, participants: str | None, unit: str | None,
                expected_version: int | None, user: str | None, as_json: bool) -> None:
        """Move COMPOUND's FACILITY row to STATE (only RULES §2 transitions); records who, when, from, to.

        COMPOUND is a compound id (or its exact name); FACILITY water|power|heating|gas|fire_acceptance|
        power_upgrade|telecom_access (or 供水…); STATE an English value or its Chinese label (acceptance /
        组织验收). `geoplatform handover show COMPOUND FACILITY` lists the allowed next states. Ledger items
        (--item) attach in any open state; entering rectifying needs one with a deadline. not_handed_over →
        acceptance needs --organised-by district_government; an acceptance's result (→ agreement / →
        rectifying) records the acceptance event (--acceptance-date, --participants; --item = its defects).
        """
        from plugins.handover import service

        c = get_context(ctx)
        require_schema(c)
        fac = _facility(facility)
        target = _state(fac, state)
        compound = _compound_id(c, compound)
        try:
            parsed = [rules.parse_item(i) for i in items]
        except rules.HandoverRuleError as exc:
            raise UserError(str(exc)) from None
        principal = acting_principal(c, user)
        try:
            if user is not None:
                _authorise(c, principal, compound, fac)
            with c.session() as s:
                before = service.get_handover(s, compound, fac)
                service.set_state(s, principal, compound, fac, target, note=note,
                                  deadline=deadline.date() if deadline else None, items=parsed,
                                  expected_version=expected_version, responsible_unit=unit, today=c.today,
                                  organised_by=_organiser(organised_by),
                                  held_on=acceptance_date.date() if acceptance_date else None,
                                  participants=participants)
                after = service.get_handover(s, compound, fac, today=c.today)
        except service.HandoverError as exc:
            raise UserError(str(exc)) from None
        data = _jsonable({**after, "from_state": before["state"]})
        emit(data, as_json, lambda d: click.echo(
            f"{d['compound_name']} {facility_label(fac)}: {state_label(d['from_state'])} → {state_label(d['state'])}"
            f"（版本 {d['version']}，下一步可为: {'、'.join(state_label(x) for x in d['allowed_next']) or '无'}）"))

    @handover.command("done")
    @click.argument("item_id", type=int)
    @click.option("--date", "done", type=DATE, default=None, help="Done date (default: today).")
    @click.option("--user", default=None)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def done_cmd(ctx: click.Context, item_id: int, done: dt.datetime | None, user: str | None, as_json: bool) -> None:
        """Mark ledger item ITEM_ID as done (整改完成)."""
        from geoplatform.models import Handover, LedgerItem
        from plugins.handover import service

        c = get_context(ctx)
        require_schema(c)
        principal = acting_principal(c, user)
        try:
            if user is not None:
                with c.session(readonly=True) as s:
                    item = s.get(LedgerItem, item_id)
                    row = s.get(Handover, item.handover_id) if item else None
                if row is None:
                    raise service.LedgerItemError(f"unknown ledger item {item_id}")
                _authorise(c, principal, row.compound_id, row.facility)
            with c.session() as s:
                data = service.complete_item(s, principal, item_id, done.date() if done else c.today)
        except service.HandoverError as exc:
            raise UserError(str(exc)) from None
        emit(_jsonable(data), as_json, lambda d: click.echo(f"整改项 {d['id']}（{d['content']}）完成于 {d['done_date']}"))

    @handover.command("show")
    @click.argument("compound")
    @click.argument("facility")
    @click.option("--today", type=DATE, default=None)
    @click.option("--user", default=None, help=READ_AS)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def show_cmd(ctx: click.Context, compound: str, facility: str, today: dt.datetime | None, user: str | None,
                 as_json: bool) -> None:
        """One row with its ledger items and the allowed next states."""
        from plugins.handover import service
        from plugins.handover.settings import settings_for

        c = get_context(ctx)
        require_schema(c)
        fac = _facility(facility)
        compound = _compound_id(c, compound)
        principal = acting_principal(c, user)
        try:
            with c.session(readonly=True) as s:
                resource = service.handover_resource(s, compound, fac)
            _require(c, principal, "view", resource)
            with c.session(readonly=True) as s:
                data = service.get_handover(s, compound, fac, today.date() if today else c.today, settings_for(c))
        except service.HandoverError as exc:
            raise UserError(str(exc)) from None

        def human(d: dict[str, Any]) -> None:
            click.echo(f"{d['compound_name']}（{d['compound_id']}）{facility_label(fac)}: {state_label(d['state'])}"
                       f"{'（逾期）' if d['overdue'] else ''}，期限 {d['deadline'] or '—'}，版本 {d['version']}")
            click.echo("下一步可为: " + ("、".join(f"{state_label(x)}({x})" for x in d["allowed_next"]) or "无"))
            if d["items"]:
                print_table([{**i, "overdue": "是" if i["overdue"] else ""} for i in d["items"]],
                            [("id", "编号"), ("content", "整改内容"), ("responsible_unit", "责任单位"),
                             ("deadline", "整改期限"), ("done_date", "完成日期"), ("overdue", "是否逾期")])
            if d["acceptances"]:
                click.echo("验收记录:")
                print_table([{**a, "organised_by": label("acceptance_organiser", a["organised_by"]),
                              "result": label("acceptance_result", a["result"]) if a["result"] else "待验收",
                              "defects": "；".join(x["content"] for x in a["defects"])} for a in d["acceptances"]],
                            [("held_on", "验收日期"), ("organised_by", "组织单位"), ("participants", "参加单位"),
                             ("result", "验收结果"), ("defects", "发现问题")])
        emit(_jsonable(data), as_json, human)

    @handover.command("history")
    @click.argument("compound")
    @click.argument("facility", required=False)
    @click.option("--user", default=None, help=READ_AS)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def history_cmd(ctx: click.Context, compound: str, facility: str | None, user: str | None, as_json: bool) -> None:
        """Every recorded state change of a compound (who, when, from, to, note)."""
        from plugins.handover import default_facility, service
        from plugins.handover.settings import settings_for

        c = get_context(ctx)
        require_schema(c)
        principal = acting_principal(c, user)
        fac = _facility(facility) or default_facility(principal, settings_for(c))
        compound = _compound_id(c, compound)
        try:
            with c.session(readonly=True) as s:
                resource = service.handover_resource(s, compound, fac or "water")
            _require(c, principal, "view", {**resource, "facility": fac})
            with c.session(readonly=True) as s:
                events = service.history(s, compound, fac)
        except service.HandoverError as exc:
            raise UserError(str(exc)) from None
        data = _jsonable({"compound_id": compound, "events": events})
        emit(data, as_json, lambda d: print_table(
            [{**e, "facility": facility_label(e["facility"]), "from": state_label(e["from"]), "to": state_label(e["to"])}
             for e in d["events"]],
            [("at", "时间"), ("user", "操作人"), ("facility", "设施类型"), ("from", "原状态"), ("to", "新状态"),
             ("note", "备注")]))


def _require(c: Any, principal: Principal, action: str, resource: dict[str, Any]) -> None:
    """UserError (and an audited denial) unless the permission hooks allow `action` on this handover resource —
    the rule the API and the workspaces apply (`handover_allowed`)."""
    from geoplatform.audit import record_denied

    if c.allowed(principal, action, resource):
        return
    record_denied(c, principal, action, "handover", resource.get("id"), street_code=resource.get("street_code"),
                  detail="outside the user's facility or street")
    what = resource.get("id") or f"backlog {resource.get('facility') or 'all facilities'}"
    raise UserError(f"user {principal.name!r} ({principal.role}) may not read handover rows: {what} "
                    "(outside its facility or street)")


def _authorise(c: Any, principal: Principal, compound: str, facility: str) -> None:
    """UserError (and an audited denial) unless the permission hooks allow edit_handover on this row."""
    from geoplatform.audit import record_denied
    from plugins.handover import service

    with c.session(readonly=True) as s:
        resource = service.handover_resource(s, compound, facility)
    if c.allowed(principal, "edit_handover", resource):
        return
    record_denied(c, principal, "edit_handover", "handover", resource["id"], street_code=resource["street_code"],
                  detail="outside the user's facility or street")
    raise UserError(f"user {principal.name!r} ({principal.role}) may not change {compound} {facility} "
                    "(outside its facility or street)")
