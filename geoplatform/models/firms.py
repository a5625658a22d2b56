"""Property firms (RULES §7): service contracts with their four filings, credit events, quarterly
assessments and published rankings, fee disclosures.

A firm is a `property_company` row and is referred to by its name (the key files use); renaming a
firm follows through every table (ON UPDATE CASCADE). A firm's credit is the list of its dated
`firm_credit_event`s (grades, 好评榜/差评榜 entries, blacklisting and its lifting), each expiring
after a year by default — never one grade field that someone overwrites.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from geoplatform.models.base import APPEND_ONLY, VERSIONED, Base, utcnow

FIRM = "property_company.name"
CREDIT_EVENT_KINDS = ("grade", "good_list", "bad_list", "blacklisted", "blacklist_lifted", "note")
FILINGS = ("selection", "area", "contract", "acceptance")  # 选聘 / 物业管理区域 / 物业服务合同 / 承接查验 备案


def _firm_fk(nullable: bool = False) -> Any:
    return mapped_column(ForeignKey(FIRM, onupdate="CASCADE"), nullable=nullable, index=True)


class ServiceContract(Base):
    """A property service contract (物业服务合同) of one compound with one firm, and its four filings."""

    __tablename__ = "service_contract"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    company: Mapped[str] = _firm_fk()
    start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    selection_filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 选聘备案
    area_filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 物业管理区域备案
    contract_filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 物业服务合同备案
    acceptance_filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 承接查验备案
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class FirmCreditEvent(Base):
    """One dated entry of a firm's credit file (信用档案); kept until `expires_on` (None: never)."""

    __tablename__ = "firm_credit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company: Mapped[str] = _firm_fk()
    on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))  # CREDIT_EVENT_KINDS
    grade: Mapped[str | None] = mapped_column(String(8), nullable=True)  # kind = grade
    expires_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="firms")
    ref: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the quarter, the import file …
    detail: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FirmAssessment(Base):
    """A street's quarterly score (0–100) of a firm serving it (standard + satisfaction + 12345)."""

    __tablename__ = "firm_assessment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)  # 2025Q1
    company: Mapped[str] = _firm_fk()
    score: Mapped[float] = mapped_column(Float)
    scored_by: Mapped[str] = mapped_column(String(100), default="system")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("street_code", "quarter", "company"),)
    __mapper_args__ = {"version_id_col": version}


class FirmRanking(Base):
    """A quarter's 好评榜 / 差评榜 as the bureau published it (a snapshot: later scores do not change it)."""

    __tablename__ = "firm_ranking"
    quarter: Mapped[str] = mapped_column(String(6), primary_key=True)
    published_on: Mapped[dt.date] = mapped_column(Date)
    published_by: Mapped[str] = mapped_column(String(100), default="system")
    good: Mapped[list[str]] = mapped_column(JSON, default=list)
    bad: Mapped[list[str]] = mapped_column(JSON, default=list)
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    streets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class FeeDisclosure(Base):
    """A fee disclosure (收费公示) posted in a compound from `start` to `end` (both days included)."""

    __tablename__ = "fee_disclosure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("compound_id", "start"),)
    __mapper_args__ = {"version_id_col": version}


VERSIONED.extend([ServiceContract, FirmAssessment, FirmRanking, FeeDisclosure])
APPEND_ONLY.append(FirmCreditEvent)
