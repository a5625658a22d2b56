"""Takeover services over a session and a Principal — the one layer under the CLI, the API and the workspace:
parameter parsing, rank, select, shortlist, pipeline.

Errors are `geoplatform.errors` kinds: TakeoverError (HTTP 400 / exit 2) naming the field, TakeoverDenied
(403), Infeasible (422, naming the binding constraint). The CLI and both HTTP surfaces parse selection
parameters with `parse_params`, so the same bad input gets the same answer everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geoplatform import exchange
from geoplatform import models as m
from geoplatform.errors import Forbidden, UserInputError
from geoplatform.i18n import Localized, Message, t
from geoplatform.labels import label
from geoplatform.models.firms import ServiceContract
from geoplatform.principal import Principal
from geoplatform.store import read_frame
from plugins.takeover.rules import (
    BUNDLE_PREFIX,
    candidate_pairs,
    components_of,
    score_candidates,
    with_bundles,
)
from plugins.takeover.selection import InfeasibleSelection, Selection
from plugins.takeover.selection import select as solve
from plugins.takeover.settings import TakeoverSettings

STATES = m.TAKEOVER_STATES  # candidate → shortlisted → tendering → contracted → serving
ACTIVE_STATES = STATES[1:]
# Documented exception to "forward by one step": a shortlisted compound may be dropped, and a failed
# tender (流标) sends a tendering compound back to the pool; both return to `candidate`.
WITHDRAW_FROM = ("shortlisted", "tendering")

Allowed = Callable[[Principal, str, dict[str, Any]], bool]


PARAM_FIELDS = ("min", "max", "budget", "per_street_max", "contiguity_weight", "include_community_managed", "year")
MAX_COUNT = 500  # more than the district's candidates; bounds the solver's work
MAX_BUDGET = 1e7  # 万元
MAX_WEIGHT = 1000.0
YEARS = (2000, 2100)
ADVANCE_FIELDS = ("compound_id", "state", "year", "company", "contract_start", "contract_end", "mode", "bidders")
MAX_BIDDERS = 1000


class TakeoverError(UserInputError):
    """A request the pipeline refuses (unknown compound, disallowed transition, a bad parameter): HTTP 400, exit 2."""


class TakeoverDenied(Forbidden, TakeoverError):
    """The principal may not change the takeover pipeline (HTTP 403; the refused attempt is audited)."""


class Infeasible(TakeoverError):
    """No set satisfies the selection parameters (HTTP 422): the message names the binding constraint."""

    status = 422


def bad_param(field: str, reason: str, **params: Any) -> TakeoverError:
    """The one error of a selection parameter: "参数“最多入选数”无效：…" naming `field` (also in `params.field`)."""
    from plugins.takeover.page_messages import PARAMS_EN, PARAMS_ZH

    name = Localized(zh=PARAMS_ZH.get(field, field), en=PARAMS_EN.get(field, field))
    return TakeoverError("ws_takeover.bad_param", field=field, name=name, message=Message(reason, **params))


@dataclass(frozen=True)
class Params:
    """The selection parameters of one request (range-checked by `parse_params`)."""

    min_n: int
    max_n: int
    budget: float | None
    per_street_max: int | None
    contiguity_weight: float
    include_community_managed: bool
    year: int


def _number(src: Mapping[str, Any], key: str, kind: type, default: Any, lo: float, hi: float) -> Any:
    value = src.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_param(key, "takeover.param.not_number")
    try:
        number = float(str(value).strip())
    except (ValueError, OverflowError):
        raise bad_param(key, "takeover.param.not_number") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise bad_param(key, "takeover.param.range", lo=f"{lo:g}", hi=f"{hi:g}")
    if kind is int:
        if number != int(number):
            raise bad_param(key, "takeover.param.whole")
        return int(number)
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def parse_params(src: Mapping[str, Any], settings: TakeoverSettings, today: dt.date) -> Params:
    """Selection parameters from a query string, a JSON body or the CLI's options (strings or numbers).

    TakeoverError (400 / exit 2) naming the field on unknown fields, non-numbers, NaN/∞, out of range
    (counts 0–500, budget 0–1e7 万元, weight 0–1000, year 2000–2100) or min > max.
    """
    unknown = sorted(set(src) - set(PARAM_FIELDS))
    if unknown:
        raise bad_param(unknown[0], "takeover.param.unknown", names=", ".join(unknown))
    min_n = _number(src, "min", int, settings.select_min, 0, MAX_COUNT)
    max_n = _number(src, "max", int, settings.select_max, 1, MAX_COUNT)
    if min_n > max_n:
        raise bad_param("max", "takeover.param.min_gt_max", lo=min_n, hi=max_n)
    return Params(
        min_n=min_n, max_n=max_n, budget=_number(src, "budget", float, None, 0, MAX_BUDGET),
        per_street_max=_number(src, "per_street_max", int, None, 1, MAX_COUNT),
        contiguity_weight=_number(src, "contiguity_weight", float, 0.0, 0, MAX_WEIGHT),
        include_community_managed=_flag(src.get("include_community_managed")),
        year=_number(src, "year", int, today.year, *YEARS))


def parse_advance(body: Mapping[str, Any], today: dt.date) -> tuple[str, str, int]:
    """(compound_id, state, year) of a pipeline move; TakeoverError naming the field otherwise."""
    unknown = sorted(set(body) - set(ADVANCE_FIELDS))
    if unknown:
        raise bad_param(unknown[0], "takeover.param.unknown", names=", ".join(unknown))
    cid, state = body.get("compound_id"), body.get("state")
    if not isinstance(cid, str) or not cid or len(cid) > 64:
        raise TakeoverError("ws_takeover.need_compound", field="compound_id")
    if not isinstance(state, str) or not state or len(state) > 32:
        raise TakeoverError("ws_takeover.need_state", field="state")
    return cid, state, _number(body, "year", int, today.year, *YEARS)


def parse_contract_terms(body: Mapping[str, Any]) -> dict[str, Any]:
    """The contracted step's terms of a pipeline move: company, contract_start, contract_end (YYYY-MM-DD) or None."""
    company = body.get("company")
    if company is not None and (not isinstance(company, str) or len(company) > 200):
        raise bad_param("company", "takeover.param.text", max=200)
    terms: dict[str, Any] = {"company": company or None}
    for key in ("contract_start", "contract_end"):
        value = body.get(key)
        try:
            terms[key] = dt.date.fromisoformat(value) if value else None
        except (TypeError, ValueError) as exc:
            raise bad_param(key, "takeover.param.date") from exc
    return terms


def parse_tender_terms(body: Mapping[str, Any]) -> dict[str, Any]:
    """The tendering step's terms of a pipeline move: tender_mode (public | invited) and bidders (a whole number)."""
    mode = body.get("mode")
    if mode is not None and (not isinstance(mode, str) or len(mode) > 32):
        raise bad_param("mode", "takeover.param.text", max=32)
    return {"tender_mode": (mode or "").strip() or None,
            "bidders": _number(body, "bidders", int, None, 0, MAX_BIDDERS)}


def choose(session: Session, settings: TakeoverSettings, params: Params,
           save_as: tuple[Principal, int] | None = None, allowed: Allowed | None = None) -> dict[str, Any]:
    """`selection_payload` for parsed parameters; Infeasible (422) with the binding constraint when none fits."""
    try:
        return selection_payload(session, settings, params.min_n, params.max_n, params.budget, params.per_street_max,
                                 params.contiguity_weight, params.include_community_managed, save_as=save_as,
                                 allowed=allowed)
    except InfeasibleSelection as exc:
        raise infeasible(exc, params.min_n, params.max_n, params.budget, params.per_street_max) from exc


def infeasible(exc: InfeasibleSelection, min_n: int, max_n: int, budget: float | None = None,
               per_street_max: int | None = None) -> Infeasible:
    """The 422 for a selection no set satisfies, naming the binding constraint with the parameters asked."""
    key = exc.constraint if exc.constraint in ("budget", "per_street_max", "count") else "solver"
    return Infeasible(f"ws_takeover.infeasible.{key}", constraint=exc.constraint, detail=exc.message,
                      min=min_n, max=max_n, budget="–" if budget is None else f"{budget:g}",
                      cap="–" if per_street_max is None else per_street_max)


# the compound columns the score, the candidate filter, new bundles and the exports use (with both geometries): not
# the aliases (JSON, decoded row by row: 100×, ≈ 7 s of a first `takeover select` at load 7), address, firm, source …
INPUT_COLUMNS = ("id", "name", "street_code", "build_year", "households", "floor_area_m2", "management_mode",
                 "owners_org", "renovation", "fee_collection_rate", "complaints_per_year", "demolition_planned",
                 "takeover_cost", "managed_by_id")


def load_inputs(session: Session) -> tuple[Any, pd.DataFrame]:
    """All compounds (GeoDataFrame, EPSG:4326; INPUT_COLUMNS, boundary and location) and the handover rows
    (compound_id, facility, state)."""
    compounds = read_frame(session, "compound", columns=INPUT_COLUMNS)
    rows = session.execute(select(m.Handover.compound_id, m.Handover.facility, m.Handover.state)).all()
    handovers = pd.DataFrame(rows, columns=["compound_id", "facility", "state"])
    return compounds, handovers


def latest_states(session: Session, year: int | None = None) -> pd.DataFrame:
    """Pipeline rows (of `year`, or each compound's latest year) indexed by compound id: year, state, score, …"""
    stmt = select(m.TakeoverSelection.compound_id, m.TakeoverSelection.year, m.TakeoverSelection.state,
                  m.TakeoverSelection.score, m.TakeoverSelection.updated_by, m.TakeoverSelection.updated_at,
                  m.TakeoverSelection.parameters)
    if year is not None:
        stmt = stmt.where(m.TakeoverSelection.year == year)
    df = pd.DataFrame(session.execute(stmt).all(),
                      columns=["compound_id", "year", "state", "score", "updated_by", "updated_at", "parameters"])
    if df.empty:
        return df.set_index("compound_id")
    df = df.sort_values(["compound_id", "year"]).drop_duplicates("compound_id", keep="last")
    return df.set_index("compound_id")


def pool(session: Session, settings: TakeoverSettings,
         include_community_managed: bool = False) -> tuple[Any, pd.DataFrame]:
    """(the candidate units' frame, their scores): compounds, with each new bundle of orphans as one unit in place
    of its members (`takeover_bundles`, RULES §4/§5), scored with the open safety problems of the ledger
    (`safety_problems`, RULES §8; unknown when no plugin keeps one)."""
    compounds, handovers = load_inputs(session)
    context = exchange.context_of(session)
    units = with_bundles(compounds, exchange.takeover_bundles(context, session))
    ids = units["id"].astype(str).tolist()
    counts = exchange.safety_problem_counts(context, session, [i for i in ids if not i.startswith(BUNDLE_PREFIX)])
    safety = pd.Series(float("nan"), index=ids, dtype=float)  # no ledger: unknown (RULES §1)
    if counts is not None:
        safety = pd.Series({i: counts.get(i) for i in ids}, dtype=float)
        if "members" in units:  # a bundle's open safety problems are its members'
            for uid, members in zip(units["id"], units["members"], strict=True):
                if isinstance(members, list):
                    safety[uid] = float(sum(counts.get(c) or 0 for c in members))
    return units, score_candidates(units, handovers, settings, include_community_managed, safety)


def rank(session: Session, settings: TakeoverSettings, include_community_managed: bool = False,
         street: str | None = None) -> pd.DataFrame:
    """Scored candidates (see rules.score_candidates) with their pipeline state, best first; a new bundle is
    one row (id `bundle:<id>`) whose state is its members'."""
    _, scored = pool(session, settings, include_community_managed)
    states = latest_states(session)
    if len(states):
        first = scored["members"].map(lambda mm: mm[0])
        scored["takeover_state"] = states["state"].reindex(first.to_numpy()).fillna("candidate").to_numpy()
    else:
        scored["takeover_state"] = "candidate"
    if street:
        scored = scored[scored["street"] == street]
    return scored


def per_compound(scored: pd.DataFrame) -> pd.DataFrame:
    """The scored units with each new bundle's row repeated for every member compound (indexed by compound id):
    what the map and the per-compound exports show — a member carries its bundle's score and rank."""
    if "kind" not in scored or not (scored["kind"] == "bundle").any():
        return scored
    rows = scored.explode("members")
    rows.index = pd.Index(rows["members"].to_numpy(), name=None)
    return rows[~rows.index.duplicated()]


def candidate_row(row: pd.Series, settings: TakeoverSettings, street_names: dict[str, str]) -> dict[str, Any]:
    """One candidate as the JSON contract of `takeover rank` (components with value, weight, points)."""
    cost = row["takeover_cost"]
    return {
        "compound_id": row["compound_id"], "name": row["name"], "street": row["street"],
        "street_name": street_names.get(row["street"], row["street"]), "score": float(row["score"]),
        "components": components_of(row, settings), "neighbours_within_radius": int(row["neighbours"]),
        "takeover_cost": None if pd.isna(cost) else float(cost), "tender_mode": row["tender_mode"],
        "floor_area_m2": None if pd.isna(row["floor_area_m2"]) else float(row["floor_area_m2"]),
        "management_mode": row["management_mode"], "state": row.get("takeover_state", "candidate"),
        "unknown_inputs": list(row["unknown"]), "kind": row.get("kind", "compound"),
        "members": list(row.get("members") or [row["compound_id"]]),
        "member_units": list(row.get("member_units") or [f"compound:{row['compound_id']}"]),
        "households": None if pd.isna(row.get("households_n")) else int(row["households_n"]),
        "build_year": None if pd.isna(row.get("build_year")) else int(row["build_year"]),
    }


def rank_payload(session: Session, settings: TakeoverSettings, include_community_managed: bool = False,
                 street: str | None = None) -> dict[str, Any]:
    """The `takeover rank --json` document: candidates best first, weights and settings in force."""
    scored = rank(session, settings, include_community_managed, street)
    names = street_names(session)
    return {"candidates": [candidate_row(r, settings, names) for _, r in scored.iterrows()],
            "weights": settings.weights(), "settings": settings.as_dict()}


def selection_payload(session: Session, settings: TakeoverSettings, min_n: int, max_n: int,
                      budget: float | None = None, per_street_max: int | None = None, contiguity_weight: float = 0.0,
                      include_community_managed: bool = False, save_as: tuple[Principal, int] | None = None,
                      allowed: Allowed | None = None) -> dict[str, Any]:
    """The `takeover select --json` document; with `save_as=(principal, year)` also saves the shortlist."""
    sel, scored = run_selection(session, settings, min_n, max_n, budget, per_street_max, contiguity_weight,
                                include_community_managed)
    names = street_names(session)
    saved = save_shortlist(session, save_as[0], save_as[1], sel, scored, allowed) if save_as else None
    return {"selected": sel.selected, "objective": sel.objective, "optimal": sel.optimal,
            "objective_bound": sel.objective_bound, "gap": None if sel.gap is None else round(sel.gap, 6),
            "baseline_greedy_objective": sel.baseline_greedy_objective, "baseline_greedy": sel.baseline_greedy,
            "status": sel.status, "total_cost": sel.total_cost, "pairs_selected": sel.pairs_selected,
            "solve_seconds": sel.solve_seconds, "candidates_in_pool": len(scored),
            "excluded_unknown_cost": sel.excluded_unknown_cost, "parameters": sel.parameters,
            "details": [candidate_row(scored.loc[cid], settings, names) for cid in sel.selected], "saved": saved}


def street_names(session: Session) -> dict[str, str]:
    """Street code → name."""
    return dict(session.execute(select(m.Street.code, m.Street.name)).all())


def run_selection(session: Session, settings: TakeoverSettings, min_n: int, max_n: int, budget: float | None = None,
                  per_street_max: int | None = None, contiguity_weight: float = 0.0,
                  include_community_managed: bool = False) -> tuple[Selection, pd.DataFrame]:
    """Score the pool, then solve the selection exactly; returns (Selection, scored candidates)."""
    compounds, scored = pool(session, settings, include_community_managed)
    ids = compounds["id"] if "id" in compounds else compounds.index.to_series()
    pairs = candidate_pairs(compounds, ids.isin(scored.index), settings, distance=False) if contiguity_weight > 0 \
        else None
    sel = solve(scored, min_n, max_n, budget, per_street_max, contiguity_weight, pairs,
                time_limit=settings.solver_time_limit_s)
    sel.parameters.update({"include_community_managed": include_community_managed,
                           "contiguity_radius_m": settings.contiguity_radius_m, "weights": settings.weights()})
    return sel, scored


def _check(allowed: Allowed | None, principal: Principal, resource: dict[str, Any]) -> None:
    if allowed is not None and not allowed(principal, "edit_takeover", resource):
        entity_id = f"{resource['year']}/{resource['id']}" if resource.get("id") else str(resource.get("year", ""))
        raise TakeoverDenied("takeover.denied", user=principal.name, role=principal.role,
                             action="update", entity="takeover_selection", entity_id=entity_id,
                             street_code=resource.get("street_code"))


def _enum_text(enum: str, value: Any) -> Localized:
    """An enum value's label in each language."""
    return Localized(zh=label(enum, value, "zh"), en=label(enum, value, "en"))


def _labels_text(keys: Sequence[str]) -> Localized:
    """Catalogue texts named in a message, joined in each language."""
    return Localized(zh="、".join(t(k, "zh") for k in keys), en=", ".join(t(k, "en") for k in keys))


def _states_text(states: Sequence[str], sep: str | None = None) -> Localized:
    """Pipeline states named in a message (their labels, in each language)."""
    return Localized(zh=(sep or "、").join(label("takeover_state", s, "zh") for s in states) or "–",
                     en=(sep or ", ").join(label("takeover_state", s, "en") for s in states) or "–")


def _audit(session: Session, principal: Principal, action: str, entity: str, entity_id: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None, street_code: str | None,
           detail: Message | None = None) -> None:
    from geoplatform.audit import record

    record(session, principal, action, entity, entity_id, before=before, after=after, street_code=street_code,
           detail=detail)


def _row_state(row: m.TakeoverSelection) -> dict[str, Any]:
    return {"year": row.year, "compound_id": row.compound_id, "state": row.state, "score": row.score}


def save_shortlist(session: Session, principal: Principal, year: int, selection: Selection, scored: pd.DataFrame,
                   allowed: Allowed | None = None) -> dict[str, Any]:
    """Make `selection` the year's shortlist: selected → shortlisted; shortlisted ones no longer chosen → candidate.

    A selected new bundle (`bundle:<id>`) shortlists every member compound together, each row recording the
    bundle and all its units (RULES §4). Rows already past `shortlisted` (tendering, contracted, serving) are kept
    as they are. Each change is audited; the caller's transaction commits them together.
    """
    _check(allowed, principal, {"kind": "takeover", "year": year})
    rows = {r.compound_id: r for r in session.scalars(
        select(m.TakeoverSelection).where(m.TakeoverSelection.year == year))}
    now = m.utcnow()
    added, kept, dropped = [], [], []
    base = {k: v for k, v in selection.parameters.items()}
    picks: list[tuple[str, str, float, dict[str, Any]]] = []  # (compound id, street, score, parameters)
    for uid in selection.selected:
        street, score = str(scored.at[uid, "street"]), float(scored.at[uid, "score"])
        members = scored.at[uid, "members"] if "members" in scored else [uid]
        extra = {"bundle": {"id": uid.removeprefix(BUNDLE_PREFIX), "members": list(members),
                            "units": list(scored.at[uid, "member_units"])}} if uid.startswith(BUNDLE_PREFIX) else {}
        picks += [(cid, street, score, {**base, **extra}) for cid in members]
    chosen = {p[0] for p in picks}
    for cid, street, score, params in picks:
        row = rows.get(cid)
        if row is None:
            row = m.TakeoverSelection(year=year, compound_id=cid, state="shortlisted", score=score,
                                      parameters=params, updated_by=principal.name, updated_at=now)
            session.add(row)
            _audit(session, principal, "create", "takeover_selection", f"{year}/{cid}", None, _row_state(row), street,
                   Message("takeover.audit.by_selection"))
            added.append(cid)
        elif row.state in ("candidate", "shortlisted"):
            before = _row_state(row)
            row.state, row.score, row.parameters, row.updated_by, row.updated_at = (
                "shortlisted", score, params, principal.name, now)
            _audit(session, principal, "update", "takeover_selection", f"{year}/{cid}", before, _row_state(row),
                   street, Message("takeover.audit.by_selection"))
            added.append(cid)
        else:
            kept.append(cid)
    for cid, row in rows.items():
        if cid in chosen:
            continue
        if row.state == "shortlisted":
            before = _row_state(row)
            row.state, row.updated_by, row.updated_at = "candidate", principal.name, now
            _audit(session, principal, "update", "takeover_selection", f"{year}/{cid}", before, _row_state(row),
                   None, Message("takeover.audit.not_selected"))
            dropped.append(cid)
        elif row.state in ACTIVE_STATES:
            kept.append(cid)
    session.flush()
    return {"year": year, "shortlisted": added, "kept_in_later_states": sorted(set(kept)), "dropped": dropped}


def state_company(session: Session, settings: TakeoverSettings) -> str:
    """The district's state-owned property company (a property_company flagged state_owned, else the setting)."""
    name = session.scalar(select(m.PropertyCompany.name).where(m.PropertyCompany.state_owned.is_(True))
                          .order_by(m.PropertyCompany.id).limit(1))
    return name or settings.state_company_name


def allowed_next(state: str) -> list[str]:
    """States a pipeline row may move to from `state` (one step forward, or back to candidate to withdraw)."""
    i = STATES.index(state)
    nxt = [STATES[i + 1]] if i + 1 < len(STATES) else []
    return nxt + (["candidate"] if state in WITHDRAW_FROM else [])


def advance(session: Session, principal: Principal, compound_id: str, state: str, year: int,
            settings: TakeoverSettings, allowed: Allowed | None = None, company: str | None = None,
            contract_start: dt.date | None = None, contract_end: dt.date | None = None,
            tender_mode: str | None = None, bidders: int | None = None) -> dict[str, Any]:
    """Move one compound of the year's pipeline to `state`; at `serving` the compound becomes state-owned.

    `tendering` records the tender (RULES §4): `tender_mode` public | invited and the number of `bidders` — public
    when the floor area is ≥ 5万 m² or unknown, an invited tender with ≥ 3 bidders (rules.tender_problem).

    `contracted` needs the firm that won the tender (`company`, which must pass the RULES §7 credit gate), the
    contract's start and end, and a signatory owners' organisation (an active 业委会 or 物管会, RULES §4/§6); it
    records the service contract. `serving` sets the compound's mode, firm and contract from it.
    Audited (the selection row, the contract and, at serving, the compound). Raises TakeoverError naming the
    allowed next states or what is missing.
    """
    if state not in STATES:
        raise TakeoverError("takeover.unknown_state", field="state", state=state, states=_states_text(STATES, " → "))
    compound = session.get(m.Compound, compound_id)
    if compound is None:
        raise TakeoverError("takeover.unknown_compound", field="compound_id", compound=compound_id)
    _check(allowed, principal, {"kind": "takeover", "id": compound_id, "street_code": compound.street_code,
                                "year": year})
    row = session.scalar(select(m.TakeoverSelection).where(m.TakeoverSelection.year == year,
                                                           m.TakeoverSelection.compound_id == compound_id))
    current = row.state if row is not None else "candidate"
    if current == "candidate":
        pool = set(settings.candidate_modes) | set(settings.optional_modes) | ({"unknown"} if settings.include_unknown
                                                                               else set())
        if compound.management_mode not in pool or compound.demolition_planned:
            raise TakeoverError("takeover.not_candidate", name=compound.name, compound=compound_id,
                                mode=_enum_text("management_mode", compound.management_mode),
                                demolition=Message("takeover.demolition") if compound.demolition_planned else "")
    nxt = allowed_next(current)
    if state not in nxt:
        raise TakeoverError("takeover.move_not_allowed" if nxt else "takeover.move_final", name=compound.name,
                            compound=compound_id, year=year, current=_states_text([current]),
                            allowed=_states_text(nxt), allowed_states=nxt)
    tender = _tender_terms(compound, tender_mode, bidders, settings) if state == "tendering" else None
    contract = _contract_terms(session, compound, year, company, contract_start, contract_end) \
        if state == "contracted" else None
    if state == "serving":
        contract = (row.parameters or {}).get("contract") if row is not None else None
        if not contract:
            raise TakeoverError("takeover.contract.none_recorded", compound=compound.name, compound_id=compound_id, year=year)
    now = m.utcnow()
    before = _row_state(row) if row is not None else None
    if before is not None and (row.parameters or {}).get("tender"):
        before["tender"] = row.parameters["tender"]
    if row is None:
        row = m.TakeoverSelection(year=year, compound_id=compound_id, state=state, score=None,
                                  parameters={"manual": True}, updated_by=principal.name, updated_at=now)
        session.add(row)
    else:
        row.state, row.updated_by, row.updated_at = state, principal.name, now
    if tender is not None:
        row.parameters = {**(row.parameters or {}), "tender": tender}
    if state == "contracted":
        _record_contract(session, principal, compound, contract, year)
        contract = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in contract.items()}
        row.parameters = {**(row.parameters or {}), "contract": contract}
    after = _row_state(row) if tender is None else {**_row_state(row), "tender": tender}
    _audit(session, principal, "create" if before is None else "update", "takeover_selection",
           f"{year}/{compound_id}", before, after, compound.street_code)
    result: dict[str, Any] = {"compound_id": compound_id, "year": year, "from": current, "to": state,
                              "by": principal.name}
    if tender is not None:
        result["tender"] = dict(tender)
    if contract is not None:
        result["contract"] = dict(contract)
    if state == "serving":
        company, end = contract["company"], dt.date.fromisoformat(contract["end"])
        fields = ("management_mode", "company", "contract_end")
        cb = {f: getattr(compound, f) for f in fields}
        compound.management_mode, compound.company, compound.contract_end = "state_owned", company, end
        _audit(session, principal, "update", "compound", compound_id, cb,
               {"management_mode": "state_owned", "company": company, "contract_end": end}, compound.street_code,
               Message("takeover.audit.serving", year=year, contract=contract["contract_id"]))
        result["management_mode"] = "state_owned"
        result["company"] = company
        result["contract_id"] = contract["contract_id"]
    session.flush()
    return result


def _tender_terms(compound: m.Compound, mode: str | None, bidders: int | None,
                  settings: TakeoverSettings) -> dict[str, Any]:
    """What `tendering` records (RULES §4): the mode and the bidders; TakeoverError naming what is wrong."""
    from plugins.takeover.rules import tender_problem

    problem = tender_problem(compound.floor_area_m2, mode, bidders, settings)
    if problem is not None:
        code, p = problem
        if code == "missing":
            raise TakeoverError("takeover.tender.missing", compound=compound.name, compound_id=compound.id,
                                fields=p["fields"], field=p["fields"][0],
                                missing=_labels_text([f"ws_takeover.tender_{f}" for f in p["fields"]]))
        if code == "mode":
            raise TakeoverError("takeover.tender.mode", field="mode", mode=str(p["mode"]))
        if code == "public_required":
            area = Localized(zh=t("takeover.tender.area_unknown", "zh"), en=t("takeover.tender.area_unknown", "en")) \
                if p["area"] is None else f"{p['area']:,.0f} m²"
            raise TakeoverError("takeover.tender.public_required", field="mode", compound=compound.name,
                                compound_id=compound.id, area=area, limit=f"{p['limit'] / 10000:g}")
        raise TakeoverError("takeover.tender.bidders", field="bidders", compound=compound.name, compound_id=compound.id,
                            least=p["least"], bidders="–" if p["bidders"] is None else p["bidders"],
                            mode=_labels_text([f"takeover.tender.mode_{mode}"]))
    return {"mode": mode, "bidders": int(bidders), "floor_area_m2": compound.floor_area_m2}


def _record_contract(session: Session, principal: Principal, compound: m.Compound, contract: dict[str, Any],
                     year: int) -> None:
    """Record the service contract where contracts are kept: the firms plugin through `record_service_contract`;
    with no plugin answering, the core `service_contract` row (audited here)."""
    context = exchange.context_of(session)
    answer = None
    if context is not None:
        answer = context.pm.hook.record_service_contract(
            context=context, session=session, principal=principal, compound_id=compound.id,
            company=contract["company"], start=contract["start"], end=contract["end"],
            contract_id=contract["contract_id"], source=f"takeover {year}")
    if answer is None:
        session.add(ServiceContract(id=contract["contract_id"], compound_id=compound.id, company=contract["company"],
                                    start=contract["start"], end=contract["end"], source=f"takeover {year}"))
        _audit(session, principal, "create", "service_contract", contract["contract_id"], None,
               {**contract, "compound_id": compound.id}, compound.street_code,
               Message("takeover.audit.contract_signed", year=year))  # (a plugin that answers audits its own)


def _no_signatory(compound: m.Compound, org: exchange.OrgStatus | None) -> TakeoverError:
    """The refusal naming the step that is missing: form a 物管会, finish forming it, or renew a lapsed one."""
    state = org.state if org is not None else "unknown"
    if state in ("preparing", "elected", "filed"):
        return TakeoverError("takeover.contract.org_preparing", compound=compound.name, compound_id=compound.id,
                             step="finish_forming", state=_enum_text("org_state", state))
    if state in ("term_expired", "re_election_required"):
        return TakeoverError("takeover.contract.org_lapsed", compound=compound.name, compound_id=compound.id,
                             step="renew", state=_enum_text("org_state", state),
                             org=_enum_text("owners_org", org.kind or "owners_committee"))
    return TakeoverError("takeover.contract.no_signatory", compound=compound.name, compound_id=compound.id,
                         step="form_management_committee")


def _contract_terms(session: Session, compound: m.Compound, year: int, company: str | None,
                    start: dt.date | None, end: dt.date | None) -> dict[str, Any]:
    """What `contracted` needs (RULES §4/§7): the firm, the contract's dates, a signatory; refused otherwise."""
    missing = [name for name, v in (("company", company), ("contract_start", start), ("contract_end", end)) if not v]
    if missing:
        raise TakeoverError("takeover.contract.missing", compound=compound.name, compound_id=compound.id,
                            fields=missing, missing=_labels_text([f"ws_takeover.contract_{f.removeprefix('contract_')}"
                                                                  for f in missing]))
    if end < start:
        raise TakeoverError("takeover.contract.dates_order", compound=compound.name, start=start.isoformat(),
                            end=end.isoformat())
    verdict = exchange.firm_gate(session, [company])[company]
    if not verdict.eligible:
        raise TakeoverError("takeover.contract.firm_ineligible", company=company, codes=list(verdict.reasons),
                            reasons=Localized(zh="、".join(label("firm_gate", r, "zh") for r in verdict.reasons),
                                              en=", ".join(label("firm_gate", r, "en") for r in verdict.reasons)))
    org = exchange.org_statuses(session, [compound.id]).get(compound.id)
    if org is None or not org.can_sign:
        raise _no_signatory(compound, org)
    return {"contract_id": f"TK{year}-{compound.id}", "company": company, "start": start, "end": end,
            "signatory": org.kind, "warnings": list(verdict.warnings)}


def coverage(session: Session, served_modes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Professionally served compounds / those whose mode is known (RULES §1: unknown apart) — to show the
    takeover's effect; `unknown` counts the compounds 待核实.

    `served_modes`: the plan's definition (`geoplatform.config.plan_settings(config).served_modes`; its defaults
    when not given).
    """
    from geoplatform.config import PlanSettings

    modes = tuple(served_modes) if served_modes is not None else PlanSettings().served_modes
    total = session.scalar(select(func.count()).select_from(m.Compound)) or 0
    unknown = session.scalar(select(func.count()).select_from(m.Compound).where(
        m.Compound.management_mode == m.UNKNOWN)) or 0
    served = session.scalar(select(func.count()).select_from(m.Compound).where(
        m.Compound.management_mode.in_(modes))) or 0
    known = total - unknown
    return {"compounds": total, "served": served, "unknown": unknown,
            "coverage_rate": round(served / known, 4) if known else None}


def verdict(data: dict[str, Any], lang: str) -> str:
    """The selection's verdict: proven optimal, or not — with how far from optimal it can be, when known."""
    from geoplatform.i18n import t

    if data["optimal"]:
        return t("takeover.optimal", lang)
    text = t("takeover.not_optimal", lang, status=data["status"])
    if data.get("objective_bound") is not None and data.get("gap") is not None:
        text += t("takeover.bound", lang, bound=data["objective_bound"], gap=data["gap"])
    return text
