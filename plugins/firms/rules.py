"""RULES §7 as pure functions over plain records: credit, the gate, contract findings, disclosure, ranking.

No database, no Flask, no globals: `service.py` reads the records and calls these; tests call them with
records built in code. Dates are judged "as of" `today`. Every threshold comes from `FirmsSettings`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geoplatform.exchange import CreditEvent, FirmEligibility
from plugins.firms.settings import PERIOD, FirmsSettings

FILINGS = ("selection", "area", "contract", "acceptance")  # 选聘 / 物业管理区域 / 物业服务合同 / 承接查验 备案
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
# finding codes, most urgent first within a compound (the JSON order of `firms check`)
FINDING_CODES = ("firm_blacklisted", "contract_expired", "contract_expiring_30", "contract_expiring_90",
                 "professional_without_contract", "company_missing", "filing_missing", "disclosure_missing")
# the firm_status layer's categories, most serious first (the first that applies wins)
FIRM_STATUSES = ("blacklisted", "ineligible", "bad_list", "contract_unfiled", "expiring", "good_list", "ok")
DISCLOSURE_STATUSES = ("missing", "pending", "compliant", "not_served")


# ------------------------------------------------------------------------------------------ records

@dataclass(frozen=True)
class Firm:
    """A registered firm as the gate needs it."""

    name: str
    filed: bool | None  # filed on the city platform; None = not known
    state_owned: bool = False


@dataclass(frozen=True)
class Contract:
    """A service contract and the days its four filings were made (None: not filed)."""

    id: str
    compound_id: str
    company: str
    start: dt.date | None
    end: dt.date | None
    filings: dict[str, dt.date | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CompoundRef:
    """What the rules read of a compound."""

    id: str
    management_mode: str
    company: str | None = None
    street_code: str | None = None


@dataclass(frozen=True)
class Finding:
    """One finding of `firms check`; `as_dict` keeps only the keys that apply (DESIGN's contract)."""

    code: str
    compound_id: str | None = None
    company: str | None = None
    contract_id: str | None = None
    period: str | None = None
    filing: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """{"code", and whichever of compound_id, company, contract_id, period, filing apply}."""
        out: dict[str, Any] = {"code": self.code}
        for key in ("compound_id", "company", "contract_id", "period", "filing"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def sort_key(self) -> tuple[Any, ...]:
        """Compound, then urgency, then contract / filing / period."""
        return (self.compound_id or "", self.company or "", FINDING_CODES.index(self.code)
                if self.code in FINDING_CODES else len(FINDING_CODES), self.contract_id or "",
                FILINGS.index(self.filing) if self.filing in FILINGS else -1, self.period or "")


# ------------------------------------------------------------------------------------------ credit

@dataclass(frozen=True)
class CreditState:
    """A firm's credit as of a day, from its events in force."""

    company: str
    grade: str | None = None
    graded_on: dt.date | None = None
    blacklisted: bool = False
    blacklisted_on: dt.date | None = None
    listed: str | None = None  # good_list | bad_list: the latest list entry in force
    listed_ref: str | None = None  # its quarter
    events: tuple[CreditEvent, ...] = ()  # in force, newest first


def in_force(event: CreditEvent, today: dt.date) -> bool:
    """Dated on or before `today` and not yet expired (`expires_on` is the first day it no longer counts)."""
    return event.on <= today and (event.expires_on is None or today < event.expires_on)


def credit_state(company: str, events: Iterable[CreditEvent], today: dt.date, settings: FirmsSettings) -> CreditState:
    """The grade (latest grade event on the scale), blacklisting (latest blacklisted / lifted) and list entry."""
    live = [e for e in events if e.company == company and in_force(e, today)]
    ordered = sorted(enumerate(live), key=lambda p: (p[1].on, p[0]), reverse=True)  # newest first, stable
    newest = [e for _, e in ordered]
    grade = next((e for e in newest if e.kind == "grade" and e.grade in settings.grade_scale), None)
    black = next((e for e in newest if e.kind in ("blacklisted", "blacklist_lifted")), None)
    listed = next((e for e in newest if e.kind in ("good_list", "bad_list")), None)
    return CreditState(
        company=company, grade=grade.grade if grade else None, graded_on=grade.on if grade else None,
        blacklisted=black is not None and black.kind == "blacklisted",
        blacklisted_on=black.on if black is not None and black.kind == "blacklisted" else None,
        listed=listed.kind if listed else None, listed_ref=listed.ref if listed else None, events=tuple(newest))


def eligibility(company: str | None, firm: Firm | None, state: CreditState | None,
                settings: FirmsSettings) -> FirmEligibility:
    """The credit gate (RULES §7): eligible iff filed, not blacklisted and the grade not forbidden.

    No firm recorded (a host compound's firm not yet entered) and no grade are eligible with a warning;
    so is a firm whose filing is not known (`filing_unknown`, e.g. created from a ledger's free text).
    A name the registry does not hold is not eligible (`unknown_firm`).
    """
    if company is None:
        return FirmEligibility(company=None, eligible=True, warnings=("firm_not_recorded",))
    if firm is None:
        return FirmEligibility(company=company, eligible=False, reasons=("unknown_firm",))
    state = state or CreditState(company=company)
    reasons, warnings = [], []
    if firm.filed is False:
        reasons.append("not_filed")
    elif firm.filed is None:
        warnings.append("filing_unknown")
    if state.blacklisted:
        reasons.append("blacklisted")
    if state.grade is None:
        warnings.append("no_grade")
    elif state.grade in settings.forbidden_grades:
        reasons.append("grade_forbidden")
    return FirmEligibility(company=company, eligible=not reasons, reasons=tuple(reasons), warnings=tuple(warnings))


# ------------------------------------------------------------------------------------------ contracts

def expiry_code(end: dt.date | None, today: dt.date, settings: FirmsSettings) -> str | None:
    """contract_expired (ended before today), else contract_expiring_30 / _90 (ends within that many days)."""
    if end is None:
        return None
    left = (end - today).days
    if left < 0:
        return "contract_expired"
    if left <= settings.expiring_urgent_days:
        return "contract_expiring_30"
    if left <= settings.expiring_days:
        return "contract_expiring_90"
    return None


def _end_key(c: Contract) -> tuple[Any, ...]:
    return (c.end is None, c.end or dt.date.min, c.start or dt.date.min, c.id)


def last_contract(contracts: Sequence[Contract]) -> Contract | None:
    """A compound's last contract: the one ending last (an open-ended one last of all); earlier ones are renewed."""
    return max(contracts, key=_end_key) if contracts else None


def contract_findings(compounds: Iterable[CompoundRef], contracts: Iterable[Contract], today: dt.date,
                      settings: FirmsSettings) -> list[Finding]:
    """Per compound: its last contract's expiry (one finding, the most urgent), every missing filing of a
    contract still running, and a served compound that never had a contract (查漏补缺) or has no firm.

    The mode never changes silently: an expired contract of a served compound is `contract_expired`
    (coverage at risk), not `professional_without_contract`; once the compound's mode says nobody serves it,
    its ended contracts raise nothing (a contract still running or signed for later is checked whatever the
    mode — e.g. a takeover contract before the firm starts serving).
    """
    by_compound: dict[str, list[Contract]] = {}
    for c in contracts:
        by_compound.setdefault(c.compound_id, []).append(c)
    out: list[Finding] = []
    for comp in compounds:
        mine = by_compound.get(comp.id, [])
        served = comp.management_mode in settings.served_modes
        if served and comp.company is None and not any(c.end is None or c.end >= today for c in mine):
            out.append(Finding("company_missing", compound_id=comp.id))
        if not mine:
            if served:
                out.append(Finding("professional_without_contract", compound_id=comp.id, company=comp.company))
            continue
        last = last_contract(mine)
        code = expiry_code(last.end, today, settings)
        if code == "contract_expired" and comp.management_mode in settings.unserved_modes:
            code = None
        if code is not None:
            out.append(Finding(code, compound_id=comp.id, company=last.company, contract_id=last.id))
        for c in sorted(mine, key=_end_key):
            if c.end is not None and c.end < today:
                continue  # ended: its filings no longer matter
            for filing in FILINGS:
                if c.filings.get(filing) is None:
                    out.append(Finding("filing_missing", compound_id=comp.id, company=c.company, contract_id=c.id,
                                       filing=filing))
    return out


# ------------------------------------------------------------------------------------------ periods

def half_year_of(day: dt.date) -> str:
    """2025-06-30 → 2025H1, 2025-07-01 → 2025H2."""
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def half_year_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a half-year (ValueError when not like 2025H1)."""
    m = PERIOD.match(period)
    if not m:
        raise ValueError(f"not a half-year: {period!r} (e.g. 2025H1)")
    year, half = int(m.group(1)), int(m.group(2))
    return (dt.date(year, 1, 1), dt.date(year, 6, 30)) if half == 1 else (dt.date(year, 7, 1), dt.date(year, 12, 31))


def half_years(first: str, today: dt.date) -> list[str]:
    """Every half-year from `first` up to and including the one holding `today` (none when `first` is later)."""
    out = []
    period = first
    while half_year_bounds(period)[0] <= today:
        out.append(period)
        year, half = int(period[:4]), int(period[-1])
        period = f"{year}H2" if half == 1 else f"{year + 1}H1"
    return out


def parse_quarter(quarter: str) -> tuple[int, int]:
    """2025Q1 → (2025, 1); ValueError otherwise."""
    m = QUARTER.match(quarter or "")
    if not m:
        raise ValueError(f"not a quarter: {quarter!r} (e.g. 2025Q1)")
    return int(m.group(1)), int(m.group(2))


def quarter_of(day: dt.date) -> str:
    """2025-05-01 → 2025Q2."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter."""
    year, q = parse_quarter(quarter)
    first = dt.date(year, 3 * q - 2, 1)
    last = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - dt.timedelta(days=1)
    return first, last


def previous_quarter(quarter: str) -> str:
    """2025Q1 → 2024Q4."""
    year, q = parse_quarter(quarter)
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


# ------------------------------------------------------------------------------------------ disclosure

def disclosure_days(start: dt.date, end: dt.date) -> int:
    """How long a disclosure lasts, counting both the first and the last day."""
    return (end - start).days + 1


def disclosure_status(period: str, disclosures: Iterable[tuple[dt.date, dt.date]], today: dt.date,
                      settings: FirmsSettings) -> str:
    """compliant iff a disclosure starts in the half-year and lasts ≥ 15 days (both ends counted); otherwise
    missing once the half-year has closed, pending while it is open."""
    first, last = half_year_bounds(period)
    if any(first <= s <= last and disclosure_days(s, e) >= settings.disclosure_min_days for s, e in disclosures):
        return "compliant"
    return "missing" if last < today else "pending"


def _overlaps(c: Contract, first: dt.date, last: dt.date) -> bool:
    return (c.start is None or c.start <= last) and (c.end is None or c.end >= first)


def served_firm(comp: CompoundRef, contracts: Sequence[Contract], first: dt.date, last: dt.date,
                settings: FirmsSettings) -> tuple[bool, str | None]:
    """Was the compound served during [first, last], and by which firm: a contract running then (the latest
    one), or — for a compound with no contract at all — its present mode and firm."""
    running = [c for c in contracts if _overlaps(c, first, last)]
    if running:
        return True, max(running, key=lambda c: (c.start or dt.date.min, c.id)).company
    if contracts:
        return False, None
    return comp.management_mode in settings.served_modes, comp.company


@dataclass(frozen=True)
class DisclosureResult:
    """One compound's fee disclosure over the checked half-years."""

    compound_id: str
    status: str  # DISCLOSURE_STATUSES
    periods: dict[str, str]  # half-year → compliant | missing | pending (only those it was served in)
    company: dict[str, str | None] = field(default_factory=dict)  # half-year → the firm serving then


def disclosure_results(compounds: Iterable[CompoundRef], contracts: Iterable[Contract],
                       disclosures: Iterable[tuple[str, dt.date, dt.date]], today: dt.date,
                       settings: FirmsSettings) -> list[DisclosureResult]:
    """Every compound's disclosure status from `settings.disclosure_start` to today's half-year (RULES §7)."""
    periods = half_years(settings.disclosure_start, today)
    bounds = {p: half_year_bounds(p) for p in periods}
    by_contract: dict[str, list[Contract]] = {}
    for c in contracts:
        by_contract.setdefault(c.compound_id, []).append(c)
    by_disc: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for cid, s, e in disclosures:
        by_disc.setdefault(cid, []).append((s, e))
    out = []
    for comp in compounds:
        status: dict[str, str] = {}
        firms: dict[str, str | None] = {}
        for p in periods:
            served, firm = served_firm(comp, by_contract.get(comp.id, []), *bounds[p], settings)
            if served:
                status[p] = disclosure_status(p, by_disc.get(comp.id, []), today, settings)
                firms[p] = firm
        values = set(status.values())
        overall = ("missing" if "missing" in values else "pending" if "pending" in values
                   else "compliant" if values else "not_served")
        out.append(DisclosureResult(comp.id, overall, status, firms))
    return out


def disclosure_findings(results: Iterable[DisclosureResult]) -> list[Finding]:
    """`disclosure_missing` per compound and closed half-year without a compliant disclosure."""
    return [Finding("disclosure_missing", compound_id=r.compound_id, company=r.company.get(p), period=p)
            for r in results for p, s in r.periods.items() if s == "missing"]


# ------------------------------------------------------------------------------------------ ranking

@dataclass(frozen=True)
class Ranking:
    """A quarter's ranking: each street's first/last, district scores, 好评榜 and 差评榜 (`firms rank`)."""

    quarter: str
    streets: list[dict[str, Any]]
    scores: dict[str, float]
    good: list[str]
    bad: list[str]

    def as_dict(self, digits: int = 2) -> dict[str, Any]:
        """The `firms rank --json` document (scores rounded to `digits`)."""
        return {"quarter": self.quarter, "streets": [dict(s) for s in self.streets],
                "scores": {k: round(v, digits) for k, v in self.scores.items()},
                "good": list(self.good), "bad": list(self.bad)}


def rank_quarter(quarter: str, assessments: Iterable[tuple[str, str, float]], settings: FirmsSettings) -> Ranking:
    """RULES §7 over (street_code, firm, score) rows of one quarter.

    Per street: the firm(s) with the highest score are its `first`; the lowest its `last`, only when at
    least 2 firms were scored there. A firm's district score is the mean of its street scores. 好评榜: up to
    `good_list_size` `first` candidates with the highest district scores; 差评榜: up to `bad_list_size` `last`
    candidates with the lowest, after removing the 好评榜's firms. Ties by name in ascending code-point order;
    lists ordered by score (good descending, bad ascending).
    """
    parse_quarter(quarter)
    by_street: dict[str, dict[str, float]] = {}
    for street, firm, score in assessments:
        by_street.setdefault(street, {})[firm] = float(score)
    per_firm: dict[str, list[float]] = {}
    streets, first_cands, last_cands = [], set(), set()
    for street in sorted(by_street):
        marks = by_street[street]
        for firm, score in marks.items():
            per_firm.setdefault(firm, []).append(score)
        top, bottom = max(marks.values()), min(marks.values())
        first = sorted(f for f, s in marks.items() if s == top)
        last = sorted(f for f, s in marks.items() if s == bottom) if len(marks) >= 2 else []
        first_cands.update(first)
        last_cands.update(last)
        streets.append({"street_code": street, "first": first, "last": last})
    scores = {f: sum(v) / len(v) for f, v in sorted(per_firm.items())}
    good = sorted(first_cands, key=lambda f: (-scores[f], f))[:settings.good_list_size]
    bad = sorted(last_cands - set(good), key=lambda f: (scores[f], f))[:settings.bad_list_size]
    return Ranking(quarter=quarter, streets=streets, scores=scores, good=good, bad=bad)


# ------------------------------------------------------------------------------------------ firm status

def firm_status(comp: CompoundRef, gate: FirmEligibility | None, state: CreditState | None,
                codes: Iterable[str]) -> str | None:
    """The firm_status layer's category of a served compound (None when no firm serves it): the first of
    blacklisted, ineligible, bad_list, contract_unfiled, expiring, good_list, ok that applies."""
    codes = set(codes)
    if comp.company is None and not codes & {"professional_without_contract", "company_missing"}:
        return None
    if state is not None and state.blacklisted:
        return "blacklisted"
    if gate is not None and not gate.eligible:
        return "ineligible"
    if state is not None and state.listed == "bad_list":
        return "bad_list"
    if codes & {"filing_missing", "professional_without_contract", "company_missing"}:
        return "contract_unfiled"
    if codes & {"contract_expired", "contract_expiring_30", "contract_expiring_90"}:
        return "expiring"
    if state is not None and state.listed == "good_list":
        return "good_list"
    return "ok"


def blacklist_findings(compounds: Iterable[CompoundRef], contracts: Iterable[Contract], blacklisted: set[str],
                       today: dt.date, settings: FirmsSettings) -> list[Finding]:
    """`firm_blacklisted` for every compound a blacklisted firm serves (its firm, or a running contract's firm):
    the owners get a written suggestion to end the contract (RULES §7)."""
    running: dict[str, set[str]] = {}
    for c in contracts:
        if (c.start is None or c.start <= today) and (c.end is None or c.end >= today):
            running.setdefault(c.compound_id, set()).add(c.company)
    out = []
    for comp in compounds:
        if comp.management_mode in settings.unserved_modes:
            continue
        firms = running.get(comp.id, set()) | ({comp.company} if comp.company else set())
        out.extend(Finding("firm_blacklisted", compound_id=comp.id, company=f) for f in sorted(firms & blacklisted))
    return out


# ------------------------------------------------------------------------------------------ coverage evidence

def contract_in_force(contracts: Sequence[Contract], day: dt.date) -> Contract | None:
    """The contract of one compound in force on `day` (the one ending last when several overlap), or None."""
    mine = [c for c in contracts if covers(c, day)]
    return last_contract(mine)


def covers(contract: Contract, day: dt.date) -> bool:
    """The contract covers `day` (started — or no start recorded — and not ended; no end = open-ended)."""
    return (contract.start is None or contract.start <= day) and (contract.end is None or contract.end >= day)


def coverage_breaks(contracts: Sequence[Contract]) -> list[tuple[str, dt.date, Contract]]:
    """RULES §1 path to target, for one compound's contracts: [("-served", the day after a contract ends with no
    contract following on, that contract), ("+served", the day a later contract (a renewal) starts, it)] in time
    order — so that on any day the compound counts as served iff a contract covers that day."""
    spans = sorted(contracts, key=lambda c: (c.start or dt.date.min, c.id))
    out: list[tuple[str, dt.date, Contract]] = []
    end: dt.date | None = dt.date.min
    last: Contract | None = None
    for c in spans:
        start = c.start or dt.date.min
        if last is not None and end is not None and start > end + dt.timedelta(days=1):
            out.append(("-served", end + dt.timedelta(days=1), last))
            out.append(("+served", start, c))
        if last is None or end is not None and (c.end is None or c.end > end):
            end, last = c.end, c
    if last is not None and end is not None:
        out.append(("-served", end + dt.timedelta(days=1), last))
    return out


# ------------------------------------------------------------------------------------------ set-wise disclosure

def disclosure_columns(compounds: Sequence[CompoundRef], contracts: Iterable[Contract],
                       disclosures: Iterable[tuple[str, dt.date, dt.date]], today: dt.date,
                       settings: FirmsSettings) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`disclosure_results` over columns, for every compound at once (the map's attributes): (the checked
    half-years, each compound's overall status, a (compounds × half-years) matrix of compliant / missing / pending,
    None where the compound was not served). Exactly `DisclosureResult.status` and `.periods` (the firms serving
    each half-year are not computed: tests/plugins/test_firms_columns.py compares the two)."""
    periods = half_years(settings.disclosure_start, today)
    n, k = len(compounds), len(periods)
    if not k or not n:
        return periods, np.full(n, "not_served", dtype=object), np.full((n, k), None, dtype=object)
    index = {c.id: i for i, c in enumerate(compounds)}
    firsts = np.array([half_year_bounds(p)[0] for p in periods], dtype="datetime64[D]")
    lasts = np.array([half_year_bounds(p)[1] for p in periods], dtype="datetime64[D]")
    has_contract = np.zeros(n, dtype=bool)
    running = np.zeros((n, k), dtype=bool)
    rows, starts, ends = [], [], []
    for c in contracts:
        i = index.get(c.compound_id)
        if i is not None:
            rows.append(i)
            starts.append(c.start)
            ends.append(c.end)
    if rows:
        at = np.array(rows)
        has_contract[at] = True
        start = _day_array(starts, np.datetime64("0001-01-01"))
        end = _day_array(ends, np.datetime64("9999-12-31"))
        overlaps = (start[:, None] <= lasts[None, :]) & (end[:, None] >= firsts[None, :])  # _overlaps
        np.logical_or.at(running, at, overlaps)
    served_mode = np.array([c.management_mode in settings.served_modes for c in compounds], dtype=bool)
    served = np.where(has_contract[:, None], running, served_mode[:, None])  # served_firm
    compliant = np.zeros((n, k), dtype=bool)
    first_key = _half_key(firsts[0].astype(object))
    for cid, s, e in disclosures:  # disclosure_status: one starting in the half-year, long enough
        i = index.get(cid)
        if i is None or disclosure_days(s, e) < settings.disclosure_min_days:
            continue
        j = _half_key(s) - first_key
        if 0 <= j < k:
            compliant[i, j] = True
    closed = lasts < np.datetime64(today)
    status = np.where(compliant, "compliant", np.where(closed[None, :], "missing", "pending")).astype(object)
    status[~served] = None
    overall = np.select([(status == "missing").any(axis=1), (status == "pending").any(axis=1),
                         (status == "compliant").any(axis=1)], ["missing", "pending", "compliant"],
                        "not_served").astype(object)
    return periods, overall, status


def _half_key(day: dt.date) -> int:
    """A half-year as one integer (year × 2 + 0 for H1, 1 for H2), as `half_year_of` names it."""
    return day.year * 2 + (day.month > 6)


def _day_array(days: Sequence[dt.date | None], missing: np.datetime64) -> np.ndarray:
    return np.array([missing if d is None else np.datetime64(d, "D") for d in days], dtype="datetime64[D]")
