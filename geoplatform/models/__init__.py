"""SQLAlchemy 2 / GeoAlchemy2 models: the data model of DESIGN.md. Geometry is EPSG:4326.

The core tables live here; the records of one concern (owners' organisations, firms, governance …)
live in a module of their own in this package, imported at the bottom so that `metadata` holds every
table. A concern module builds on `geoplatform.models.base` (Base, metadata, utcnow — never on this
package: that would be an import circle) and appends its classes to VERSIONED / APPEND_ONLY so the
caches see its writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from geoplatform.models.base import (  # noqa: F401  (SRID, metadata: re-exported for the core's readers)
    APPEND_ONLY,
    SRID,
    VERSIONED,
    Base,
    geom_type,
    metadata,
    utcnow,
)

# Enumerations shared by the core, the importer and the plugins (values are the API/JSON values).
# `unknown` (待核实) is a value of its own in each (RULES §1): what a source does not say, never "none".
UNKNOWN = "unknown"
MANAGEMENT_MODES = ("professional", "state_owned", "self_managed", "community_managed", "none", UNKNOWN)
OWNERS_ORGS = ("none", "preparing", "owners_committee", "management_committee", UNKNOWN)
RENOVATION_STATES = ("none", "planned", "in_progress", "completed", UNKNOWN)
# the compound columns whose default is `unknown` (model, migration 0006, importer and edits alike)
UNKNOWN_DEFAULT_FIELDS = ("management_mode", "owners_org", "renovation")
STREET_KINDS = ("subdistrict", "town")
BARRIER_KINDS = ("main_road", "river", "railway")
UTILITY_FACILITIES = ("water", "power", "heating", "gas")
EXTRA_FACILITIES = ("fire_acceptance", "power_upgrade", "telecom_access")
FACILITIES = UTILITY_FACILITIES + EXTRA_FACILITIES
ROLES = ("admin", "bureau", "street_officer", "community_officer", "state_company", "utility", "telecom", "fire",
         "viewer")
CREDIT_GRADES = ("A", "B", "C", "D")
GARAGE_TYPES = ("open_lot", "above_ground", "semi_underground", "underground", "high_rise")
FIRE_FACILITY_STATES = ("working", "faulty", "absent", "unknown")
FIRE_FACILITY_FIELDS = ("fire_alarm", "smoke_exhaust", "sprinklers", "emergency_lighting", "evacuation_signs")
SPACE_RIGHTS = ("owned", "lease_1y_plus", "lease_short", "none")
TAKEOVER_STATES = ("candidate", "shortlisted", "tendering", "contracted", "serving")
BUNDLE_STATES = ("proposed", "accepted", "rejected", "reverted")



def _geom(kind: str) -> Geometry:
    return geom_type(kind)


class District(Base):
    __tablename__ = "district"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # adcode, e.g. 150203
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    source: Mapped[str] = mapped_column(String(200), default="")


class Street(Base):
    __tablename__ = "street"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)  # NBS 9-digit code
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="subdistrict")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")


class Community(Base):
    __tablename__ = "community"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # NBS 12-digit code
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=True)
    location = mapped_column(_geom("POINT"), nullable=True)  # a community given as a point (经度/纬度), 0006
    source: Mapped[str] = mapped_column(String(200), default="")


class PropertyCompany(Base):
    __tablename__ = "property_company"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # credit_grade / blacklisted: kept in step with the firm's credit events (geoplatform.models.firms,
    # RULES §7) for old readers and exports; the events are the record, these columns never decide.
    credit_grade: Mapped[str | None] = mapped_column(String(8), nullable=True)
    blacklisted: Mapped[bool] = mapped_column(Boolean, default=False)
    filed: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)  # 在市平台备案; None = unknown
    state_owned: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Compound(Base):
    __tablename__ = "compound"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), nullable=True)
    boundary = mapped_column(_geom("MULTIPOLYGON"), nullable=True)  # null: ledger gave only a point
    location = mapped_column(_geom("POINT"), nullable=False)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    build_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    floor_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    management_mode: Mapped[str] = mapped_column(String(32), default=UNKNOWN, server_default=UNKNOWN, index=True)
    # the serving firm: a key (name) of property_company (RULES §7); renaming a firm follows through
    company: Mapped[str | None] = mapped_column(ForeignKey("property_company.name", onupdate="CASCADE"),
                                                nullable=True, index=True)
    contract_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    owners_org: Mapped[str] = mapped_column(String(32), default=UNKNOWN, server_default=UNKNOWN)
    renovation: Mapped[str] = mapped_column(String(32), default=UNKNOWN, server_default=UNKNOWN)
    fee_collection_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    complaints_per_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    demolition_planned: Mapped[bool] = mapped_column(Boolean, default=False)
    takeover_cost: Mapped[float | None] = mapped_column(Float, nullable=True)  # 万元 per year
    # set when bundling merged this (small) compound into a host's management area
    managed_by_id: Mapped[str | None] = mapped_column(ForeignKey("compound.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Building(Base):
    __tablename__ = "building"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str | None] = mapped_column(ForeignKey("compound.id"), nullable=True, index=True)
    street_code: Mapped[str | None] = mapped_column(ForeignKey("street.code"), nullable=True, index=True)
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    floors: Mapped[int | None] = mapped_column(Integer, nullable=True)
    households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    build_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    floor_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Garage(Base):
    __tablename__ = "garage"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str | None] = mapped_column(ForeignKey("compound.id"), nullable=True, index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    location = mapped_column(_geom("POINT"), nullable=True)
    garage_type: Mapped[str] = mapped_column(String(32))
    lowest_charging_floor: Mapped[int] = mapped_column(Integer, default=0)
    completion_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    fire_alarm: Mapped[str] = mapped_column(String(16), default="unknown")
    smoke_exhaust: Mapped[str] = mapped_column(String(16), default="unknown")
    sprinklers: Mapped[str] = mapped_column(String(16), default="unknown")
    emergency_lighting: Mapped[str] = mapped_column(String(16), default="unknown")
    evacuation_signs: Mapped[str] = mapped_column(String(16), default="unknown")
    fire_compartment_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    fire_unit_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    meets_other_clauses: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    space_right: Mapped[str] = mapped_column(String(32), default="owned")
    capacity_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Handover(Base):
    """One row per compound × facility; absent rows read as state `unknown`."""

    __tablename__ = "handover"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    facility: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(32), default="unknown")
    since: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    responsible_unit: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("compound_id", "facility"),)
    __mapper_args__ = {"version_id_col": version}


class HandoverEvent(Base):
    """A state change of a handover row: who, when, from, to, note."""

    __tablename__ = "handover_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_name: Mapped[str] = mapped_column(String(100), default="system")
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class LedgerItem(Base):
    """整改台账 item attached to a handover row."""

    __tablename__ = "ledger_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id", ondelete="CASCADE"), index=True)
    content: Mapped[str] = mapped_column(Text)
    responsible_unit: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    done_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Barrier(Base):
    __tablename__ = "barrier"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    geom = mapped_column(_geom("MULTILINESTRING"), nullable=False)
    source: Mapped[str] = mapped_column(String(200), default="")


class BundleProposal(Base):
    __tablename__ = "bundle_proposal"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    orphan_kind: Mapped[str] = mapped_column(String(16))  # building | compound
    orphan_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_compound_id: Mapped[str | None] = mapped_column(ForeignKey("compound.id"), nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    merged_floor_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    merged_households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    consent_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the owners' vote recorded on acceptance (民法典 §278, RULES §5): area in m², owners counted
    vote_area_total: Mapped[float | None] = mapped_column(Float, nullable=True)
    vote_area_participating: Mapped[float | None] = mapped_column(Float, nullable=True)
    vote_area_yes: Mapped[float | None] = mapped_column(Float, nullable=True)
    vote_owners_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vote_owners_participating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vote_owners_yes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host_firm: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the host's firm that agreed
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    before_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # for revert
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class TakeoverSelection(Base):
    """A compound on a year's takeover shortlist and where it is in the pipeline."""

    __tablename__ = "takeover_selection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compound.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="shortlisted")
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("year", "compound_id"),)
    __mapper_args__ = {"version_id_col": version}


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(ForeignKey("street.code"), nullable=True)
    utility: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # community officers (社区): their community; street_code is then the community's street
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored. It expires (`expires_at`) and can be revoked alone."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # refused from then on (auth.token_login)


class UserSession(Base):
    """A server-side browser session (only the id's SHA-256 is stored), revocable."""

    __tablename__ = "user_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    """Failed logins, for throttling by user name and by client address."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class AuditEvent(Base):
    """One committed change or denied attempt: who, when, what, before/after."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_name: Mapped[str] = mapped_column(String(100), default="system")
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, import, accept, denied, ...
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    street_code: Mapped[str | None] = mapped_column(String(9), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")  # ok | denied
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)


GEOMETRY_COLUMNS: dict[str, str] = {
    "district": "geom",
    "street": "geom",
    "community": "geom",
    "compound": "boundary",
    "building": "geom",
    "garage": "location",
    "barrier": "geom",
}


# Tables whose writes change what plugins compute (Context.data_revision): versioned ones are fingerprinted
# by row count and Σ version (every ORM update bumps `version`), append-only ones by their max id.
VERSIONED.extend([Compound, Building, Garage, Handover, BundleProposal, TakeoverSelection, PropertyCompany])
APPEND_ONLY.extend([HandoverEvent, LedgerItem])

# Concern modules (each registers its tables on `metadata` and extends the lists above) go here:
from geoplatform.models import firms  # noqa: E402, F401  (RULES §7: contracts, credit events, rankings)
from geoplatform.models import governance as _governance  # noqa: E402, F401  (RULES §8 records)
from geoplatform.models import handover as _handover  # noqa: E402, F401  (RULES §2 acceptance events)
from geoplatform.models import owners_org as _owners_org  # noqa: E402, F401  (RULES §6 records)
