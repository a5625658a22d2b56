"""Owners' organisations (业主委员会 / 物业管理委员会, RULES §6): organisations, members, evaluations, trainings, custody.

The state of an organisation is never stored: the owners_org plugin derives it from these dates and
records as of a day (`plugins.owners_org.rules`). `compound.owners_org` is a copy kept in step for
old readers. Field names are the English names of DESIGN.md's import kinds.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from geoplatform.models.base import APPEND_ONLY, VERSIONED, Base, utcnow  # noqa: F401  (APPEND_ONLY: none here)

ORG_KINDS = ("owners_committee", "management_committee")
MEMBER_ROLES = ("chair", "vice_chair", "member", "alternate")
FORMAL_ROLES = ("chair", "vice_chair", "member")
GRADES = ("excellent", "qualified", "unqualified")
CUSTODY_ITEMS = ("seal", "accounts", "vouchers", "archives")


class OwnersOrg(Base):
    """One owners' organisation of a compound (a compound keeps its predecessors: one is current)."""

    __tablename__ = "owners_org"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # owners_committee 业委会 | management_committee 物管会
    seats: Mapped[int | None] = mapped_column(Integer, nullable=True)  # formal seats N
    prep_group_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 筹备组成立
    elected_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 街镇备案
    registered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 民政法人登记 (业委会)
    term_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    term_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    party_org_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 党组织成立
    dissolved_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # stated by a ledger (a compounds file, or data from before the records): counted as active, "to complete"
    declared: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class OrgMember(Base):
    """A formal member (chair, vice chair, member) or an alternate, recorded as elected (RULES §6 A1)."""

    __tablename__ = "org_member"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("owners_org.id", ondelete="CASCADE"), index=True)
    person: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    public_servant: Mapped[bool] = mapped_column(Boolean, default=False)
    check_police: Mapped[bool] = mapped_column(Boolean, default=False)  # 无犯罪记录
    check_credit: Mapped[bool] = mapped_column(Boolean, default=False)  # 征信
    check_community: Mapped[bool] = mapped_column(Boolean, default=False)  # 社区表现
    check_discipline: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # 纪工委 (party members, public servants)
    votes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # the day the person left the seat
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class OrgEvaluation(Base):
    """One half-year's 民主评议 of an organisation (RULES §6 A5)."""

    __tablename__ = "org_evaluation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("owners_org.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(6))  # 2025H1
    held_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    grade: Mapped[str] = mapped_column(String(16))
    rectified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # an unqualified grade's rectification
    recorded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("org_id", "period"),)
    __mapper_args__ = {"version_id_col": version}


class Training(Base):
    """A training session a street held (RULES §6 A6: ≥ 2 a year for committee members)."""

    __tablename__ = "training"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)  # committee_members, street_staff, …
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class OrgCustody(Base):
    """The street taking custody of a lapsed organisation's seal, accounts, vouchers and archives (RULES §6 A7)."""

    __tablename__ = "org_custody"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("owners_org.id", ondelete="CASCADE"), index=True)
    taken_on: Mapped[dt.date] = mapped_column(Date)
    seal: Mapped[bool] = mapped_column(Boolean, default=False)
    accounts: Mapped[bool] = mapped_column(Boolean, default=False)
    vouchers: Mapped[bool] = mapped_column(Boolean, default=False)
    archives: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


VERSIONED.extend([OwnersOrg, OrgMember, OrgEvaluation, Training, OrgCustody])
