"""Handover acceptances (RULES §2): every acceptance inspection of a compound × facility row is an event.

An acceptance is opened when its row enters `acceptance` (the organiser known then: `district_government`
lets a row go there straight from `not_handed_over`) and closed with its result when the row leaves it
(pass → agreement, fail → rectifying); a gap kind whose machine has no `acceptance` state (fire
acceptance: rectifying → accepted) records a closed event at once. The defects a failed acceptance finds
are ledger items of the row (`defect_item_ids`: their ids). Nothing is derived here: the handover plugin
(`plugins.handover.rules`) decides which transitions are acceptances and what they need.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from geoplatform.models.base import VERSIONED, Base, utcnow

# Who organised an acceptance; `unknown` when the record does not say (RULES §1: unknown is not "none").
ACCEPTANCE_ORGANISERS = ("district_government", "utility", "street", "other", "unknown")
ACCEPTANCE_RESULTS = ("pass", "fail")


class HandoverAcceptance(Base):
    """One acceptance inspection (验收) of a handover row: date, organiser, participants, result, defects."""

    __tablename__ = "handover_acceptance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id", ondelete="CASCADE"), index=True)
    organised_by: Mapped[str] = mapped_column(String(32), default="unknown")
    held_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # the day held (null: not held yet)
    participants: Mapped[str | None] = mapped_column(Text, nullable=True)  # the units present, as written
    result: Mapped[str | None] = mapped_column(String(8), nullable=True)  # pass | fail (null: not held yet)
    defect_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # ledger items it found
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(100), default="system")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


VERSIONED.append(HandoverAcceptance)
