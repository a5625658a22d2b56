"""The sheets a street keeps, as import kinds: `owners_orgs`, `org_members`, `org_evaluations`, `trainings`.

English field names (DESIGN.md) with Chinese headers as aliases. Each kind's `check` applies RULES §6
to the parsed rows and what is stored (A1: a member without the vetting checks; A3: more alternates
than ⌊N/2⌋; dates out of order; an unknown organisation or street) — any problem refuses the whole
file naming the row and the column. `after_write` keeps `compound.owners_org` in step.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select

from geoplatform.i18n import Message
from geoplatform.io.fields import COMPOUND_REF, Field
from geoplatform.io.kinds import ImportKind, RowProblem
from geoplatform.models.owners_org import OrgCustody, OrgEvaluation, OrgMember, OwnersOrg
from plugins.owners_org import rules as r
from plugins.owners_org import service
from plugins.owners_org.settings import settings_for

ORG_ID = ("org_id", "组织编号", "业委会编号", "业主组织编号", "物管会编号")
DATE_FIELDS = {
    "prep_group_on": ("筹备组成立日期", "筹备组成立时间", "筹备日期"),
    "elected_on": ("选举日期", "选举时间", "成立日期"),
    "filed_on": ("备案日期", "街镇备案日期", "备案时间"),
    "registered_on": ("登记日期", "民政登记日期", "法人登记日期"),
    "term_start": ("任期开始", "任期起始", "任期开始日期"),
    "term_end": ("任期届满", "任期结束", "届满日期", "任期届满日期"),
    "party_org_on": ("党组织成立日期", "党支部成立日期"),
    "dissolved_on": ("解散日期", "撤销日期"),
}

ORG_FIELDS = (
    Field("id", "text", ("id", "编号", "组织编号", "业委会编号"), required=True, max_len=64),
    Field("compound_id", "ref", (*COMPOUND_REF, "小区名称", "小区"), required=True),
    Field("kind", "enum:org_kind", ("kind", "类型", "组织类型", "业主组织类型"), required=True),
    Field("seats", "int", ("seats", "委员名额", "正式委员名额", "委员人数", "名额"), lo=1, hi=service.MAX_SEATS),
    *(Field(name, "date", (name, *aliases)) for name, aliases in DATE_FIELDS.items()),
    Field("note", "text", ("note", "备注"), max_len=2000),
)
MEMBER_FIELDS = (
    Field("id", "text", ("id", "编号", "委员编号", "序号编号"), required=True, max_len=64),
    Field("org_id", "text", ORG_ID, required=True, max_len=64),
    Field("person", "text", ("person", "姓名", "委员姓名", "name"), required=True, max_len=100),
    Field("role", "enum:org_role", ("role", "职务", "身份", "委员类别"), required=True),
    Field("party_member", "bool", ("party_member", "党员", "是否党员", "中共党员")),
    Field("public_servant", "bool", ("public_servant", "公职人员", "是否公职人员")),
    Field("check_police", "bool", ("check_police", "无犯罪记录", "无犯罪记录审查", "公安审查")),
    Field("check_credit", "bool", ("check_credit", "征信", "征信审查", "信用审查")),
    Field("check_community", "bool", ("check_community", "社区表现", "社区表现审查", "社区审查")),
    Field("check_discipline", "bool", ("check_discipline", "纪工委审查", "纪检审查", "纪工委")),
    Field("votes", "int", ("votes", "得票", "得票数", "票数"), lo=0, hi=10_000_000),
    Field("start", "date", ("start", "任职日期", "任职起始", "开始日期")),
    Field("end", "date", ("end", "离任日期", "结束日期", "离任时间")),
)
EVALUATION_FIELDS = (
    Field("org_id", "text", ORG_ID, required=True, max_len=64),
    Field("period", "text", ("period", "评议期", "评议期间", "半年度", "考核期"), required=True, max_len=8),
    Field("held_on", "date", ("held_on", "评议日期", "评议时间")),
    Field("grade", "enum:org_grade", ("grade", "评议结果", "等次", "结果", "评议等次"), required=True),
    Field("rectified_on", "date", ("rectified_on", "整改完成日期", "整改日期")),
)
TRAINING_FIELDS = (
    Field("id", "text", ("id", "编号", "培训编号"), required=True, max_len=64),
    Field("street_code", "text", ("street_code", "street", "街镇", "街道", "所属街道", "所属街镇", "街镇代码"),
          required=True, max_len=100),
    Field("held_on", "date", ("held_on", "培训日期", "日期", "培训时间"), required=True),
    Field("audiences", "list", ("audiences", "培训对象", "对象", "参训对象")),
    Field("title", "text", ("title", "培训主题", "主题", "内容"), max_len=200),
)
AUDIENCE_WORDS = {"委员": "committee_members", "业委会委员": "committee_members", "物管会委员": "committee_members",
                  "业委会": "committee_members", "物管会": "committee_members", "街镇工作人员": "street_staff",
                  "街道工作人员": "street_staff", "社区工作人员": "community_staff"}


def _stored_orgs(session: Any, ids: set[str]) -> dict[str, OwnersOrg]:
    out: dict[str, OwnersOrg] = {}
    for part in service._chunks(sorted(ids)):
        out.update({o.id: o for o in session.scalars(select(OwnersOrg).where(OwnersOrg.id.in_(part)))})
    return out


def check_orgs(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """Dates in order (prep ≤ elected ≤ filed ≤ registered, term start ≤ term end)."""
    out = []
    for i, rec in enumerate(rows):
        for a, b in service.date_order_problems(rec):
            out.append(RowProblem(i, b, Message("owners_org.refused.date_order", first=a, a=rec[a].isoformat(),
                                                second=b, b=rec[b].isoformat())))
    return out


def after_orgs(session: Any, keys: list[tuple[Any, ...]], context: Any) -> None:
    """Replace a compound's bare declared placeholder by the imported records, then keep owners_org in step."""
    ids = {k[0] for k in keys}
    compounds = {o.compound_id for o in _stored_orgs(session, ids).values()}
    placeholders = []
    for part in service._chunks(sorted(compounds)):
        placeholders += session.scalars(select(OwnersOrg).where(OwnersOrg.compound_id.in_(part),
                                                                 OwnersOrg.declared.is_(True))).all()
    bare = [o.id for o in placeholders if o.id not in ids and all(getattr(o, k) is None for k in service.ORG_FIELDS
                                                                  if k not in ("declared", "note"))]
    if bare:
        used = set(session.scalars(select(OrgMember.org_id).where(OrgMember.org_id.in_(bare))))
        used |= set(session.scalars(select(OrgEvaluation.org_id).where(OrgEvaluation.org_id.in_(bare))))
        used |= set(session.scalars(select(OrgCustody.org_id).where(OrgCustody.org_id.in_(bare))))
        drop = [b for b in bare if b not in used]
        if drop:
            session.execute(delete(OwnersOrg).where(OwnersOrg.id.in_(drop)))
    service.sync_compounds(session, compounds, context.today, settings_for(context), "import")


def check_members(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """A1 (every vetting check, discipline for party members and public servants) and A3 (alternates ≤ ⌊N/2⌋)."""
    settings = settings_for(context)
    today = context.today
    out: list[RowProblem] = []
    orgs = _stored_orgs(session, {rec["org_id"] for rec in rows})
    file_ids = {rec["id"] for rec in rows}
    stored: dict[str, OrgMember] = {}
    for part in service._chunks(sorted(file_ids)):
        stored.update({x.id: x for x in session.scalars(select(OrgMember).where(OrgMember.id.in_(part)))})
    alternates: dict[str, int] = defaultdict(int)
    for part in service._chunks(sorted(orgs)):
        for x in session.scalars(select(OrgMember).where(OrgMember.org_id.in_(part))):
            if x.id not in file_ids and x.role == "alternate" and (x.end is None or x.end > today):
                alternates[x.org_id] += 1
    for i, rec in enumerate(rows):
        org = orgs.get(rec["org_id"])
        if org is None:
            out.append(RowProblem(i, "org_id", Message("owners_org.refused.unknown_org", org_id=rec["org_id"])))
            continue
        base = {k: getattr(stored[rec["id"]], k) for k in r.Member.__dataclass_fields__} if rec["id"] in stored else {}
        member = r.Member.of({**base, **{k: v for k, v in rec.items() if k in r.Member.__dataclass_fields__}})
        error = service.eligibility_error(member)
        if error is not None:
            out.append(RowProblem(i, r.missing_checks(member)[0], error.message))
            continue
        if member.start and member.end and member.start > member.end:
            out.append(RowProblem(i, "end", Message("owners_org.refused.date_order", first="start",
                                                    a=member.start.isoformat(), second="end", b=member.end.isoformat())))
            continue
        if member.role == "alternate" and (member.end is None or member.end > today):
            alternates[org.id] += 1
            error = service.alternates_error(org.seats, alternates[org.id], settings)
            if error is not None:
                out.append(RowProblem(i, "role", error.message))
    return out


def _sync_orgs(session: Any, org_ids: set[str], context: Any) -> None:
    compounds = {o.compound_id for o in _stored_orgs(session, org_ids).values()}
    service.sync_compounds(session, compounds, context.today, settings_for(context), "import")


def after_members(session: Any, keys: list[tuple[Any, ...]], context: Any) -> None:
    """Keep owners_org in step for the organisations whose members changed."""
    ids = {k[0] for k in keys}
    org_ids = set()
    for part in service._chunks(sorted(ids)):
        org_ids.update(session.scalars(select(OrgMember.org_id).where(OrgMember.id.in_(part))))
    _sync_orgs(session, org_ids, context)


def check_evaluations(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """A known organisation, a half-year written 2025H1/2025H2 that has begun, held on or after its start."""
    out: list[RowProblem] = []
    orgs = _stored_orgs(session, {rec["org_id"] for rec in rows})
    for i, rec in enumerate(rows):
        if rec["org_id"] not in orgs:
            out.append(RowProblem(i, "org_id", Message("owners_org.refused.unknown_org", org_id=rec["org_id"])))
            continue
        parsed = r.parse_period(rec["period"])
        if parsed is None:
            out.append(RowProblem(i, "period", Message("owners_org.refused.bad_period", value=rec["period"])))
            continue
        rec["period"] = f"{parsed[0]}H{parsed[1]}"
        start = r.period_bounds(rec["period"])[0]
        if start > context.today:
            out.append(RowProblem(i, "period", Message("owners_org.refused.period_open", period=rec["period"])))
        elif rec.get("held_on") is not None and rec["held_on"] < start:
            out.append(RowProblem(i, "held_on", Message("owners_org.refused.held_before_period",
                                                        held_on=rec["held_on"].isoformat(), period=rec["period"])))
    return out


def after_evaluations(session: Any, keys: list[tuple[Any, ...]], context: Any) -> None:
    """Keep owners_org in step (two unqualified grades end an organisation's count)."""
    _sync_orgs(session, {k[0] for k in keys}, context)


def check_trainings(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """The street named (code or name) exists; audiences in words become their codes (default: committee members)."""
    from geoplatform.streets import match_street, street_lookup

    lookup = street_lookup(session)
    out = []
    for i, rec in enumerate(rows):
        code = match_street(session, rec["street_code"], lookup)
        if code is None:
            out.append(RowProblem(i, "street_code", Message("owners_org.refused.unknown_street",
                                                            value=rec["street_code"])))
            continue
        rec["street_code"] = code
        words = rec.get("audiences") or []
        rec["audiences"] = [AUDIENCE_WORDS.get(w.strip(), w.strip()) for w in words] or ["committee_members"]
    return out


def import_kinds() -> list[ImportKind]:
    """The four kinds of RULES §6 records."""
    return [
        ImportKind(name="owners_orgs", table="owners_org", fields=ORG_FIELDS, key=("id",), title_zh="业委会/物管会台账",
                   title_en="Owners' organisations", check=check_orgs, after_write=after_orgs, plugin="owners_org"),
        ImportKind(name="org_members", table="org_member", fields=MEMBER_FIELDS, key=("id",), title_zh="委员名单",
                   title_en="Committee members", check=check_members, after_write=after_members, plugin="owners_org"),
        ImportKind(name="org_evaluations", table="org_evaluation", fields=EVALUATION_FIELDS, key=("org_id", "period"),
                   title_zh="民主评议", title_en="Evaluations", check=check_evaluations,
                   after_write=after_evaluations, plugin="owners_org"),
        ImportKind(name="trainings", table="training", fields=TRAINING_FIELDS, key=("id",), title_zh="培训记录",
                   title_en="Trainings", check=check_trainings, plugin="owners_org"),
    ]
