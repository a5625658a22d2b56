"""Bundling services over a session and a Principal — the one layer under the CLI and the web: plan, list,
accept, reject, revert. Errors are `geoplatform.errors` kinds: UnknownProposal (404), BundleDenied (403),
MissingNote (400), any other BundleError a Conflict with the stored state (409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from geoplatform import audit, exchange
from geoplatform import models as m
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.principal import Principal
from geoplatform.sqlin import in_values
from geoplatform.store import read_frame
from plugins.bundling.rules import (
    Plan,
    VoteCount,
    find_hosts,
    find_orphans,
    parse_vote,
    plan_bundles,
    vote_failures,
)
from plugins.bundling.settings import BundlingSettings, load_settings

Gate = Callable[[list[Any]], dict[Any, exchange.FirmEligibility]]  # firm keys → the RULES §7 credit gate
DECIDABLE = ("proposed", "reverted")  # states from which a proposal may be accepted or rejected
COMPOUND_FIELDS = ("managed_by_id", "management_mode", "company")  # what accepting a compound changes
HOST_FIELDS = ("floor_area_m2", "households")  # what accepting buildings adds to on the host


COMPOUND_COLUMNS = ("id", "name", "street_code", "management_mode", "floor_area_m2", "households", "managed_by_id",
                    "company")  # what planning reads (boundary and location come with them)
BUILDING_COLUMNS = ("id", "compound_id", "street_code", "floor_area_m2", "households")


class BundleError(Conflict):
    """A request the planner refuses because of the stored state (wrong state, data changed since): HTTP 409."""


class UnknownProposal(NotFound, BundleError):
    """No proposal with that id, stored or planned (HTTP 404)."""


class MissingNote(BundleError):
    """A decision without its required text (consent note, reason): HTTP 400, naming the field."""

    status = 400


class BundleDenied(Forbidden, BundleError):
    """The principal may not decide or revert this proposal (HTTP 403; the caller audits the attempt)."""


def settings_for(context: Any, max_distance: float | None = None, include_unknown: bool | None = None) -> BundlingSettings:
    """The plugin's settings with the context's `[rules.bundling]` overrides, an optional max distance and
    `include_unknown` (True: compounds 待核实 may be orphans too; None: the configured setting).

    The host modes are the plan's professionally served modes (`[rules.plan] served_modes`), never redefined here.
    """
    from geoplatform.config import plan_settings, redefines_plan

    overrides = context.rules("bundling")
    redefines_plan("bundling", overrides, "host_modes")
    plan = plan_settings(getattr(context, "config", None))
    return load_settings({**overrides, "host_modes": list(plan.served_modes)}, max_distance_m=max_distance,
                         include_unknown=include_unknown)


# ---------------------------------------------------------------------------------------------
# Planning


def load_inputs(session: Session) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series, gpd.GeoDataFrame]:
    """Compounds, orphan buildings (street filled from the street polygons where missing), building counts, barriers."""
    compounds = read_frame(session, "compound", columns=COMPOUND_COLUMNS)
    lone = read_frame(session, "building", where=[m.Building.compound_id.is_(None)], columns=BUILDING_COLUMNS)
    counts = pd.Series(dict(session.execute(
        select(m.Building.compound_id, func.count()).where(m.Building.compound_id.isnot(None))
        .group_by(m.Building.compound_id)).all()), dtype=float)
    if len(lone) and lone["street_code"].isna().any():
        lone = _fill_streets(session, lone)
    barriers = read_frame(session, "barrier")
    return compounds, lone, counts, barriers


def _fill_streets(session: Session, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street codes of buildings that lack one: the street polygon holding a point on the building."""
    streets = read_frame(session, "street", columns=["code"])
    missing = buildings["street_code"].isna().to_numpy()
    if not len(streets):
        return buildings
    pts = shapely.point_on_surface(buildings.geometry.to_numpy()[missing])
    tree = shapely.STRtree(streets.geometry.to_numpy())
    pi, si = tree.query(pts, predicate="within")
    codes = pd.Series(streets["code"].to_numpy()[si], index=pi)
    codes = codes[~codes.index.duplicated()]
    out = buildings.copy()
    filled = out["street_code"].to_numpy(dtype=object).copy()
    idx = pd.Series(range(int(missing.sum())))
    filled[missing] = idx.map(codes).to_numpy()
    out["street_code"] = filled
    return out


def compute_plan(session: Session, settings: BundlingSettings, street: str | None = None,
                 eligibility: Gate | None = None) -> Plan:
    """The plan for the whole district, or only the orphans of one street (hosts of every street are considered).

    Hosts must be served by an eligible firm (RULES §5/§7): `eligibility(firm keys)` answers the credit gate
    (by default `geoplatform.exchange.firm_gate` — the firms plugin through the session's context); a host whose
    firm is not eligible hosts nothing, and an orphan it alone could have taken is `host_firm_ineligible`.
    """
    compounds, lone, counts, barriers = load_inputs(session)
    orphans = find_orphans(compounds, lone.assign(compound_id=None), settings, building_counts=counts)
    if street is not None:
        orphans = orphans[orphans["street_code"] == street]
    hosts = find_hosts(compounds, settings, building_counts=counts)
    ok, warnings = host_gate(session, hosts, eligibility)
    plan = plan_bundles(orphans, hosts[ok], barriers, settings, ineligible_hosts=hosts[~ok])
    plan.host_warnings = warnings
    return plan


def host_gate(session: Session, hosts: gpd.GeoDataFrame,
              eligibility: Gate | None = None) -> tuple[Any, dict[str, tuple[str, ...]]]:
    """(boolean array: the host's firm passes the credit gate, {host id: the gate's warnings}) — a host whose firm
    is not recorded passes with the warning `firm_not_recorded`, one whose firm has no grade with `no_grade`."""
    import numpy as np

    firms = [None if pd.isna(v) else v for v in hosts["company"]] if "company" in hosts else [None] * len(hosts)
    verdicts = (eligibility or (lambda keys: exchange.firm_gate(session, keys)))(firms) if len(hosts) else {}
    ok = np.array([verdicts[f].eligible if f in verdicts else True for f in firms], dtype=bool)
    warnings = {str(h): tuple(verdicts[f].warnings) for h, f in zip(hosts["host_compound_id"], firms, strict=True)
                if f in verdicts and verdicts[f].warnings}
    return ok, warnings


def cached_plan(context: Any, settings: BundlingSettings | None = None) -> Plan:
    """The whole district's plan with the configured settings, cached per data revision (layers, attributes)."""
    settings = settings or settings_for(context)

    def build() -> Plan:
        with context.session(readonly=True) as s:
            return compute_plan(s, settings)

    cached = getattr(context, "memo", None)
    if not cached:
        return build()
    # the recipe lets the server's worker process compute the plan for each next revision (Context.memo)
    return cached(f"bundling_plan:{settings!r}", build, recipe=("plugins.bundling.service:cached_plan", (settings,)))


def save_plan(session: Session, plan: Plan, principal: Principal, street: str | None = None) -> dict[str, int]:
    """Store the plan's proposals (status proposed); decided ones are kept as they are; stale open ones go.

    Re-planning never duplicates (ids are deterministic) and never touches accepted, rejected or
    reverted proposals. Proposed rows of the planned street(s) that the plan no longer makes are deleted.
    """
    ids = list(plan.proposals["id"])
    existing = {p.id: p for p in session.scalars(select(m.BundleProposal).where(in_values(m.BundleProposal.id, ids)))} \
        if ids else {}
    inserted = updated = kept = 0
    for r in plan.proposals.itertuples(index=False):
        values = {"street_code": r.street, "orphan_kind": r.orphan_kind, "orphan_ids": list(r.orphan_ids),
                  "host_compound_id": r.host_compound_id, "distance_m": round(float(r.distance_m), 1),
                  "merged_floor_area_m2": round(float(r.merged_floor_area_m2), 1),
                  "merged_households": int(r.merged_households)}
        row = existing.get(r.id)
        if row is None:
            session.add(m.BundleProposal(id=r.id, status="proposed", **values))
            inserted += 1
        elif row.status == "proposed":
            changed = {k: v for k, v in values.items() if getattr(row, k) != v}
            for k, v in changed.items():
                setattr(row, k, v)
            updated += bool(changed)
        else:
            kept += 1
    stale = select(m.BundleProposal.id).where(m.BundleProposal.status == "proposed")
    if street is not None:
        stale = stale.where(m.BundleProposal.street_code == street)
    if ids:
        stale = stale.where(m.BundleProposal.id.notin_(ids))
    stale_ids = list(session.scalars(stale))
    if stale_ids:
        session.execute(delete(m.BundleProposal).where(in_values(m.BundleProposal.id, stale_ids)))
    counts = {"inserted": inserted, "updated": updated, "kept_decided": kept, "removed_stale": len(stale_ids)}
    session.flush()
    audit.record(session, principal, "plan", "bundle_proposal", None, after={**counts, "street": street},
                 street_code=street, detail=f"settings: {plan.settings.as_dict()}")
    return counts


def proposal_dict(p: m.BundleProposal) -> dict[str, Any]:
    """A stored proposal as a JSON-ready dict."""
    return {"id": p.id, "street": p.street_code, "orphan_kind": p.orphan_kind, "orphan_ids": list(p.orphan_ids or []),
            "host_compound_id": p.host_compound_id, "distance_m": p.distance_m,
            "merged_floor_area_m2": p.merged_floor_area_m2, "merged_households": p.merged_households,
            "status": p.status, "consent_note": p.consent_note, "vote": _vote_dict(p), "host_firm": p.host_firm, "reason": p.reason, "decided_by": p.decided_by,
            "decided_at": p.decided_at.isoformat(timespec="seconds") if p.decided_at else None,
            "version": p.version}


def _vote_dict(p: m.BundleProposal) -> dict[str, list[float | int]] | None:
    """The recorded vote {area: [total, participating, yes], owners: [...]} (None: none recorded)."""
    if p.vote_area_total is None or p.vote_owners_total is None:
        return None
    def num(v: float | int | None) -> float | int | None:
        return int(v) if v is not None and float(v).is_integer() else v

    return {"area": [num(p.vote_area_total), num(p.vote_area_participating), num(p.vote_area_yes)],
            "owners": [num(p.vote_owners_total), num(p.vote_owners_participating), num(p.vote_owners_yes)]}


def check_vote(settings: BundlingSettings, vote_area: Any, vote_owners: Any) -> tuple[VoteCount, VoteCount]:
    """The owners' vote given on acceptance, parsed and judged (RULES §5, 民法典 §278).

    `vote_area` / `vote_owners`: "TOTAL/PARTICIPATING/YES" or three numbers. A missing or malformed vote
    is a UserInputError naming the field (`vote_area`, `vote_owners`); a vote that misses a threshold is a
    UserInputError `bundling.vote.failed` naming the threshold, the share reached and the share needed.
    """
    from geoplatform.i18n import Message

    counts = []
    for field, value, whole in (("vote_area", vote_area, False), ("vote_owners", vote_owners, True)):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise UserInputError("bundling.vote.missing", field=field, what=Message(f"bundling.vote.{field}"))
        try:
            counts.append(parse_vote(value, whole=whole))
        except ValueError as exc:
            shown = value if isinstance(value, str) else "/".join(str(v) for v in value) \
                if isinstance(value, (list, tuple)) else str(value)
            raise UserInputError("bundling.vote.invalid", field=field, what=Message(f"bundling.vote.{field}"),
                                 value=shown[:100], why=str(exc)) from exc
    area, owners = counts
    failed = vote_failures(area, owners, settings)
    if failed:
        threshold, share, need = failed[0]
        raise UserInputError("bundling.vote.failed", field="vote_area" if threshold.endswith("area") else "vote_owners",
                             threshold=threshold, what=Message(f"bundling.vote.{threshold}"),
                             got=f"{float(share) * 100:.1f}%", need=need)
    return area, owners


def list_proposals(session: Session, street: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Stored proposals (of a street, in a status), ordered by street and id."""
    stmt = select(m.BundleProposal).order_by(m.BundleProposal.street_code, m.BundleProposal.id)
    if street is not None:
        stmt = stmt.where(m.BundleProposal.street_code == street)
    if status is not None:
        stmt = stmt.where(m.BundleProposal.status == status)
    return [proposal_dict(p) for p in session.scalars(stmt)]


def stored_statuses(session: Session, ids: list[str]) -> dict[str, str]:
    """The stored status of those proposal ids that are stored."""
    if not ids:
        return {}
    rows = session.execute(select(m.BundleProposal.id, m.BundleProposal.status).where(in_values(m.BundleProposal.id, ids)))
    return dict(rows.all())


def street_of_id(proposal_id: str) -> str | None:
    """The street code a deterministic proposal id starts with (None if it does not look like one)."""
    head = proposal_id.split("-", 1)[0]
    return head if head.isdigit() and len(head) == 9 else None


def get_proposal(session: Session, settings: BundlingSettings, proposal_id: str) -> m.BundleProposal:
    """A stored proposal; one not stored yet is planned for its street and stored first (BundleError if unknown)."""
    row = session.get(m.BundleProposal, proposal_id)
    if row is not None:
        return row
    street = street_of_id(proposal_id)
    if street is not None:
        plan = compute_plan(session, settings, street)
        hit = plan.proposals[plan.proposals["id"] == proposal_id]
        if len(hit):
            r = hit.iloc[0]
            row = m.BundleProposal(
                id=proposal_id, street_code=r["street"], orphan_kind=r["orphan_kind"],
                orphan_ids=list(r["orphan_ids"]), host_compound_id=r["host_compound_id"],
                distance_m=round(float(r["distance_m"]), 1),
                merged_floor_area_m2=round(float(r["merged_floor_area_m2"]), 1),
                merged_households=int(r["merged_households"]), status="proposed")
            session.add(row)
            session.flush()
            return row
    raise UnknownProposal(f"unknown bundle proposal {proposal_id!r} (list them with `geoplatform bundle plan`; "
                          "after planning with a non-default --max-distance, store them with --save first)")


# ---------------------------------------------------------------------------------------------
# Decisions


def _authorise(context: Any, session: Session, principal: Principal, action: str, p: m.BundleProposal) -> None:
    resource = {"kind": "bundle", "id": p.id, "street_code": p.street_code}
    if not context.allowed(principal, action, resource):
        raise BundleDenied(f"{principal.name} ({principal.role}) may not {action} proposal {p.id} "
                           f"of street {p.street_code}", action=action, entity="bundle", entity_id=p.id,
                           street_code=p.street_code)


def _check_state(p: m.BundleProposal, allowed: tuple[str, ...], verb: str) -> None:
    if p.status not in allowed:
        raise BundleError(f"proposal {p.id} is {p.status}; only {' or '.join(allowed)} proposals can be {verb}")


def _host(session: Session, settings: BundlingSettings, p: m.BundleProposal) -> m.Compound:
    host = session.get(m.Compound, p.host_compound_id)
    if host is None:
        raise BundleError(f"host compound {p.host_compound_id} of proposal {p.id} no longer exists")
    if host.management_mode not in settings.host_modes or host.managed_by_id is not None:
        raise BundleError(f"host compound {host.id} is no longer professionally managed "
                          f"(management_mode {host.management_mode}); re-plan")
    verdict = exchange.firm_gate(session, [host.company])[host.company]
    if not verdict.eligible:  # RULES §5/§7: an ineligible firm may not host a bundle
        raise BundleError(f"host compound {host.id} is served by {host.company}, which may not host a bundle "
                          f"({', '.join(verdict.reasons)}: host_firm_ineligible); re-plan")
    return host


def accept(context: Any, session: Session, principal: Principal, proposal_id: str,
           consent_note: str | None = None, settings: BundlingSettings | None = None,
           vote_area: Any = None, vote_owners: Any = None) -> dict[str, Any]:
    """Move the orphan(s) under the host in the caller's transaction, recording before_state and audit rows.

    The owners' vote is required and must pass (check_vote); it is recorded with the host's firm, whose
    agreement the acceptance records (RULES §5: 协商洽谈).
    """
    settings = settings or settings_for(context)
    p = get_proposal(session, settings, proposal_id)
    _authorise(context, session, principal, "decide_bundle", p)
    _check_state(p, DECIDABLE, "accepted")
    area_vote, owners_vote = check_vote(settings, vote_area, vote_owners)
    host = _host(session, settings, p)
    orphan_ids = list(p.orphan_ids or [])
    before: dict[str, Any] = {"host": {"id": host.id, **{f: getattr(host, f) for f in HOST_FIELDS}}}
    after: dict[str, Any] = {"host": {"id": host.id}}
    if p.orphan_kind == "building":
        rows = {b.id: b for b in session.scalars(select(m.Building).where(m.Building.id.in_(orphan_ids)))}
        for bid in orphan_ids:
            b = rows.get(bid)
            if b is None:
                raise BundleError(f"building {bid} of proposal {p.id} no longer exists")
            if b.compound_id is not None:
                raise BundleError(f"building {bid} already belongs to compound {b.compound_id}; re-plan")
        before["buildings"] = {bid: {"compound_id": None} for bid in orphan_ids}
        area = sum(float(rows[bid].floor_area_m2 or 0) for bid in orphan_ids)
        households = sum(int(rows[bid].households or 0) for bid in orphan_ids)
        for bid in orphan_ids:
            rows[bid].compound_id = host.id
            audit.record(session, principal, "update", "building", bid, before={"compound_id": None},
                         after={"compound_id": host.id}, street_code=p.street_code, detail=f"bundle {p.id}")
        host_before = {f: getattr(host, f) for f in HOST_FIELDS}
        host.floor_area_m2 = round(float(host.floor_area_m2 or 0) + area, 1)
        host.households = int(host.households or 0) + households
        after["buildings"] = {bid: {"compound_id": host.id} for bid in orphan_ids}
        after["host"].update({f: getattr(host, f) for f in HOST_FIELDS})
        audit.record(session, principal, "update", "compound", host.id, before=host_before,
                     after={f: getattr(host, f) for f in HOST_FIELDS}, street_code=host.street_code,
                     detail=f"bundle {p.id}: buildings {', '.join(orphan_ids)} joined")
    else:
        (cid,) = orphan_ids
        c = session.get(m.Compound, cid)
        if c is None:
            raise BundleError(f"compound {cid} of proposal {p.id} no longer exists")
        # a proposal for a compound 待核实 exists only when its plan was asked to include them
        if c.managed_by_id is not None or c.management_mode not in (*settings.orphan_modes, "unknown"):
            raise BundleError(f"compound {cid} is no longer an orphan (management_mode {c.management_mode}, "
                              f"managed_by {c.managed_by_id}); re-plan")
        values = {"managed_by_id": host.id, "management_mode": host.management_mode,
                  "company": host.company}
        before["compound"] = {"id": cid, **{f: getattr(c, f) for f in COMPOUND_FIELDS}}
        for k, v in values.items():
            setattr(c, k, v)
        after["compound"] = {"id": cid, **values}
        audit.record(session, principal, "update", "compound", cid, before=before["compound"], after=after["compound"],
                     street_code=c.street_code, detail=f"bundle {p.id}: managed with {host.id}")
    status_before = p.status
    p.status = "accepted"
    p.consent_note = consent_note
    p.vote_area_total, p.vote_area_participating, p.vote_area_yes = area_vote.as_list()
    p.vote_owners_total, p.vote_owners_participating, p.vote_owners_yes = owners_vote.as_list()
    p.host_firm = host.company
    after["vote"] = _vote_dict(p)
    after["host_firm"] = host.company
    p.decided_by = principal.name
    p.decided_at = m.utcnow()
    p.before_state = audit.jsonable({**before, "after": after})
    audit.record(session, principal, "accept", "bundle_proposal", p.id, before={"status": status_before},
                 after={"status": "accepted", **after}, street_code=p.street_code, detail=consent_note)
    session.flush()
    return proposal_dict(p)


def reject(context: Any, session: Session, principal: Principal, proposal_id: str, reason: str,
           settings: BundlingSettings | None = None) -> dict[str, Any]:
    """Reject a proposal with a reason (audited); re-planning keeps it rejected."""
    if not reason or not reason.strip():
        raise MissingNote("a rejection needs a reason (--reason)", field="reason")
    settings = settings or settings_for(context)
    p = get_proposal(session, settings, proposal_id)
    _authorise(context, session, principal, "decide_bundle", p)
    _check_state(p, DECIDABLE, "rejected")
    status_before = p.status
    p.status, p.reason, p.decided_by, p.decided_at = "rejected", reason.strip(), principal.name, m.utcnow()
    audit.record(session, principal, "reject", "bundle_proposal", p.id, before={"status": status_before},
                 after={"status": "rejected", "reason": p.reason}, street_code=p.street_code, detail=p.reason)
    session.flush()
    return proposal_dict(p)


def revert(context: Any, session: Session, principal: Principal, proposal_id: str,
           note: str | None = None) -> dict[str, Any]:
    """Undo an accepted proposal exactly (admin): restore before_state, refusing if the records changed since.

    The reason (`note`) is required and audited: undoing a decision the street took needs its why.
    """
    p = session.get(m.BundleProposal, proposal_id)
    if p is None:
        raise UnknownProposal(f"unknown bundle proposal {proposal_id!r}")
    _authorise(context, session, principal, "revert_bundle", p)
    _check_state(p, ("accepted",), "reverted")
    if not (note or "").strip():
        from geoplatform.i18n import Message

        raise UserInputError("bundling.need_note", field="note", what=Message("bundling.note.note"))
    state = p.before_state or {}
    after = state.get("after", {})
    host_before = state.get("host", {})
    host = session.get(m.Compound, host_before.get("id") or p.host_compound_id)
    if host is None:
        raise BundleError(f"host compound {p.host_compound_id} no longer exists; cannot revert {p.id}")
    if "buildings" in state:
        rows = {b.id: b for b in session.scalars(select(m.Building).where(m.Building.id.in_(list(state["buildings"]))))}
        for bid in state["buildings"]:
            b = rows.get(bid)
            if b is None or b.compound_id != host.id:
                raise BundleError(f"building {bid} changed since proposal {p.id} was accepted; revert by hand")
        now = {f: getattr(host, f) for f in HOST_FIELDS}
        if any(now[f] != after.get("host", {}).get(f) for f in HOST_FIELDS):
            raise BundleError(f"host compound {host.id} changed since proposal {p.id} was accepted "
                              f"({now} ≠ {after.get('host')}); revert by hand")
        for bid, was in state["buildings"].items():
            rows[bid].compound_id = was["compound_id"]
            audit.record(session, principal, "revert", "building", bid, before={"compound_id": host.id},
                         after=was, street_code=p.street_code, detail=f"bundle {p.id} reverted")
        for f in HOST_FIELDS:
            setattr(host, f, host_before.get(f))
        audit.record(session, principal, "revert", "compound", host.id, before=now,
                     after={f: host_before.get(f) for f in HOST_FIELDS}, street_code=host.street_code,
                     detail=f"bundle {p.id} reverted")
    if "compound" in state:
        was = state["compound"]
        c = session.get(m.Compound, was["id"])
        expected = after.get("compound", {})
        if c is None or any(getattr(c, f) != expected.get(f) for f in COMPOUND_FIELDS):
            raise BundleError(f"compound {was['id']} changed since proposal {p.id} was accepted; revert by hand")
        now = {f: getattr(c, f) for f in COMPOUND_FIELDS}
        for f in COMPOUND_FIELDS:
            setattr(c, f, was.get(f))
        audit.record(session, principal, "revert", "compound", c.id, before=now,
                     after={f: was.get(f) for f in COMPOUND_FIELDS}, street_code=c.street_code,
                     detail=f"bundle {p.id} reverted")
    p.status = "reverted"
    p.decided_by, p.decided_at = principal.name, m.utcnow()
    audit.record(session, principal, "revert", "bundle_proposal", p.id, before={"status": "accepted", **after},
                 after={"status": "reverted", **{k: v for k, v in state.items() if k != "after"}},
                 street_code=p.street_code, detail=note)
    session.flush()
    return proposal_dict(p)


