"""The firms plugin's import kinds: `companies`, `contracts`, `assessments`, `disclosures` (DESIGN.md, RULES §7).

English field names, Chinese headers as aliases, every cell checked by the core importer; the plugin's own
rules come in `check` (a problem refuses the file naming the row) and derived data in `after_write`:
a registry sheet's 信用等级 / 黑名单 cells become dated credit events (never an overwritten grade field).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from sqlalchemy import select

from geoplatform import models as m
from geoplatform.i18n import Message
from geoplatform.io.fields import COMPOUND_REF, SOURCE, STREET, Field
from geoplatform.io.kinds import ImportKind, RowProblem
from geoplatform.models.firms import FirmCreditEvent, FirmRanking, ServiceContract
from geoplatform.sqlin import in_values
from plugins.firms import service
from plugins.firms.settings import settings_for

FIRM = ("company", "物业公司", "物业服务企业", "企业名称", "物业企业", "公司名称", "property_company")
SCRATCH = "firms_import"  # session.info key: what `check` parsed for `after_write` (one import = one session)
_CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def normalise_grade(text: Any) -> str:
    """ 'aa级' → 'AA' (NFKC, upper case, without 级 and spaces)."""
    return unicodedata.normalize("NFKC", str(text)).strip().upper().removesuffix("级").strip()


def normalise_quarter(text: Any) -> str | None:
    """2025Q1 / 2025q1 / 2025-Q1 / 2025年第一季度 / 2025年1季度 → 2025Q1 (None when not a quarter)."""
    s = unicodedata.normalize("NFKC", str(text)).strip().upper().replace(" ", "")
    m_ = re.fullmatch(r"(\d{4})[-_/]?Q([1-4])", s)
    if m_:
        return f"{m_.group(1)}Q{m_.group(2)}"
    m_ = re.fullmatch(r"(\d{4})年第?([一二三四1-4])季度?", s)
    if m_:
        return f"{m_.group(1)}Q{_CN_QUARTER[m_.group(2)]}"
    return None


# ------------------------------------------------------------------------------------------ companies

def check_companies(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """Grades on the configured scale; remember grade / date / blacklist cells for after_write."""
    settings = settings_for(context)
    problems, scratch = [], {}
    for i, rec in enumerate(rows):
        grade = rec.get("credit_grade")
        if grade is not None:
            grade = normalise_grade(grade)
            if grade not in settings.grade_scale:
                problems.append(RowProblem(i, "credit_grade", Message(
                    "firms.import.bad_grade", grade=rec["credit_grade"], scale=" > ".join(settings.grade_scale))))
                continue
            rec["credit_grade"] = grade
        scratch[rec["name"]] = {k: rec[k] for k in ("credit_grade", "graded_on", "blacklisted") if k in rec}
    session.info[SCRATCH] = scratch
    return problems


def after_companies(session: Any, keys: list[tuple[Any, ...]], context: Any) -> None:
    """A registry sheet's grade and blacklist cells → credit events when they differ from the firm's file."""
    settings = settings_for(context)
    today = getattr(context, "today", None) or dt.date.today()
    scratch = session.info.pop(SCRATCH, {})
    names = [k[0] for k in keys]
    states = service.credit_states(service.stored_events(session), names, today, settings)
    for name in names:
        cells = scratch.get(name, {})
        state = states[name]
        grade, on = cells.get("credit_grade"), cells.get("graded_on") or today
        if grade is not None and (grade != state.grade or (cells.get("graded_on") and on != state.graded_on)):
            session.add(FirmCreditEvent(company=name, on=on, kind="grade", grade=grade,
                                        expires_on=settings.event_expiry(on), source="import", created_by="import",
                                        detail="registry sheet"))
        black = cells.get("blacklisted")
        if black is True and not state.blacklisted:
            session.add(FirmCreditEvent(company=name, on=today, kind="blacklisted", source="import",
                                        expires_on=settings.event_expiry(today), created_by="import",
                                        detail="registry sheet"))
        elif black is False and state.blacklisted:
            session.add(FirmCreditEvent(company=name, on=today, kind="blacklist_lifted", source="import",
                                        created_by="import", detail="registry sheet"))
    session.flush()
    service.sync_cache(session, names, today, settings)


# ------------------------------------------------------------------------------------------ contracts

def _dates_in_order(rows: list[dict[str, Any]], start: str, end: str) -> list[RowProblem]:
    return [RowProblem(i, end, Message("firms.import.end_before_start", start=rec[start].isoformat(),
                                       end=rec[end].isoformat()))
            for i, rec in enumerate(rows) if rec.get(start) and rec.get(end) and rec[end] < rec[start]]


def check_contracts(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """A contract ends on or after its start."""
    return _dates_in_order(rows, "start", "end")


def after_contracts(session: Any, keys: list[tuple[Any, ...]], context: Any) -> None:
    """A compound with no firm recorded takes the firm of its contract running today (gaps only, never overwrites)."""
    today = getattr(context, "today", None) or dt.date.today()
    ids = [k[0] for k in keys]
    for c in session.scalars(select(ServiceContract).where(in_values(ServiceContract.id, ids))):
        if (c.start is None or c.start <= today) and (c.end is None or c.end >= today):
            comp = session.get(m.Compound, c.compound_id)
            if comp is not None and comp.company is None:
                comp.company = c.company
    session.flush()


# ------------------------------------------------------------------------------------------ assessments

def check_assessments(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """A known street; quarters like 2025Q1 (or 2025年第一季度) not yet published; scores within the configured range."""
    settings = settings_for(context)
    done = set(session.scalars(select(FirmRanking.quarter)))
    streets = set(session.scalars(select(m.Street.code)))
    problems = []
    for i, rec in enumerate(rows):
        if rec.get("street_code") not in streets:
            problems.append(RowProblem(i, "street_code", Message("street.unknown", value=str(rec.get("street_code")))))
            continue
        q = normalise_quarter(rec.get("quarter", ""))
        if q is None:
            problems.append(RowProblem(i, "quarter", Message("firms.bad_quarter", value=str(rec.get("quarter")))))
            continue
        rec["quarter"] = q
        if q in done:
            problems.append(RowProblem(i, "quarter", Message("firms.already_published", quarter=q)))
        score = rec.get("score")
        if score is not None and not settings.score_min <= score <= settings.score_max:
            problems.append(RowProblem(i, "score", Message("firms.bad_score", value=score, lo=settings.score_min,
                                                           hi=settings.score_max)))
    return problems


# ------------------------------------------------------------------------------------------ disclosures

def check_disclosures(session: Any, rows: list[dict[str, Any]], context: Any) -> list[RowProblem]:
    """A disclosure ends on or after its start."""
    return _dates_in_order(rows, "start", "end")


def import_kinds() -> list[ImportKind]:
    """The four kinds of DESIGN.md's data model for RULES §7."""
    filed = [Field(f"{f}_filed_on", "date", (f"{f}_filed_on", zh, *more)) for f, zh, more in (
        ("selection", "选聘备案日期", ("选聘备案",)), ("area", "物业管理区域备案日期", ("物业管理区域备案", "区域备案")),
        ("contract", "合同备案日期", ("物业服务合同备案", "合同备案")),
        ("acceptance", "承接查验备案日期", ("承接查验备案", "查验备案")))]
    return [
        ImportKind(name="companies", table="property_company", key=("name",), title_zh="物业服务企业登记册",
                   title_en="property firms registry", check=check_companies, after_write=after_companies,
                   plugin="firms", fields=(
                       Field("name", "text", ("企业名称", "物业公司", "公司名称", "物业服务企业", "名称", "company"),
                             required=True, max_len=200),
                       Field("credit_grade", "text", ("信用等级", "信用评级", "credit_gra"), max_len=16),
                       Field("graded_on", "date", ("评级日期", "信用评价日期", "评定日期")),
                       Field("blacklisted", "bool", ("黑名单", "是否黑名单", "列入黑名单", "blacklist")),
                       Field("filed", "bool", ("市平台备案", "备案", "是否备案")),
                       Field("state_owned", "bool", ("国有企业", "国有", "是否国企", "state_owne")),
                       Field("source", "text", SOURCE, max_len=200))),
        ImportKind(name="contracts", table="service_contract", key=("id",), title_zh="物业服务合同",
                   title_en="service contracts", check=check_contracts, after_write=after_contracts, plugin="firms",
                   fields=(
                       Field("id", "text", ("合同编号", "编号"), required=True, max_len=64),
                       Field("compound_id", "ref", COMPOUND_REF, required=True),
                       Field("company", "text", FIRM, required=True, max_len=200),
                       Field("start", "date", ("合同开始日期", "开始日期", "起始日期", "合同起始日期")),
                       Field("end", "date", ("合同结束日期", "结束日期", "到期日期", "合同到期日期")),
                       *filed,
                       Field("source", "text", SOURCE, max_len=200))),
        ImportKind(name="assessments", table="firm_assessment", key=("street_code", "quarter", "company"),
                   title_zh="物业服务企业季度考评", title_en="quarterly firm scores", check=check_assessments,
                   plugin="firms", fields=(
                       Field("street_code", "ref", STREET, required=True),
                       Field("quarter", "text", ("季度", "考评季度", "考核季度"), required=True, max_len=16),
                       Field("company", "text", FIRM, required=True, max_len=200),
                       Field("score", "float", ("得分", "分数", "考评得分", "综合得分"), required=True))),
        ImportKind(name="disclosures", table="fee_disclosure", key=("compound_id", "start"), title_zh="收费公示",
                   title_en="fee disclosures", check=check_disclosures, plugin="firms", fields=(
                       Field("compound_id", "ref", COMPOUND_REF, required=True),
                       Field("start", "date", ("公示开始日期", "开始日期", "公示起始日期"), required=True),
                       Field("end", "date", ("公示结束日期", "结束日期", "公示截止日期"), required=True),
                       Field("source", "text", SOURCE, max_len=200))),
    ]

