"""RULES §1 as pure functions: coverage and owners' organisation KPIs per street and for the district."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from plugins.coverage.settings import CoverageSettings

KPI_FIELDS = ("compounds", "served", "coverage_rate", "households", "served_households",
              "coverage_rate_households", "owners_org", "owners_org_rate", "target_coverage",
              "target_owners_org", "compounds_needed_for_target", "owners_org_needed_for_target",
              # RULES §1: unknown apart — how many are 待核实, and the lower bounds (every unknown proved unserved)
              "known", "unknown", "coverage_rate_lower", "coverage_rate_households_lower", "owners_org_rate_lower")
UNKNOWN_MODE = "unknown"
_EPS = 1e-9  # guards ceil() against binary fractions such as 0.95 × 20 = 18.999999999999996


def served_mask(frame: pd.DataFrame, settings: CoverageSettings) -> pd.Series:
    """True where a compound is professionally served (management_mode in settings.served_modes)."""
    return frame["management_mode"].isin(settings.served_modes)


def mode_known(frame: pd.DataFrame) -> pd.Series:
    """True where a compound's management mode is known (RULES §1: `unknown` is 待核实, not unserved)."""
    return frame["management_mode"] != UNKNOWN_MODE


def owners_org_mask(frame: pd.DataFrame, settings: CoverageSettings) -> pd.Series:
    """True where a compound's organisation counts: `owners_org_counts` (from the RULES §6 records, through the
    owners_org_status hook) when present, else owners_org in settings.owners_org_values."""
    if "owners_org_counts" in frame.columns:
        return frame["owners_org_counts"].fillna(False).astype(bool)
    return frame["owners_org"].isin(settings.owners_org_values)


def owners_org_known(frame: pd.DataFrame) -> pd.Series:
    """True where a compound's organisation status is known (RULES §1: unknown apart)."""
    if "owners_org_known" in frame.columns:
        return frame["owners_org_known"].fillna(False).astype(bool)
    return frame["owners_org"] != "unknown"


def needed_for_target(done: int, total: int, target: float) -> int:
    """How many more compounds must qualify so that done/total reaches target (0 when already reached)."""
    return max(0, math.ceil(target * total - done - _EPS))


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def rate_pair(part: float, known: float, whole: float) -> tuple[float | None, float | None]:
    """RULES §1: (the rate over the known, the lower bound over all — as if every unknown proved not to count)."""
    return _rate(part, known), _rate(part, whole)


def group_kpis(frame: pd.DataFrame, settings: CoverageSettings) -> dict[str, Any]:
    """The KPIs of one set of compounds (columns: management_mode, owners_org, households).

    Rates are over the known (a compound whose management mode / organisation is `unknown` is counted apart,
    in `unknown` / `owners_org_unknown`), each with its lower bound over all (`*_lower`); the distance to a
    target is over the known too (RULES §1).
    """
    served = served_mask(frame, settings)
    known = mode_known(frame)
    org = owners_org_mask(frame, settings)
    households = pd.to_numeric(frame["households"], errors="coerce")
    n, n_served, n_org = len(frame), int(served.sum()), int(org.sum())
    n_known, n_org_known = int(known.sum()), int(owners_org_known(frame).sum())
    hh, hh_served = int(households.fillna(0).sum()), int(households[served].fillna(0).sum())
    hh_known = int(households[known].fillna(0).sum())
    coverage, coverage_lower = rate_pair(n_served, n_known, n)
    coverage_hh, coverage_hh_lower = rate_pair(hh_served, hh_known, hh)
    org_rate, org_rate_lower = rate_pair(n_org, n_org_known, n)
    return {
        "compounds": n,
        "served": n_served,
        "coverage_rate": coverage,
        "households": hh,
        "served_households": hh_served,
        "coverage_rate_households": coverage_hh,
        "owners_org": n_org,
        "owners_org_rate": org_rate,
        "owners_org_unknown": n - n_org_known,
        "target_coverage": settings.target_coverage,
        "target_owners_org": settings.target_owners_org,
        "compounds_needed_for_target": needed_for_target(n_served, n_known, settings.target_coverage),
        "owners_org_needed_for_target": needed_for_target(n_org, n_org_known, settings.target_owners_org),
        "households_unknown": int(households.isna().sum()),
        "households_known_mode": hh_known,  # households of the compounds whose mode is known: the rate's base
        "known": n_known,
        "unknown": n - n_known,
        "coverage_rate_lower": coverage_lower,
        "coverage_rate_households_lower": coverage_hh_lower,
        "owners_org_rate_lower": org_rate_lower,
    }


def coverage_kpis(compounds: pd.DataFrame, streets: Iterable[tuple[str, str]], settings: CoverageSettings,
                  only: Sequence[str] | None = None) -> dict[str, Any]:
    """`{"district": {...}, "streets": [{"code", "name", ...KPI_FIELDS}]}` for compounds with a street_code.

    Every street of `streets` is listed (rates None when it has no compounds), in the given order;
    `only` limits the street list (the district figures stay district-wide).
    """
    district = group_kpis(compounds, settings)
    groups = dict(tuple(compounds.groupby("street_code", sort=False))) if len(compounds) else {}
    empty = compounds.iloc[0:0]
    rows = []
    for code, name in streets:
        if only is not None and code not in only:
            continue
        rows.append({"code": code, "name": name, **group_kpis(groups.get(code, empty), settings)})
    return {"district": district, "streets": rows}


# ------------------------------------------------------------------------------------------ units (RULES §1)

UNIT_FIELDS = ("units", "known_units", "unknown", "lone_buildings", "served_units", "coverage_rate_units",
               "coverage_rate_units_lower", "managed_units", "managed_rate", "needed_units",
               "served_verified", "served_unverified", "owners_org_recorded", "owners_org_declared")
LONE_BUILDING_MODE = "none"  # [Q] RULES §1: outside any management area there is no property service
UNMANAGED_MODES = ("none", UNKNOWN_MODE)  # RULES §1: managed = any mode except none and unknown


def unit_key(kind: str, ident: str) -> str:
    """The key of a KPI unit: `compound:<id>` or `building:<id>` (a lone building, 单体楼)."""
    return f"{kind}:{ident}"


def units_frame(compounds: pd.DataFrame, lone_buildings: pd.DataFrame) -> pd.DataFrame:
    """The KPI units (RULES §1): every compound, and every residential building inside no compound.

    `compounds`: id, street_code, management_mode, households[, verified]; `lone_buildings`: id, street_code,
    households[, management_mode] — a lone building's mode is `none` unless its own record says otherwise.
    A building bundled into a host (accepted bundle) belongs to that compound and is not in `lone_buildings`.
    Columns: key, kind, id, street_code, management_mode, households, verified (True/False; None = no evidence).
    """
    c = pd.DataFrame({"key": [unit_key("compound", str(i)) for i in compounds["id"]], "kind": "compound",
                      "id": compounds["id"].astype(str).to_numpy(), "street_code": compounds["street_code"].to_numpy(),
                      "management_mode": compounds["management_mode"].to_numpy(),
                      "households": compounds["households"].to_numpy(),
                      "verified": compounds["verified"].to_numpy() if "verified" in compounds else None})
    modes = (lone_buildings["management_mode"].fillna(LONE_BUILDING_MODE).to_numpy()
             if "management_mode" in lone_buildings else LONE_BUILDING_MODE)
    b = pd.DataFrame({"key": [unit_key("building", str(i)) for i in lone_buildings["id"]], "kind": "building",
                      "id": lone_buildings["id"].astype(str).to_numpy(),
                      "street_code": lone_buildings["street_code"].to_numpy(), "management_mode": modes,
                      "households": lone_buildings["households"].to_numpy(), "verified": None})
    parts = [p for p in (c, b) if len(p)]
    if not parts:
        return c.astype(object)
    return pd.concat(parts, ignore_index=True).astype({"verified": object})


def unit_kpis(units: pd.DataFrame, settings: CoverageSettings, orgs: pd.DataFrame | None = None,
              evidence: bool = True) -> dict[str, Any]:
    """The unit KPIs of one set of units (RULES §1): rates over the known units, the lower bound over all units,
    the managed rate, the distance to target in units, and the evidence split of the served.

    `verified` (per unit: True an active contract) gives served_verified / served_unverified — both None when
    `evidence` is False (no plugin keeps contracts: nothing can be verified, and the KPI says so); `orgs` (compounds: owners_org_counts,
    owners_org_declared) gives the organisations recorded with dates and members vs only declared by a ledger.
    """
    served = units["management_mode"].isin(settings.served_modes)
    known = units["management_mode"] != UNKNOWN_MODE
    managed = ~units["management_mode"].isin(UNMANAGED_MODES)
    n, n_known, n_served, n_managed = len(units), int(known.sum()), int(served.sum()), int(managed.sum())
    rate, lower = rate_pair(n_served, n_known, n)
    verified = units["verified"].map(lambda v: v is True) if "verified" in units else served & False
    n_verified = int((served & verified.astype(bool)).sum())
    recorded = declared = None
    if orgs is not None and "owners_org_counts" in orgs.columns:
        counts = orgs["owners_org_counts"].fillna(False).astype(bool)
        decl = orgs["owners_org_declared"].fillna(False).astype(bool) if "owners_org_declared" in orgs else counts & False
        recorded, declared = int((counts & ~decl).sum()), int((counts & decl).sum())
    return {
        "units": n,
        "known_units": n_known,
        "unknown": n - n_known,
        "lone_buildings": int((units["kind"] == "building").sum()),
        "served_units": n_served,
        "coverage_rate_units": rate,
        "coverage_rate_units_lower": lower,
        "managed_units": n_managed,
        "managed_rate": _rate(n_managed, n_known),
        "needed_units": needed_for_target(n_served, n_known, settings.target_coverage),
        # RULES §1 evidence: served "verified" only with an active contract (§7); the rest shown as unverified
        "served_verified": n_verified if evidence else None,
        "served_unverified": n_served - n_verified if evidence else None,
        "owners_org_recorded": recorded,
        "owners_org_declared": declared,
    }


def with_unit_kpis(report: dict[str, Any], units: pd.DataFrame, settings: CoverageSettings,
                   orgs: pd.DataFrame | None = None, evidence: bool = True) -> dict[str, Any]:
    """The `coverage_kpis` document with the unit KPIs added to the district and to each street row."""
    empty_orgs = orgs.iloc[0:0] if orgs is not None else None
    org_groups = dict(tuple(orgs.groupby("street_code", sort=False))) if orgs is not None and len(orgs) else {}
    groups = dict(tuple(units.groupby("street_code", sort=False))) if len(units) else {}
    empty = units.iloc[0:0]
    report["district"].update(unit_kpis(units, settings, orgs, evidence))
    for row in report["streets"]:
        row.update(unit_kpis(groups.get(row["code"], empty), settings, org_groups.get(row["code"], empty_orgs),
                             evidence))
    return report
