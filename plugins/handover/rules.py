"""RULES §2 as pure functions: the handover state machines, overdue logic, colour classes, backlog."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from plugins.handover.settings import HandoverSettings

UTILITY_FACILITIES = ("water", "power", "heating", "gas")
EXTRA_FACILITIES = ("fire_acceptance", "power_upgrade", "telecom_access")
FACILITIES = UTILITY_FACILITIES + EXTRA_FACILITIES
UNKNOWN = "unknown"

# Allowed transitions as data: state -> the states it may move to (RULES §2, nothing else).
UTILITY_MACHINE: dict[str, tuple[str, ...]] = {
    "unknown": ("not_handed_over",),
    "not_handed_over": ("owner_consent", "renovation"),
    "owner_consent": ("applied",),
    "applied": ("acceptance",),
    "acceptance": ("agreement", "rectifying"),  # pass → agreement; fail → rectifying
    "rectifying": ("acceptance",),
    "renovation": ("acceptance",),
    "agreement": ("taken_over",),
    "taken_over": (),
}
# The extra gap kinds of the plan. A compound has no row until a survey finds the gap; such a
# missing row reads as `unknown`, whose only way on is the kind's first (gap) state.
FIRE_MACHINE: dict[str, tuple[str, ...]] = {
    "unknown": ("not_accepted",), "not_accepted": ("rectifying",), "rectifying": ("accepted",), "accepted": (),
}
POWER_UPGRADE_MACHINE: dict[str, tuple[str, ...]] = {
    "unknown": ("planned",), "planned": ("in_progress",), "in_progress": ("done",), "done": (),
}
TELECOM_MACHINE: dict[str, tuple[str, ...]] = {
    "unknown": ("blocked",), "blocked": ("negotiating",), "negotiating": ("access",), "access": (),
}
MACHINES: dict[str, dict[str, tuple[str, ...]]] = {
    **{f: UTILITY_MACHINE for f in UTILITY_FACILITIES},
    "fire_acceptance": FIRE_MACHINE,
    "power_upgrade": POWER_UPGRADE_MACHINE,
    "telecom_access": TELECOM_MACHINE,
}
# The kind of machine of each facility (the keys of the conditional and acceptance tables below).
KINDS: dict[str, str] = {**{f: "utility" for f in UTILITY_FACILITIES}, "fire_acceptance": "fire",
                         "power_upgrade": "power_upgrade", "telecom_access": "telecom"}
# Position along the path (for "worst" ordering among states of one colour class).
_ORDER: dict[str, int] = {
    "unknown": 0, "not_handed_over": 1, "not_accepted": 1, "planned": 1, "blocked": 1,
    "renovation": 2, "owner_consent": 2, "in_progress": 2, "negotiating": 2, "applied": 3,
    "acceptance": 4, "rectifying": 4, "agreement": 5, "taken_over": 6, "accepted": 6, "done": 6, "access": 6,
}
GAP_STATES = frozenset({"not_handed_over", "not_accepted", "planned", "blocked"})  # red
RECTIFYING_STATES = frozenset({"rectifying"})  # orange; entering it needs an open ledger item with a deadline
FINAL_STATES = frozenset({"taken_over", "accepted", "done", "access"})  # green
# Colour classes, worst first. An unsurveyed row (grey) ranks worse than a finished one: a compound
# is only green when every row is known and finished.
CLASSES = ("open", "rectifying", "progress", "unknown", "done")
ALL_STATES = tuple(dict.fromkeys(s for m in MACHINES.values() for s in m))

# Who may organise an acceptance (`unknown`: the record does not say).
ORGANISERS = ("district_government", "utility", "street", "other")
DISTRICT_GOVERNMENT = "district_government"
# Transitions allowed only under a condition (RULES §2, the plan's own path "应当由区政府组织专业经营单位验收"):
# machine kind -> (from, to) -> the values the request must carry. They are not in allowed_next (which lists the
# unconditional moves) but in conditional_next.
CONDITIONAL: dict[str, dict[tuple[str, str], dict[str, str]]] = {
    "utility": {("not_handed_over", "acceptance"): {"organised_by": DISTRICT_GOVERNMENT}},
}
# The state whose entry opens an acceptance (its organiser known then), and the moves that are an
# acceptance's result: machine kind -> (from, to) -> pass | fail. A machine without an acceptance state (fire)
# records a closed acceptance at the move itself.
ACCEPTANCE_STATE = "acceptance"
ACCEPTANCE_RESULTS: dict[str, dict[tuple[str, str], str]] = {
    "utility": {("acceptance", "agreement"): "pass", ("acceptance", "rectifying"): "fail"},
    "fire": {("rectifying", "accepted"): "pass"},
}


class HandoverRuleError(ValueError):
    """A facility, state or transition that RULES §2 does not allow."""


@dataclass(frozen=True)
class TransitionCheck:
    """The answer to "may `current` move to `target`?"; `allowed` lists the permitted next states."""

    ok: bool
    facility: str
    current: str
    target: str
    allowed: tuple[str, ...]
    error: str | None = None
    missing: tuple[str, ...] = ()  # the conditions a conditional transition lacks (e.g. ("organised_by",))


def machine(facility: str) -> dict[str, tuple[str, ...]]:
    """The transition table of a facility (HandoverRuleError if the facility is unknown)."""
    try:
        return MACHINES[facility]
    except KeyError:
        raise HandoverRuleError(f"unknown facility {facility!r}; choose one of: {', '.join(FACILITIES)}") from None


def states(facility: str) -> tuple[str, ...]:
    """Every state of a facility's machine, `unknown` first."""
    return tuple(machine(facility))


def allowed_next(facility: str, current: str) -> tuple[str, ...]:
    """The states `current` may move to."""
    return machine(facility).get(current, ())


def conditional_next(facility: str, current: str) -> dict[str, dict[str, str]]:
    """The states `current` may move to only under a condition: {state: {field: required value}}."""
    machine(facility)
    return {to: dict(need) for (frm, to), need in CONDITIONAL.get(KINDS[facility], {}).items() if frm == current}


def transition(current: str, target: str, facility: str = "water", **given: str | None) -> TransitionCheck:
    """Check one transition; a rejection names the allowed next states.

    `given` carries the values a conditional transition needs (e.g. organised_by="district_government" for
    not_handed_over → acceptance); without them the transition is refused, `missing` naming the fields.
    """
    table = machine(facility)
    need = conditional_next(facility, current).get(target) if current in table else None
    if need is not None:
        allowed = table.get(current, ())
        missing = tuple(sorted(k for k, v in need.items() if given.get(k) != v))
        if missing:
            wants = ", ".join(f"{k} = {need[k]}" for k in missing)
            return TransitionCheck(False, facility, current, target, allowed,
                                   f"{facility}: {current} → {target} needs {wants}; allowed next: "
                                   f"{', '.join(allowed)}", missing)
        return TransitionCheck(True, facility, current, target, allowed)
    if target not in table:
        allowed = table.get(current, ())
        return TransitionCheck(False, facility, current, target, allowed,
                               f"unknown state {target!r} for {facility}; states: {', '.join(table)}")
    if current not in table:
        return TransitionCheck(False, facility, current, target, (),
                               f"current state {current!r} is not a state of {facility}")
    allowed = table[current]
    if target in allowed:
        return TransitionCheck(True, facility, current, target, allowed)
    nxt = ", ".join(allowed) if allowed else "none (final state)"
    return TransitionCheck(False, facility, current, target, allowed,
                           f"{facility}: {current} → {target} is not allowed; allowed next: {nxt}")


def items_allowed(facility: str, state: str) -> bool:
    """Ledger items attach in every open state of every kind (RULES §2: the ledger starts at the survey):
    not to `unknown` (nothing surveyed yet) nor to a final state."""
    return state in machine(facility) and state != UNKNOWN and state not in FINAL_STATES


def rectifying_missing(state: str, items: Iterable[Mapping[str, Any]]) -> str | None:
    """What entering `state` still lacks (None: nothing): a rectifying state needs at least one open ledger
    item with a deadline — "item" when there is no open item at all, "deadline" when none of them has one.
    `items`: the row's items with the ones given in the same request."""
    if state not in RECTIFYING_STATES:
        return None
    open_items = [i for i in items if i.get("done_date") is None]
    if not open_items:
        return "item"
    if not any(i.get("deadline") is not None for i in open_items):
        return "deadline"
    return None


def acceptance_result(facility: str, current: str, target: str) -> str | None:
    """"pass" or "fail" when moving `current` → `target` is the result of an acceptance, else None."""
    machine(facility)
    return ACCEPTANCE_RESULTS.get(KINDS[facility], {}).get((current, target))


def opens_acceptance(facility: str, current: str, target: str) -> bool:
    """True when the move enters the acceptance state (an acceptance event is opened, its result pending)."""
    return target == ACCEPTANCE_STATE and current != target and ACCEPTANCE_STATE in machine(facility)


def acceptance_step(facility: str, current: str, target: str) -> bool:
    """True when the move opens or closes an acceptance (the moves that may carry organiser, date, participants)."""
    return opens_acceptance(facility, current, target) or acceptance_result(facility, current, target) is not None


def item_overdue(deadline: dt.date | None, done_date: dt.date | None, today: dt.date) -> bool:
    """A ledger item is overdue from the day after its deadline until it is done (due today is not overdue)."""
    return done_date is None and deadline is not None and today > deadline


@dataclass(frozen=True)
class RowStatus:
    """Derived facts about one compound × facility row on a given day."""

    state: str
    overdue: bool
    open_items: int
    overdue_items: int
    deadline: dt.date | None  # the row's deadline, else the earliest open item's
    color_class: str


def row_status(facility: str, state: str, deadline: dt.date | None, items: Iterable[Mapping[str, Any]],
               today: dt.date, settings: HandoverSettings) -> RowStatus:
    """Overdue/open items/colour class of a row; rows in a final state are never overdue."""
    items = list(items)
    open_items = [i for i in items if i.get("done_date") is None]
    final = state in FINAL_STATES
    overdue_items = 0 if final else sum(item_overdue(i.get("deadline"), None, today) for i in open_items)
    row_late = (settings.row_deadline_overdue and not final and state != UNKNOWN
                and deadline is not None and today > deadline)
    overdue = overdue_items > 0 or row_late
    open_deadlines = [i["deadline"] for i in open_items if i.get("deadline") is not None]
    eff = deadline if deadline is not None else (min(open_deadlines) if open_deadlines else None)
    return RowStatus(state, overdue, len(open_items), overdue_items, eff, state_class(state, overdue))


def late_reason(state: str, deadline: dt.date | None, items: Iterable[Mapping[str, Any]], today: dt.date,
                settings: HandoverSettings) -> dict[str, Any] | None:
    """Why a row is overdue (None when it is not): its own deadline passed ({"kind": "deadline", "date", "days"})
    or open ledger items are late ({"kind": "item", "content", "deadline", "days", "count"}: the latest of them,
    and how many) — the words behind "逾期 = 是" even when the row's own deadline lies ahead."""
    if state in FINAL_STATES:
        return None
    late_items = sorted((i for i in items if item_overdue(i.get("deadline"), i.get("done_date"), today)),
                        key=lambda i: (i["deadline"], str(i.get("content") or "")))
    if late_items:
        first = late_items[0]
        return {"kind": "item", "content": first.get("content"), "deadline": first["deadline"],
                "days": (today - first["deadline"]).days, "count": len(late_items)}
    if settings.row_deadline_overdue and state != UNKNOWN and deadline is not None and today > deadline:
        return {"kind": "deadline", "date": deadline, "days": (today - deadline).days}
    return None


def state_class(state: str, overdue: bool = False) -> str:
    """The colour class of RULES §2: open (red), rectifying (orange), progress (yellow), unknown, done."""
    if overdue or state in GAP_STATES:
        return "open"
    if state == UNKNOWN:
        return "unknown"
    if state in FINAL_STATES:
        return "done"
    if state in RECTIFYING_STATES:
        return "rectifying"
    return "progress"


def severity(state: str, overdue: bool = False) -> tuple[int, int]:
    """Sort key, smallest = worst: colour class rank, then how early on its path the state is."""
    return (CLASSES.index(state_class(state, overdue)), _ORDER.get(state, 0))


def worst(statuses: Sequence[RowStatus]) -> RowStatus | None:
    """The worst of several row statuses (None for none)."""
    return min(statuses, key=lambda r: severity(r.state, r.overdue), default=None)


def taken_over_share(states_by_facility: Mapping[str, str]) -> float:
    """Share of the four utilities (water, power, heating, gas) at taken_over; missing = not taken over."""
    return sum(states_by_facility.get(f) == "taken_over" for f in UTILITY_FACILITIES) / len(UTILITY_FACILITIES)


def build_backlog(compounds: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
                  items_by_row: Mapping[Any, Sequence[Mapping[str, Any]]], today: dt.date,
                  settings: HandoverSettings, facilities: Sequence[str] = FACILITIES) -> dict[str, Any]:
    """Open (non-final) rows of the given compounds and facilities, with counts per state/street/facility.

    compounds: {id, name, street_code, street}; rows: {id, compound_id, facility, state, since,
    deadline}; items_by_row: handover id -> ledger items {deadline, done_date}. Missing rows of the
    four utilities read as `unknown` and are listed when settings.list_unsurveyed.
    """
    by_key = {(r["compound_id"], r["facility"]): r for r in rows}
    out: list[dict[str, Any]] = []
    for c in compounds:
        for facility in facilities:
            r = by_key.get((c["id"], facility))
            if r is None:
                if facility not in UTILITY_FACILITIES or not settings.list_unsurveyed:
                    continue
                r = {"id": None, "state": UNKNOWN, "since": None, "deadline": None}
            if r["state"] in FINAL_STATES:
                continue
            st = row_status(facility, r["state"], r.get("deadline"), items_by_row.get(r["id"], ()), today, settings)
            out.append({"compound_id": c["id"], "compound_name": c["name"], "street": c["street"],
                        "street_code": c["street_code"], "facility": facility, "state": r["state"],
                        "since": r["since"], "deadline": st.deadline, "overdue": st.overdue,
                        "open_items": st.open_items, "row_deadline": r.get("deadline"), "version": r.get("version", 0),
                        "late": late_reason(r["state"], r.get("deadline"), items_by_row.get(r["id"], ()), today,
                                            settings) if st.overdue else None})
    out.sort(key=lambda i: (i["street_code"] or "", i["compound_id"], FACILITIES.index(i["facility"])))
    counts = {
        "total": len(out),
        "overdue": sum(i["overdue"] for i in out),
        "by_state": dict(sorted(Counter(i["state"] for i in out).items())),
        "by_street": dict(sorted(Counter(i["street"] for i in out).items())),
        "by_facility": dict(sorted(Counter(i["facility"] for i in out).items())),
    }
    return {"today": today, "items": out, "counts": counts}


def parse_item(text: str) -> dict[str, Any]:
    """A ledger item from "content|unit|YYYY-MM-DD" (unit and date optional); HandoverRuleError if malformed."""
    parts = [p.strip() for p in str(text).split("|")]
    if len(parts) > 3 or not parts[0]:
        raise HandoverRuleError(f"ledger item {text!r}: expected \"content|responsible unit|YYYY-MM-DD\"")
    unit = parts[1] if len(parts) > 1 and parts[1] else None
    deadline = None
    if len(parts) == 3 and parts[2]:
        try:
            deadline = dt.date.fromisoformat(parts[2])
        except ValueError:
            raise HandoverRuleError(f"ledger item {text!r}: deadline {parts[2]!r} is not YYYY-MM-DD") from None
    return {"content": parts[0], "responsible_unit": unit, "deadline": deadline}


# ---------------------------------------------------------------- set-wise (the map's attributes of every compound)
# The same rules over columns: `row_status` of many rows at once (`row_status_columns`, from `item_columns`) and
# `worst` across facilities (`worst_positions`). They must give exactly what the per-record functions above give
# (tests/plugins/test_handover_columns.py compares them); the per-record functions stay the reference.

def item_columns(handover_id: Any, deadline: Any, done_date: Any, today: dt.date) -> pd.DataFrame:
    """Per handover row id (the index): `open_items` (items not done), `overdue_items` (open items past their
    deadline, as `item_overdue`) and `earliest_deadline` (the earliest deadline of its open items, NaT: none)."""
    frame = pd.DataFrame({"handover_id": np.asarray(handover_id, dtype=object),
                          "deadline": _days(deadline), "done": _days(done_date).notna()})
    open_ = frame[~frame["done"]]
    late = open_["deadline"] < pd.Timestamp(today)  # NaT compares False: no deadline is never late
    grouped = open_.assign(late=late).groupby("handover_id", sort=False)
    return pd.DataFrame({"open_items": grouped.size(), "overdue_items": grouped["late"].sum().astype("int64"),
                         "earliest_deadline": grouped["deadline"].min()})


def row_status_columns(state: Any, deadline: Any, items: pd.DataFrame, today: dt.date,
                       settings: HandoverSettings) -> pd.DataFrame:
    """`row_status` of many rows: `state` and `deadline` per row, `items` the rows' `item_columns` in the same order
    (NaN: no items). Columns state, overdue, open_items, overdue_items, deadline (NaT: None), color_class."""
    state = np.asarray(state, dtype=object)
    own = _days(deadline)
    open_items = np.nan_to_num(np.asarray(items["open_items"], dtype=float)).astype("int64")
    final = np.isin(state, list(FINAL_STATES))
    overdue_items = np.where(final, 0, np.nan_to_num(np.asarray(items["overdue_items"], dtype=float))).astype("int64")
    row_late = (bool(settings.row_deadline_overdue) & ~final & (state != UNKNOWN)
                & np.asarray(own < pd.Timestamp(today)))  # NaT (no deadline) compares False
    overdue = (overdue_items > 0) | row_late
    eff = own.where(own.notna(), pd.Series(np.asarray(items["earliest_deadline"], dtype="datetime64[ns]")))
    return pd.DataFrame({"state": state, "overdue": overdue, "open_items": open_items, "overdue_items": overdue_items,
                         "deadline": eff.to_numpy(), "color_class": state_class_columns(state, overdue)})


def state_class_columns(state: Any, overdue: Any) -> np.ndarray:
    """`state_class` of many (state, overdue) pairs."""
    state = np.asarray(state, dtype=object)
    return np.select([np.asarray(overdue, dtype=bool) | np.isin(state, list(GAP_STATES)), state == UNKNOWN,
                      np.isin(state, list(FINAL_STATES)), np.isin(state, list(RECTIFYING_STATES))],
                     ["open", "unknown", "done", "rectifying"], "progress").astype(object)


def severity_columns(state: Any, color_class: Any) -> np.ndarray:
    """`severity` of many rows as one sortable integer (class rank first, then position on the path)."""
    rank = pd.Series(np.asarray(color_class, dtype=object)).map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    order = pd.Series(np.asarray(state, dtype=object)).map(_ORDER).fillna(0).to_numpy()
    return (rank.astype("int64") * (max(_ORDER.values()) + 1) + order.astype("int64"))


def worst_positions(severities: np.ndarray) -> np.ndarray:
    """Per row of a (compounds × facilities) severity matrix (absent facilities: a value above every severity), the
    column of the worst status — the first in facility order among equals, as `worst` over facility-ordered rows."""
    return np.argmin(severities, axis=1)


def _days(values: Any) -> pd.Series:
    """Dates (date, None) as a datetime64 Series (None → NaT)."""
    return pd.Series(pd.to_datetime(pd.Series(np.asarray(values, dtype=object), dtype=object)), dtype="datetime64[ns]")
