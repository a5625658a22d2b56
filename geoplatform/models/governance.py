"""Governance clocks (RULES §8): the problem ledger, dissuasion reports, mediations and the pilot communities.

Field names are the English names of DESIGN.md's import kinds (problems, dissuasions, mediations,
pilots, meetings, cases). Nothing here is derived: whether a report was late, a mediation overdue or
a pilot short of meetings is judged by the governance plugin (`plugins.governance.rules`) as of a day.
A problem's `company` is the firm as the ledger names it (a plain reference to `property_company.name`,
not a foreign key: a ledger may name a firm the registry does not hold yet).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from geoplatform.models.base import APPEND_ONLY, VERSIONED, Base, utcnow

PROBLEM_STATES = ("open", "rectifying", "rectified", "refused")
PROBLEM_SOURCES = ("12345", "patrol", "report")  # the 12345 hotline, a patrol, a report
MEDIATION_STAGES = ("community", "administrative", "judicial")
MEDIATION_OUTCOMES = ("resolved", "unresolved")
MEETING_KINDS = ("tripartite", "joint")


class Problem(Base):
    """One entry of the 工作台账: a hazard or violation found in a compound, its firm and its rectification."""

    __tablename__ = "problem"
    __table_args__ = {"info": {"provenance": None}}  # `source` is the channel; a problem goes with its compound
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # 12345 | patrol | report (how it was found), not provenance
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the firm (property_company.name)
    found_on: Mapped[dt.date] = mapped_column(Date)
    rectify_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    state_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # day of the latest state change
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Dissuasion(Base):
    """A failed dissuasion (劝阻、制止无效) of a problem at `failed_at`, and when each recipient was told."""

    __tablename__ = "dissuasion"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), index=True)
    failed_at: Mapped[dt.datetime] = mapped_column(DateTime)  # local time (Asia/Shanghai), naive
    reported_street_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reported_authority_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reported_owners_org_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("problem_id", "failed_at"),)
    __mapper_args__ = {"version_id_col": version}


class Mediation(Base):
    """One stage of a dispute's mediation; an escalation closes a stage and opens the next (`escalated_from`)."""

    __tablename__ = "mediation"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # community | administrative | judicial
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # resolved | unresolved
    escalated_from: Mapped[str | None] = mapped_column(ForeignKey("mediation.id"), nullable=True, index=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Pilot(Base):
    """A 三方联动 pilot community of a street in a year (one per street and year: RULES §8)."""

    __tablename__ = "pilot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)

    __table_args__ = (UniqueConstraint("year", "street_code"), UniqueConstraint("year", "community_code"))


class PilotMeeting(Base):
    """A 三方联席 (tripartite) or wider joint meeting held by a community."""

    __tablename__ = "pilot_meeting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16), default="tripartite")

    __table_args__ = (UniqueConstraint("community_code", "held_on", "kind"),)


class PilotCase(Base):
    """A typical case (典型案例) of a community's year; it counts once published."""

    __tablename__ = "pilot_case"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    published_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (UniqueConstraint("community_code", "year", "title"),)


VERSIONED.extend([Problem, Dissuasion, Mediation])
APPEND_ONLY.extend([Pilot, PilotMeeting, PilotCase])
