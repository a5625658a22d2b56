"""Import kinds of the governance plugin (DESIGN.md): problems, dissuasions, mediations, pilots, meetings, cases.

English field names, the Chinese headers a street's sheet uses as aliases. Each kind's `check` applies
RULES §8 to the parsed rows and what is stored; any problem refuses the whole file naming row and field
(e.g. a second pilot in one street and year, a problem moved back from rectified to open, a report
stamped before the dissuasion failed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, tuple_

from geoplatform import models as m
from geoplatform.i18n import Message
from geoplatform.io.fields import Field
from geoplatform.io.kinds import ImportKind, RowProblem
from geoplatform.models.governance import Mediation, Pilot, Problem
from geoplatform.sqlin import in_values, not_in_values
from plugins.governance import rules


def _reachable(state: str) -> set[str]:
    out, todo = {state}, [state]
    while todo:
        for nxt in rules.allowed_next(todo.pop()):
            if nxt not in out:
                out.add(nxt)
                todo.append(nxt)
    return out


def _today(context: Any) -> Any:
    import datetime as dt

    return getattr(context, "today", None) or dt.date.today()


def _after(rows: list[dict[str, Any]], later: str, earlier: str, key: str = "governance.import.before"
           ) -> list[RowProblem]:
    return [RowProblem(i, later, Message(key, field=later, other=earlier))
            for i, r in enumerate(rows) if r.get(later) is not None and r.get(earlier) is not None
            and r[later] < r[earlier]]


def _not_future(rows: list[dict[str, Any]], names: Iterable[str], context: Any) -> list[RowProblem]:
    today = _today(context)
    out = []
    for name in names:
        for i, r in enumerate(rows):
            v = r.get(name)
            if v is not None and (v.date() if hasattr(v, "hour") else v) > today:
                out.append(RowProblem(i, name, Message("governance.import.future", field=name, date=str(v))))
    return out


def _communities(session: Any, rows: list[dict[str, Any]]) -> dict[str, str]:
    codes = sorted({r["community_code"] for r in rows if r.get("community_code")})
    if not codes:
        return {}
    return dict(session.execute(select(m.Community.code, m.Community.street_code)
                                .where(m.Community.code.in_(codes))).all())


def _unknown_communities(rows: list[dict[str, Any]], known: dict[str, str]) -> list[RowProblem]:
    return [RowProblem(i, "community_code", Message("governance.import.unknown_community", community=r["community_code"]))
            for i, r in enumerate(rows) if r.get("community_code") and r["community_code"] not in known]


# ------------------------------------------------------------------ checks

def check_problems(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """Dates in order and not in the future; a stored problem only moves forward (open → rectifying → …)."""
    out = _after(rows, "rectify_by", "found_on") + _after(rows, "state_on", "found_on")
    out += _not_future(rows, ("found_on", "state_on"), context)
    ids = sorted({r["id"] for r in rows if r.get("id")})
    stored = dict(session.execute(select(Problem.id, Problem.state).where(in_values(Problem.id, ids))).all()) if ids else {}
    for i, r in enumerate(rows):
        was, now = stored.get(r.get("id")), r.get("state")
        if was is not None and now is not None and now not in _reachable(was):
            out.append(RowProblem(i, "state", Message("governance.import.backwards", id=r["id"], current=was,
                                                      state=now)))
    return out


def check_dissuasions(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """The problem exists; no report is stamped before the dissuasion failed; nothing in the future."""
    ids = sorted({r["problem_id"] for r in rows if r.get("problem_id")})
    known = set(session.scalars(select(Problem.id).where(in_values(Problem.id, ids))).all()) if ids else set()
    out = [RowProblem(i, "problem_id", Message("governance.import.unknown_problem", problem=r["problem_id"]))
           for i, r in enumerate(rows) if r.get("problem_id") and r["problem_id"] not in known]
    for name in ("reported_street_at", "reported_authority_at", "reported_owners_org_at"):
        out += _after(rows, name, "failed_at", "governance.import.report_before_failure")
    out += _not_future(rows, ("failed_at", "reported_street_at", "reported_authority_at", "reported_owners_org_at"),
                       context)
    return out


def check_mediations(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """Closed with an outcome (and an outcome only once closed); an escalation follows the previous stage."""
    out = _after(rows, "closed_on", "opened_on") + _not_future(rows, ("opened_on", "closed_on"), context)
    for i, r in enumerate(rows):
        if r.get("closed_on") is not None and not r.get("outcome"):  # name the outcome column, or the date's
            out.append(RowProblem(i, "outcome" if "outcome" in r else "closed_on",
                                  Message("governance.import.outcome_missing")))
        if r.get("outcome") and r.get("closed_on") is None:
            out.append(RowProblem(i, "closed_on", Message("governance.import.closed_missing")))
    in_file = {r["id"]: r for r in rows if r.get("id")}
    refs = sorted({r["escalated_from"] for r in rows if r.get("escalated_from")} - set(in_file))
    stored = {x.id: {"stage": x.stage, "compound_id": x.compound_id, "opened_on": x.opened_on}
              for x in session.scalars(select(Mediation).where(in_values(Mediation.id, refs)))} if refs else {}
    successors = Counter(r["escalated_from"] for r in rows if r.get("escalated_from"))
    taken = set(session.scalars(select(Mediation.escalated_from).where(
        in_values(Mediation.escalated_from, sorted(successors)), not_in_values(Mediation.id, sorted(in_file))))) if successors else set()
    position = {r["id"]: i for i, r in enumerate(rows) if r.get("id")}
    for i, r in enumerate(rows):
        ref = r.get("escalated_from")
        if not ref:
            continue
        if position.get(ref, -1) > i:  # rows are written in file order: the earlier stage first
            out.append(RowProblem(i, "escalated_from", Message("governance.import.forward_reference", id=ref)))
            continue
        prev = in_file.get(ref) or stored.get(ref)
        if prev is None:
            out.append(RowProblem(i, "escalated_from", Message("governance.import.unknown_mediation", id=ref)))
        elif rules.NEXT_STAGE.get(prev.get("stage")) != r.get("stage") or prev.get("compound_id") != r.get("compound_id"):
            out.append(RowProblem(i, "escalated_from", Message("governance.import.not_next_stage", id=ref,
                                                               stage=str(prev.get("stage")))))
        elif prev.get("opened_on") and r.get("opened_on") and r["opened_on"] < prev["opened_on"]:
            out.append(RowProblem(i, "opened_on", Message("governance.import.before", field="opened_on",
                                                          other="escalated_from")))
        elif successors[ref] > 1 or ref in taken:
            out.append(RowProblem(i, "escalated_from", Message("governance.import.escalated_twice", id=ref)))
    return out


def check_pilots(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """The community exists and lies in the street; one pilot per street and year (a second is refused)."""
    known = _communities(session, rows)
    out = _unknown_communities(rows, known)
    for i, r in enumerate(rows):
        street = known.get(r.get("community_code"))
        if street is not None and r.get("street_code") and r["street_code"] != street:
            out.append(RowProblem(i, "street_code", Message("governance.import.community_not_in_street",
                                                            community=r["community_code"], street=r["street_code"])))
    pairs = sorted({(r["year"], r["street_code"]) for r in rows if r.get("year") and r.get("street_code")})
    existing = [dict(x) for x in session.execute(select(Pilot.year, Pilot.street_code, Pilot.community_code).where(
        tuple_(Pilot.year, Pilot.street_code).in_(pairs))).mappings()] if pairs else []
    seen: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        if not (r.get("year") and r.get("street_code") and r.get("community_code")):
            continue
        other = rules.second_pilot(r["year"], r["street_code"], r["community_code"], seen + existing)
        if other is not None:
            out.append(RowProblem(i, "community_code", Message(
                "governance.import.second_pilot", year=r["year"], street=r["street_code"],
                community=other["community_code"])))
        else:
            seen.append({"year": r["year"], "street_code": r["street_code"], "community_code": r["community_code"]})
    return out


def check_meetings(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """The community exists; the meeting is not in the future."""
    return _unknown_communities(rows, _communities(session, rows)) + _not_future(rows, ("held_on",), context)


def check_cases(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """The community exists; the publication date is not in the future."""
    return _unknown_communities(rows, _communities(session, rows)) + _not_future(rows, ("published_on",), context)


# ------------------------------------------------------------------ kinds

def import_kinds() -> list[ImportKind]:
    """The six kinds (plugin "governance")."""
    id_field = Field("id", "text", ("编号", "问题编号", "台账编号", "序号编号"), required=True, max_len=64)
    compound = Field("compound_id", "ref", ("小区编号", "小区", "小区名称", "项目名称"), required=True, max_len=200)
    community = Field("community_code", "code12", ("社区代码", "社区编码", "社区统计代码", "试点社区代码"), required=True)
    note = Field("note", "text", ("备注", "问题描述", "情况说明"), max_len=2000)
    return [
        ImportKind(
            name="problems", table="problem", key=("id",), title_zh="问题工作台账", title_en="Problem ledger",
            check=check_problems, plugin="governance", fields=(
                id_field, compound,
                Field("category", "enum:problem_category", ("问题类别", "类别", "问题类型", "隐患类型"), required=True),
                Field("source", "enum:problem_source", ("来源", "问题来源", "发现方式", "线索来源"), required=True),
                Field("company", "text", ("物业公司", "物业服务企业", "责任企业", "property_company"), max_len=200),
                Field("found_on", "date", ("发现日期", "发现时间", "登记日期"), required=True),
                Field("rectify_by", "date", ("整改期限", "限期整改日期", "整改截止日期")),
                Field("state", "enum:problem_state", ("状态", "整改状态", "整改情况")),
                Field("state_on", "date", ("状态日期", "整改完成日期", "办结日期")),
                note)),
        ImportKind(
            name="dissuasions", table="dissuasion", key=("problem_id", "failed_at"), title_zh="劝阻制止与报告记录",
            title_en="Dissuasions and reports", check=check_dissuasions, plugin="governance", fields=(
                Field("problem_id", "text", ("问题编号", "台账编号"), required=True, max_len=64),
                Field("failed_at", "datetime", ("劝阻无效时间", "制止无效时间", "劝阻时间"), required=True),
                Field("reported_street_at", "datetime", ("报告街镇时间", "报街镇时间", "报告街道时间")),
                Field("reported_authority_at", "datetime", ("报告主管部门时间", "报主管部门时间", "报告执法部门时间")),
                Field("reported_owners_org_at", "datetime", ("报告业主组织时间", "报业委会时间", "报告业委会时间")),
                note)),
        ImportKind(
            name="mediations", table="mediation", key=("id",), title_zh="矛盾纠纷调解台账", title_en="Mediations",
            check=check_mediations, plugin="governance", fields=(
                Field("id", "text", ("编号", "调解编号", "案件编号"), required=True, max_len=64), compound,
                Field("stage", "enum:mediation_stage", ("调解阶段", "阶段", "调解层级"), required=True),
                Field("opened_on", "date", ("受理日期", "开始日期", "立案日期"), required=True),
                Field("closed_on", "date", ("结案日期", "办结日期")),
                Field("outcome", "enum:mediation_outcome", ("调解结果", "结果")),
                Field("escalated_from", "text", ("上一阶段编号", "转自编号", "原调解编号"), max_len=64),
                Field("subject", "text", ("纠纷事由", "事由", "纠纷内容"), max_len=2000))),
        ImportKind(
            name="pilots", table="pilot", key=("year", "community_code"), title_zh="三方联动试点社区",
            title_en="Pilot communities", check=check_pilots, plugin="governance", fields=(
                Field("year", "int", ("年度", "年份", "试点年度"), required=True, lo=2000, hi=2100),
                Field("street_code", "code9", ("街镇代码", "街道代码", "街镇编码"), required=True), community)),
        ImportKind(
            name="meetings", table="pilot_meeting", key=("community_code", "held_on", "kind"),
            title_zh="三方联席会议记录", title_en="Tripartite meetings", check=check_meetings, plugin="governance",
            fields=(community, Field("held_on", "date", ("会议日期", "召开日期", "日期"), required=True),
                    Field("kind", "enum:meeting_kind", ("会议类型", "类型"), required=True))),
        ImportKind(
            name="cases", table="pilot_case", key=("community_code", "year", "title"), title_zh="典型案例",
            title_en="Typical cases", check=check_cases, plugin="governance", fields=(
                community, Field("year", "int", ("年度", "年份"), required=True, lo=2000, hi=2100),
                Field("title", "text", ("案例名称", "标题", "案例标题"), required=True, max_len=300),
                Field("published_on", "date", ("发布日期", "公开日期", "发布时间")))),
    ]
