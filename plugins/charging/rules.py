"""RULES §3: EV charging-pile eligibility of one garage under GB/T 51313-2018 and the plan's exception.

Pure functions over plain dict records: `validate_garage` lists what is wrong with a record,
`evaluate_garage` applies rules R1…R10 (first match wins) and adds flags F1…F3.

Decision order, best → worst (`DECISION_ORDER`), used for a compound's best/worst garage and the
map colours. It ranks how much has to change before an owner can get a private pile in the garage:
  ELIGIBLE               nothing — install;
  ELIGIBLE_BY_EXCEPTION  install under the plan's existing-garage exception (paperwork to keep);
  NEEDS_FIRE_UNIT        one known construction measure (a separate fire unit ≤ 1000 m²);
  PENDING_INSPECTION     facts missing or facilities to repair — the outcome is still open;
  NOT_RECOMMENDED        the standard advises against this floor (B4 or deeper);
  NOT_ELIGIBLE_PRIVATE   no private pile on this space at all (public pile only);
  INELIGIBLE             the standard forbids it (§6.1.6) or the exception fails.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geoplatform.labels import LABELS
from geoplatform.models import (
    FIRE_FACILITY_FIELDS,
    FIRE_FACILITY_STATES,
    GARAGE_TYPES,
    MANAGEMENT_MODES,
    SPACE_RIGHTS,
)
from plugins.charging.messages import FIELD_LABELS, FLAG_NOTES, REASONS, WORDS
from plugins.charging.settings import RESTRICTED_GARAGE_TYPES, ChargingSettings

RULE_IDS = tuple(f"R{i}" for i in range(1, 11))
DECISION_ORDER = ("ELIGIBLE", "ELIGIBLE_BY_EXCEPTION", "NEEDS_FIRE_UNIT", "PENDING_INSPECTION",
                  "NOT_RECOMMENDED", "NOT_ELIGIBLE_PRIVATE", "INELIGIBLE")
RULE_DECISIONS = {
    "R1": "NOT_ELIGIBLE_PRIVATE", "R2": "ELIGIBLE", "R3": "INELIGIBLE", "R4": "PENDING_INSPECTION",
    "R5": "NOT_RECOMMENDED", "R6": "ELIGIBLE_BY_EXCEPTION", "R7": "INELIGIBLE", "R8": "PENDING_INSPECTION",
    "R9": "NEEDS_FIRE_UNIT", "R10": "ELIGIBLE",
}
FLAGS = ("F1_PROPERTY_MUST_COOPERATE", "F2_CAPACITY_EXPANSION", "F3_COMMUNITY_ASSISTS")
# [Q] the plan: a private pile needs the owner's own space or a lease of at least one year
PRIVATE_PILE_RIGHTS = ("owned", "lease_1y_plus")
# [Q] GB/T 51313-2018 §6.1.6 covers underground, semi-underground and high-rise garages only
OPEN_TYPES = ("open_lot", "above_ground")
RESTRICTED_TYPES = RESTRICTED_GARAGE_TYPES

ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "garage_type": GARAGE_TYPES,
    "space_right": SPACE_RIGHTS,
    "management_mode": MANAGEMENT_MODES,
    **{f: FIRE_FACILITY_STATES for f in FIRE_FACILITY_FIELDS},
}
# Required: present and not null. Nullable fields may also be left out (read as null).
REQUIRED_FIELDS = ("id", "garage_type", "lowest_charging_floor", "completion_date", *FIRE_FACILITY_FIELDS,
                   "fire_compartment_area_m2", "space_right", "management_mode")
NULLABLE_FIELDS = ("fire_unit_area_m2", "meets_other_clauses", "capacity_ok")


@dataclass(frozen=True)
class Reason:
    """One explanation of a decision, in Chinese and English, with a stable code."""

    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        """{code, zh, en}."""
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Decision:
    """The outcome for one garage: decision, the rule that decided, reasons and flags."""

    decision: str
    rule: str
    reasons: tuple[Reason, ...]
    flags: tuple[str, ...]

    def as_dict(self, garage_id: Any = None) -> dict[str, Any]:
        """{"id","decision","rule","reasons","flags"} as JSON-friendly values."""
        return {"id": garage_id, "decision": self.decision, "rule": self.rule,
                "reasons": [r.as_dict() for r in self.reasons], "flags": list(self.flags)}


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of one record."""

    record: str
    field: str
    message: str

    def __str__(self) -> str:
        zh = FIELD_LABELS.get(self.field)
        return f"{self.record}, field {self.field}{f' ({zh})' if zh else ''}: {self.message}"


class InvalidGarage(ValueError):
    """Raised by evaluate_garage for a record that does not validate."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# ---------------------------------------------------------------- validation

def record_name(record: Any, index: int | None = None) -> str:
    """How a record is named in messages: its position (1-based) and id."""
    gid = record.get("id") if isinstance(record, Mapping) else None
    parts = [f"record {index + 1}"] if index is not None else []
    if gid is not None:
        parts.append(f"id {gid}" if not parts else f"(id {gid})")
    return " ".join(parts) or "record"


def _allowed(field: str, allowed: tuple[str, ...]) -> str:
    enum = "fire_facility_state" if field in FIRE_FACILITY_FIELDS else field
    return ", ".join(f"{v} {LABELS.get(enum, {}).get(v, ('',))[0]}".rstrip() for v in allowed)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _parse_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def validate_garage(record: Any, index: int | None = None) -> list[Problem]:
    """Every problem of one garage record (unknown enum, missing field, negative area, bad date, wrong type)."""
    name = record_name(record, index)
    if not isinstance(record, Mapping):
        return [Problem(name, "(record)", f"expected a JSON object, got {type(record).__name__}")]
    out: list[Problem] = []
    for f in REQUIRED_FIELDS:
        if f not in record:
            out.append(Problem(name, f, "missing required field"))
        elif record[f] is None:
            out.append(Problem(name, f, "required field is null"))
    gid = record.get("id")
    if gid is not None and (isinstance(gid, bool) or not isinstance(gid, str | int) or gid == ""):
        out.append(Problem(name, "id", f"expected non-empty text or an integer, got {gid!r}"))
    for f, allowed in ENUM_FIELDS.items():
        v = record.get(f)
        if v is None:
            continue
        if not isinstance(v, str):
            out.append(Problem(name, f, f"expected text, got {v!r}; allowed: {_allowed(f, allowed)}"))
        elif v not in allowed:
            out.append(Problem(name, f, f"unknown value {v!r}; allowed: {_allowed(f, allowed)}"))
    floor = record.get("lowest_charging_floor")
    if floor is not None and not (_is_number(floor) and math.isfinite(floor) and float(floor).is_integer()):
        out.append(Problem(name, "lowest_charging_floor", f"expected a whole number (-1 = B1), got {floor!r}"))
    date = record.get("completion_date")
    if date is not None and _parse_date(date) is None:
        out.append(Problem(name, "completion_date", f"unparseable date {date!r}; expected YYYY-MM-DD"))
    for f in ("fire_compartment_area_m2", "fire_unit_area_m2"):
        v = record.get(f)
        if v is None:
            continue
        if not _is_number(v) or not math.isfinite(v):
            out.append(Problem(name, f, f"expected a number of m², got {v!r}"))
        elif v < 0:
            out.append(Problem(name, f, f"negative area {v!r}"))
    for f in ("meets_other_clauses", "capacity_ok"):
        v = record.get(f)
        if v is not None and not isinstance(v, bool):
            out.append(Problem(name, f, f"expected true, false or null, got {v!r}"))
    return out


def validate_records(records: Any) -> list[Problem]:
    """Problems of a whole list of records, duplicate ids included."""
    if not isinstance(records, list):
        return [Problem("input", "(document)", f"expected a JSON list of garage records, got {type(records).__name__}")]
    out: list[Problem] = []
    seen: dict[Any, int] = {}
    for i, rec in enumerate(records):
        out.extend(validate_garage(rec, i))
        gid = rec.get("id") if isinstance(rec, Mapping) else None
        if isinstance(gid, str | int) and not isinstance(gid, bool):
            if gid in seen:
                out.append(Problem(record_name(rec, i), "id", f"duplicate id, also record {seen[gid] + 1}"))
            else:
                seen[gid] = i
    return out


def normalise(record: Mapping[str, Any]) -> dict[str, Any]:
    """A valid record with typed values: date parsed, areas float, floor int, nullable fields present."""
    r = dict(record)
    r["completion_date"] = _parse_date(r["completion_date"])
    r["lowest_charging_floor"] = int(r["lowest_charging_floor"])
    r["fire_compartment_area_m2"] = float(r["fire_compartment_area_m2"])
    for f in NULLABLE_FIELDS:
        r.setdefault(f, None)
    if r["fire_unit_area_m2"] is not None:
        r["fire_unit_area_m2"] = float(r["fire_unit_area_m2"])
    return r


# ---------------------------------------------------------------- texts

@dataclass(frozen=True)
class _Bi:
    """A parameter with a Chinese and an English form."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _label(enum: str, value: str) -> _Bi:
    zh, en = LABELS.get(enum, {}).get(value, (value, value))
    return _Bi(zh, en)


def _word(key: str, **kw: Any) -> _Bi:
    zh, en = WORDS[key]
    return _Bi(zh.format(**{k: v.zh if isinstance(v, _Bi) else v for k, v in kw.items()}),
               en.format(**{k: v.en if isinstance(v, _Bi) else v for k, v in kw.items()}))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def _floor(n: int) -> _Bi:
    if n == 0:
        return _word("ground")
    return _word("above", n=n) if n > 0 else _word("below", n=-n)


def _join(items: list[_Bi]) -> _Bi:
    return _Bi(WORDS["sep"][0].join(i.zh for i in items), WORDS["sep"][1].join(i.en for i in items))


def _fmt(template: tuple[str, str], params: dict[str, Any]) -> tuple[str, str]:
    def one(text: str, lang: str) -> str:
        return text.format(**{k: v.get(lang) if isinstance(v, _Bi) else v for k, v in params.items()})

    return one(template[0], "zh"), one(template[1], "en")


def _reason(code: str, **params: Any) -> Reason:
    zh, en = _fmt(REASONS[code], params)
    return Reason(code, zh, en)


def flag_note(flag: str, record: Mapping[str, Any]) -> Reason:
    """The explanation of one flag for this record (code, zh, en)."""
    zh, en = _fmt(FLAG_NOTES[flag], {"management_mode": _label("management_mode", str(record.get("management_mode")))})
    return Reason(flag, zh, en)


# ---------------------------------------------------------------- rules

def gb50067_limit(record: Mapping[str, Any], settings: ChargingSettings) -> float:
    """GB 50067 fire-compartment limit of the garage's type (setting per type), multiplied by the sprinkler
    factor when the sprinklers are `working` (the only state that counts)."""
    base = settings.gb50067_limits_m2[record["garage_type"]]
    if record.get("sprinklers") == "working":
        return base * settings.gb50067_sprinkler_factor
    return base


def _limit_basis(record: Mapping[str, Any], s: ChargingSettings) -> _Bi:
    gtype = _label("garage_type", record["garage_type"])
    base = _num(s.gb50067_limits_m2[record["garage_type"]])
    if record.get("sprinklers") == "working" and s.gb50067_sprinkler_factor != 1:
        return _word("limit_sprinklered", base=base, garage_type=gtype, factor=_num(s.gb50067_sprinkler_factor))
    return _word("limit_plain", base=base, garage_type=gtype)


def _facility_list(record: Mapping[str, Any], states: tuple[str, ...], with_state: bool) -> list[_Bi]:
    out = []
    for f in FIRE_FACILITY_FIELDS:
        if record[f] in states:
            name = _label("fire_facility", f)
            if with_state:
                st = _label("fire_facility_state", record[f])
                name = _Bi(f"{name.zh}（{st.zh}）", f"{name.en} ({st.en})")
            out.append(name)
    return out


def _match(r: dict[str, Any], s: ChargingSettings) -> tuple[str, list[Reason]]:
    """The first rule of RULES §3 that matches, with its reasons."""
    gtype = _label("garage_type", r["garage_type"])
    if r["space_right"] not in PRIVATE_PILE_RIGHTS:
        return "R1", [_reason("R1.space_right", space_right=_label("space_right", r["space_right"])),
                      _reason("R1.public_pile")]
    if r["garage_type"] in OPEN_TYPES:
        return "R2", [_reason("R2.not_covered", garage_type=gtype), _reason("R2.advice_6_1_5")]
    absent = _facility_list(r, ("absent",), with_state=False)
    if r["garage_type"] in RESTRICTED_TYPES and absent:
        return "R3", [_reason("R3.absent", garage_type=gtype, facilities=_join(absent)), _reason("R3.remedy")]
    not_working = _facility_list(r, ("faulty", "unknown"), with_state=True)
    if not_working:
        return "R4", [_reason("R4.not_working", facilities=_join(not_working))]
    floor = r["lowest_charging_floor"]
    if floor <= s.lowest_floor_limit:
        return "R5", [_reason("R5.too_deep", floor=_floor(floor), limit_floor=_floor(s.lowest_floor_limit))]
    area = r["fire_compartment_area_m2"]
    big = area > s.compartment_threshold_m2
    existing = r["completion_date"] < s.standard_date
    limit = gb50067_limit(r, s)
    within = area <= limit
    meets = r["meets_other_clauses"]
    excepted = r["garage_type"] in s.exception_garage_types
    p = {"area": _num(area), "threshold": _num(s.compartment_threshold_m2), "limit": _num(limit),
         "limit_basis": _limit_basis(r, s), "standard_date": s.standard_date.isoformat(),
         "completion_date": r["completion_date"].isoformat(), "garage_type": gtype, "floor": _floor(floor),
         "unit_max": _num(s.fire_unit_max_m2)}
    if big and existing and excepted and meets is True and within:
        return "R6", [_reason("R6.exception", **p)]
    if big and existing and (not excepted or meets is False or not within):
        reasons = [] if excepted else [_reason("R7.type_excluded", **p)]
        reasons += [_reason("R7.other_clauses", **p)] if meets is False else []
        reasons += [] if within else [_reason("R7.over_limit", **p)]
        return "R7", reasons
    if big and existing and meets is None:
        return "R8", [_reason("R8.unchecked", **p)]
    unit = r["fire_unit_area_m2"]
    if big and not existing and (unit is None or unit > s.fire_unit_max_m2):
        unit_text = _word("unit_none") if unit is None else _word("unit_big", unit=_num(unit), unit_max=p["unit_max"])
        return "R9", [_reason("R9.fire_unit", unit_text=unit_text, **p)]
    if not big:
        return "R10", [_reason("R10.small_compartment", **p)]
    return "R10", [_reason("R10.fire_unit_ok", unit=_num(unit), **p)]


def flags_for(record: Mapping[str, Any], settings: ChargingSettings) -> tuple[str, ...]:
    """Flags F1…F3 of a (valid) record; they do not depend on the decision (F3 not for a mode unknown, RULES §1)."""
    professional = record["management_mode"] in settings.professional_modes
    capacity = record.get("capacity_ok")
    out = []
    if professional and capacity is True:
        out.append("F1_PROPERTY_MUST_COOPERATE")
    if capacity is False:
        out.append("F2_CAPACITY_EXPANSION")
    if not professional and record["management_mode"] != "unknown":  # 待核实 is not "no professional service"
        out.append("F3_COMMUNITY_ASSISTS")
    return tuple(out)


def evaluate_garage(record: Mapping[str, Any], settings: ChargingSettings | None = None) -> Decision:
    """Apply RULES §3 to one garage record (InvalidGarage if it does not validate)."""
    settings = settings or ChargingSettings()
    problems = validate_garage(record)
    if problems:
        raise InvalidGarage(problems)
    r = normalise(record)
    rule, reasons = _match(r, settings)
    return Decision(RULE_DECISIONS[rule], rule, tuple(reasons), flags_for(r, settings))


# ---------------------------------------------------------------- aggregation

def decision_rank(decision: str) -> int:
    """Position in DECISION_ORDER (0 = best)."""
    return DECISION_ORDER.index(decision)


def summarise_decisions(decisions: Iterable[str]) -> dict[str, Any]:
    """Best and worst decision and counts per decision (every decision present, zero included)."""
    ds = list(decisions)
    counts = {d: 0 for d in DECISION_ORDER}
    for d in ds:
        counts[d] += 1
    ranked = sorted(ds, key=decision_rank)
    return {"garages": len(ds), "best": ranked[0] if ranked else None, "worst": ranked[-1] if ranked else None,
            "counts": counts}


# ---------------------------------------------------------------- set-wise (the map's attributes of every garage)
# The same rules over columns (pandas/numpy), for many stored garages at once: `certainly_valid` says which rows
# `validate_garage` passes (judged on the values' types too: a row it is not sure of goes to the per-record
# functions), `decide_columns` gives their rule, decision and reasons. They must give exactly what
# `evaluate_garage` gives (tests/plugins/test_charging_columns.py compares them); the per-record functions stay
# the reference.

def certainly_valid(frame: pd.DataFrame) -> np.ndarray:
    """Per row of `frame` (a column per record field): True when `validate_garage` surely finds nothing wrong —
    every required field there and not null, enums known, the floor a Python int, the completion date a date,
    areas finite non-negative numbers, the optional yes/no fields bool or null. False rows may still be valid."""
    n = len(frame)
    if any(f not in frame for f in (*REQUIRED_FIELDS, *NULLABLE_FIELDS)):
        return np.zeros(n, dtype=bool)

    def typed(col: str, *allowed: type) -> np.ndarray:
        """Rows whose value's type is exactly one of `allowed` (bool is not an int here)."""
        return np.array([type(v) in allowed for v in frame[col].to_numpy(dtype=object)], dtype=bool)

    ok = np.ones(n, dtype=bool)
    for f in REQUIRED_FIELDS:
        ok &= np.array([v is not None for v in frame[f].to_numpy(dtype=object)], dtype=bool)
    ok &= typed("id", str, int) & (frame["id"].to_numpy(dtype=object) != "")
    for f, allowed in ENUM_FIELDS.items():
        ok &= typed(f, str) & _isin(frame[f].to_numpy(dtype=object), list(allowed))
    ok &= typed("lowest_charging_floor", int)
    ok &= typed("completion_date", dt.date)
    for f in ("fire_compartment_area_m2", "fire_unit_area_m2"):
        number = typed(f, float, int)
        values = np.where(number, frame[f].to_numpy(dtype=object), 0.0).astype(float)
        ok &= (number & np.isfinite(values) & (values >= 0)) | (typed(f, type(None)) & (f == "fire_unit_area_m2"))
    for f in ("meets_other_clauses", "capacity_ok"):
        ok &= typed(f, bool, type(None))
    return ok


def decide_columns(frame: pd.DataFrame, settings: ChargingSettings) -> pd.DataFrame:
    """`evaluate_garage` of many rows that `certainly_valid` passes: columns rule, decision, and the reasons' texts
    joined as the garage line shows them (`reasons_zh`: one after the other; `reasons_en`: by a space)."""
    s = settings
    n = len(frame)
    col = {f: frame[f].to_numpy(dtype=object) for f in frame.columns}
    gt, sr = col["garage_type"], col["space_right"]
    fire = {f: col[f] for f in FIRE_FACILITY_FIELDS}
    floor = col["lowest_charging_floor"].astype("int64")
    area = col["fire_compartment_area_m2"].astype(float)
    done = col["completion_date"]
    meets, unit = col["meets_other_clauses"], col["fire_unit_area_m2"]
    absent = np.zeros(n, dtype=bool)
    not_working = np.zeros(n, dtype=bool)
    for v in fire.values():
        absent |= v == "absent"
        not_working |= _isin(v, ["faulty", "unknown"])
    restricted = _isin(gt, list(RESTRICTED_TYPES))
    big = area > s.compartment_threshold_m2
    existing = np.array([d < s.standard_date for d in done], dtype=bool)
    sprinklered = fire["sprinklers"] == "working"
    base = np.array([s.gb50067_limits_m2.get(t, np.nan) for t in gt], dtype=float)
    limit = np.where(sprinklered, base * s.gb50067_sprinkler_factor, base)
    within = area <= limit
    yes = np.array([m is True for m in meets], dtype=bool)
    no = np.array([m is False for m in meets], dtype=bool)
    unknown = np.array([m is None for m in meets], dtype=bool)
    excepted = _isin(gt, list(s.exception_garage_types))
    no_unit = np.array([u is None for u in unit], dtype=bool)
    unit_big = ~no_unit & (np.where(no_unit, 0.0, unit).astype(float) > s.fire_unit_max_m2)
    old_big = big & existing
    conditions = [~_isin(sr, list(PRIVATE_PILE_RIGHTS)), _isin(gt, list(OPEN_TYPES)), restricted & absent,
                  not_working, floor <= s.lowest_floor_limit, old_big & excepted & yes & within,
                  old_big & (~excepted | no | ~within), old_big & unknown, big & ~existing & (no_unit | unit_big)]
    rule = np.select(conditions, list(RULE_IDS[:9]), "R10").astype(object)
    zh, en = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    masks = {r: rule == r for r in RULE_IDS}

    def add(mask: np.ndarray, code: str, **params: Any) -> None:
        """Append reason `code` to the rows of `mask` (params: str, _Bi, or per-row arrays of those)."""
        if not mask.any():
            return
        for lang, out in (("zh", zh), ("en", en)):
            text = _format_columns(REASONS[code][0 if lang == "zh" else 1],
                                   {k: _lang(v, lang, mask) for k, v in params.items()}, int(mask.sum()))
            sep = "" if lang == "zh" else " "
            out[mask] = np.where(out[mask] == "", text, out[mask] + sep + text)

    gtype = _per_unique(gt, lambda v: _label("garage_type", v))
    add(masks["R1"], "R1.space_right", space_right=_per_unique(sr, lambda v: _label("space_right", v)))
    add(masks["R1"], "R1.public_pile")
    add(masks["R2"], "R2.not_covered", garage_type=gtype)
    add(masks["R2"], "R2.advice_6_1_5")
    add(masks["R3"], "R3.absent", garage_type=gtype, facilities=_facility_columns(fire, ("absent",), False))
    add(masks["R3"], "R3.remedy")
    add(masks["R4"], "R4.not_working", facilities=_facility_columns(fire, ("faulty", "unknown"), True))
    floors = _per_unique(floor, lambda v: _floor(int(v)))
    add(masks["R5"], "R5.too_deep", floor=floors, limit_floor=_floor(s.lowest_floor_limit))
    late = masks["R6"] | masks["R7"] | masks["R8"] | masks["R9"] | masks["R10"]
    keys = _tuples(gt, sprinklered)
    p = {"area": _per_unique(area, _num), "threshold": _num(s.compartment_threshold_m2),
         "limit": np.where(late, _per_unique(np.where(late, limit, 0.0), _num), ""),
         "limit_basis": _per_unique(np.where(late, keys, None), lambda k: _basis(k, s)),
         "standard_date": s.standard_date.isoformat(),
         "completion_date": _per_unique(done, lambda d: d.isoformat()), "garage_type": gtype, "floor": floors,
         "unit_max": _num(s.fire_unit_max_m2)}
    add(masks["R6"], "R6.exception", **p)
    add(masks["R7"] & ~excepted, "R7.type_excluded", **p)
    add(masks["R7"] & no, "R7.other_clauses", **p)
    add(masks["R7"] & ~within, "R7.over_limit", **p)
    add(masks["R8"], "R8.unchecked", **p)
    unit_num = _per_unique(np.where(no_unit, None, unit), lambda u: "" if u is None else _num(float(u)))
    unit_text = _per_unique(unit_num, lambda u: _word("unit_none") if u == "" else
                            _word("unit_big", unit=u, unit_max=p["unit_max"]))
    add(masks["R9"], "R9.fire_unit", unit_text=unit_text, **p)
    add(masks["R10"] & ~big, "R10.small_compartment", **p)
    add(masks["R10"] & big, "R10.fire_unit_ok", unit=unit_num, **p)
    decision = pd.Series(rule, dtype=object).map(RULE_DECISIONS).to_numpy(dtype=object)
    return pd.DataFrame({"rule": rule, "decision": decision, "reasons_zh": zh, "reasons_en": en}, index=frame.index,
                        dtype=object)


def _basis(key: Any, s: ChargingSettings) -> _Bi:
    if key is None:
        return _Bi("", "")
    gtype, working = key
    return _limit_basis({"garage_type": gtype, "sprinklers": "working" if working else None}, s)


def _per_unique(values: Any, fn: Any) -> np.ndarray:
    """fn of every value, called once per distinct value (an object array; None and NaN are given as None)."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object), dtype=object))
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:] = [*(fn(u) for u in uniques), fn(None) if (codes < 0).any() else None]
    return results[codes]  # -1 (missing) takes the last


def _lang(value: Any, lang: str, mask: np.ndarray) -> Any:
    """A parameter in one language, for the rows of `mask`."""
    if isinstance(value, np.ndarray):
        picked = value[mask]
        return np.array([v.get(lang) if isinstance(v, _Bi) else v for v in picked], dtype=object)
    return value.get(lang) if isinstance(value, _Bi) else value


def _format_columns(template: str, params: dict[str, Any], n: int) -> np.ndarray:
    """`template.format(**params)` for n rows at once (params: a str, or an object array of n strings)."""
    import string

    out = np.full(n, "", dtype=object)
    for literal, name, spec, conversion in string.Formatter().parse(template):
        out = out + literal if literal else out
        if name is not None:
            if spec or conversion:
                raise ValueError(f"format spec in a charging message: {template!r}")
            out = out + params[name]
    return out


def _facility_columns(fire: dict[str, np.ndarray], states: tuple[str, ...], with_state: bool) -> np.ndarray:
    """`_join(_facility_list(...))` per row, as _Bi objects (one per distinct combination of states)."""
    keys = _tuples(*fire.values())
    if not len(keys):
        return keys
    return _per_unique(keys, lambda c: _join(_facility_list(
        dict(zip(FIRE_FACILITY_FIELDS, c, strict=True)), states, with_state)))


def _isin(values: Any, allowed: Any) -> np.ndarray:
    """Elementwise `value in allowed` over objects (None and mixed types allowed)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object).isin(list(allowed)).to_numpy(dtype=bool)


def _tuples(*columns: Any) -> np.ndarray:
    """A 1-d object array of the rows' tuples."""
    return pd.Series(list(zip(*columns, strict=True)), dtype=object).to_numpy(dtype=object)
