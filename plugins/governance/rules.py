"""RULES §8 as pure functions: the problem ledger's states, the 24-hour reporting duty, mediation clocks, pilots.

No database, no Flask, no globals: records come in as plain mappings, thresholds as `GovernanceSettings`,
the day (and for the 24-hour clock the moment) "as of" which everything is judged as arguments.

- A problem moves open → rectifying → rectified | refused (nothing else). A refused problem, or one
  past its rectify-by date before it was rectified, writes a credit event for its firm.
- When dissuasion fails at t, the street, the competent department (by category) and — only when the
  compound has one — the owners' organisation must be told by t + 24 h; a report at exactly t + 24 h
  is on time. A report still missing counts as late once the moment judged is past t + 24 h.
- A mediation stage is due `mediation_days` after it opened; still open (not closed, not escalated) the
  day after its due date, it is `mediation_overdue`.
- A pilot community holds ≥ 1 三方联席 meeting each quarter and publishes ≥ 2 cases in its year; both are
  judged once the quarter / year has ended. A required pilot year without a pilot in a street is
  reported once that year has ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geoplatform.exchange import CreditEvent
from plugins.governance.settings import RECIPIENTS, GovernanceSettings

STATES = ("open", "rectifying", "rectified", "refused")
OPEN_STATES = ("open", "rectifying")
FINAL_STATES = ("rectified", "refused")
TRANSITIONS: dict[str, tuple[str, ...]] = {"open": ("rectifying",), "rectifying": ("rectified", "refused"),
                                           "rectified": (), "refused": ()}
STAGES = ("community", "administrative", "judicial")
NEXT_STAGE: dict[str, str | None] = {"community": "administrative", "administrative": "judicial", "judicial": None}
OUTCOMES = ("resolved", "unresolved")
# worst first: the map colours a compound by its worst open problem
PROBLEM_CLASSES = ("refused", "overdue", "open", "rectifying")
# finding codes in the order `governance check` lists them
CODES = ("report_late", "rectification_refused", "rectification_overdue", "mediation_overdue", "pilot_missing",
         "pilot_quarter_missing", "pilot_cases_short")
# every key a finding may carry (tests/plugins/test_governance_cli.py pins this set)
FINDING_KEYS = ("code", "problem_id", "mediation_id", "community_code", "street_code", "late", "company", "period")
SOURCE = "governance"


# ------------------------------------------------------------------ problem ledger

@dataclass(frozen=True)
class Transition:
    """Whether a state change is allowed, and which next states are."""

    ok: bool
    allowed: tuple[str, ...]


def allowed_next(state: str) -> tuple[str, ...]:
    """The states a problem in `state` may move to (none from a final state)."""
    return TRANSITIONS.get(state, ())


def transition(current: str, new: str) -> Transition:
    """open → rectifying → rectified | refused; anything else is refused."""
    nxt = allowed_next(current)
    return Transition(new in nxt, nxt)


def problem_overdue(problem: Mapping[str, Any], today: dt.date) -> bool:
    """Past its rectify-by date before it was rectified: still open the day after, or rectified later than it.

    A refused problem is reported as refused, not as overdue; no rectify-by date, never overdue.
    """
    by = problem.get("rectify_by")
    state = problem.get("state")
    if by is None or state == "refused":
        return False
    if state in OPEN_STATES:
        return today > by
    if state == "rectified":
        done = problem.get("state_on")
        return done is not None and done > by
    return False


def problem_class(problem: Mapping[str, Any], today: dt.date) -> str | None:
    """The map class of one problem: refused, overdue, open, rectifying — None once rectified."""
    state = problem.get("state")
    if state == "refused":
        return "refused"
    if state in OPEN_STATES:
        return "overdue" if problem_overdue(problem, today) else state
    return None


def worst_class(classes: Iterable[str | None]) -> str | None:
    """The worst of some problem classes (PROBLEM_CLASSES order), None when there is none."""
    present = {c for c in classes if c}
    return next((c for c in PROBLEM_CLASSES if c in present), None)


def credit_event(problem: Mapping[str, Any], today: dt.date, settings: GovernanceSettings) -> CreditEvent | None:
    """The firm's credit event a problem writes as of `today`: refused, else past rectify-by; None otherwise.

    Dated the day of the refusal (its state date; the rectify-by or found date when that is missing) or
    the day after the rectify-by date; an event dated after `today` does not exist yet. A problem whose
    firm is unknown writes no event (the `governance check` finding still names the problem).
    """
    kind, on = _credit(problem, today)
    if kind is None or not problem.get("company"):
        return None
    return CreditEvent(company=problem["company"], on=on, kind=kind, source=SOURCE, ref=str(problem["id"]),
                       detail=str(problem.get("category") or ""),
                       expires_on=on + dt.timedelta(days=settings.credit_event_days))


def _credit(problem: Mapping[str, Any], today: dt.date) -> tuple[str | None, dt.date | None]:
    if problem.get("state") == "refused":
        on = problem.get("state_on") or problem.get("rectify_by") or problem.get("found_on")
        return ("rectification_refused", on) if on is None or on <= today else (None, None)
    if problem_overdue(problem, today):
        return "rectification_overdue", problem["rectify_by"] + dt.timedelta(days=1)
    return None, None


def problem_finding(problem: Mapping[str, Any], today: dt.date) -> dict[str, Any] | None:
    """`rectification_refused` / `rectification_overdue` for a problem (with its firm), None otherwise."""
    kind, _ = _credit(problem, today)
    if kind is None:
        return None
    return _finding(kind, problem_id=problem["id"], company=problem.get("company"),
                    community_code=problem.get("community_code"), street_code=problem.get("street_code"))


# ------------------------------------------------------------------ 24-hour reporting duty

@dataclass(frozen=True)
class ReportStatus:
    """The 24-hour duty of one failed dissuasion as of a moment."""

    deadline: dt.datetime
    required: tuple[str, ...]
    late: tuple[str, ...]  # required recipients told after the deadline or not told by it (RECIPIENTS order)
    missing: tuple[str, ...]  # of those, the ones not told at all
    pending: tuple[str, ...]  # required, not told yet, deadline not passed
    on_time: bool | None  # True: every required recipient told by the deadline; False: some late; None: pending


def department_for(category: str, settings: GovernanceSettings) -> str:
    """The competent department of a category (RULES §8 routing)."""
    return settings.department(category)


def required_recipients(has_owners_org: bool | None) -> tuple[str, ...]:
    """The street and the competent department always; the owners' organisation only when the compound has one."""
    return RECIPIENTS if has_owners_org else tuple(r for r in RECIPIENTS if r != "owners_org")


def report_status(failed_at: dt.datetime, reported: Mapping[str, dt.datetime | None], required: Sequence[str],
                  as_of: dt.datetime, settings: GovernanceSettings) -> ReportStatus:
    """On time iff every required recipient was told by failed_at + 24 h (exactly 24 h is on time).

    A report stamped after `as_of` has not happened yet as of then.
    """
    deadline = failed_at + dt.timedelta(hours=settings.report_hours)
    late, missing, pending = [], [], []
    for r in RECIPIENTS:
        if r not in required:
            continue
        at = reported.get(r)
        if at is not None and at > as_of:  # told after the moment judged: not yet, as of then
            at = None
        if at is None:
            if as_of > deadline:
                late.append(r)
                missing.append(r)
            else:
                pending.append(r)
        elif at > deadline:
            late.append(r)
    on_time = False if late else (None if pending else True)
    return ReportStatus(deadline, tuple(required), tuple(late), tuple(missing), tuple(pending), on_time)


def has_owners_org(status: Any, compound_owners_org: str | None, settings: GovernanceSettings) -> bool | None:
    """Whether the compound has an owners' organisation to tell: from its `OrgStatus` when the records say
    (None: unknown), else from the compound's `owners_org` field (业委会 / 物管会)."""
    if status is not None:
        if not getattr(status, "known", True):
            return None
        return getattr(status, "kind", None) is not None and getattr(status, "state", None) in settings.org_states_told
    if compound_owners_org in (None, "unknown"):
        return None
    return compound_owners_org in settings.org_values_told


def report_finding(dissuasion: Mapping[str, Any], status: ReportStatus) -> dict[str, Any] | None:
    """`report_late` naming who was late or missing (None when on time or still pending)."""
    if not status.late:
        return None
    return _finding("report_late", problem_id=dissuasion["problem_id"], late=list(status.late),
                    community_code=dissuasion.get("community_code"), street_code=dissuasion.get("street_code"))


# ------------------------------------------------------------------ mediation

@dataclass(frozen=True)
class MediationStatus:
    """One mediation stage as of a day."""

    due: dt.date | None
    open: bool  # neither closed nor escalated
    overdue: bool
    days_left: int | None  # due − today (negative once past), None without a due date or once closed
    next_stage: str | None


def stage_due(stage: str, opened_on: dt.date, settings: GovernanceSettings) -> dt.date | None:
    """Community and district (administrative) stages: opened + 30 days; judicial: the court's clock (None)."""
    days = settings.judicial_days if stage == "judicial" else settings.mediation_days
    return None if days is None else opened_on + dt.timedelta(days=days)


def mediation_status(mediation: Mapping[str, Any], escalated: bool, today: dt.date,
                     settings: GovernanceSettings) -> MediationStatus:
    """Overdue from the day after the due date while neither closed nor escalated."""
    due = stage_due(mediation["stage"], mediation["opened_on"], settings)
    is_open = mediation.get("closed_on") is None and not escalated
    overdue = bool(is_open and due is not None and today > due)
    days_left = (due - today).days if is_open and due is not None else None
    return MediationStatus(due, is_open, overdue, days_left, NEXT_STAGE.get(mediation["stage"]))


def mediation_finding(mediation: Mapping[str, Any], status: MediationStatus) -> dict[str, Any] | None:
    """`mediation_overdue` for a stage past due (None otherwise)."""
    if not status.overdue:
        return None
    return _finding("mediation_overdue", mediation_id=mediation["id"], community_code=mediation.get("community_code"),
                    street_code=mediation.get("street_code"))


def can_escalate(stage: str, closed_on: dt.date | None, outcome: str | None, escalated: bool) -> bool:
    """A stage escalates to the next one while it is open, or once closed unresolved and not yet escalated."""
    if NEXT_STAGE.get(stage) is None or escalated:
        return False
    return closed_on is None or outcome == "unresolved"


# ------------------------------------------------------------------ pilots

def quarter_of(day: dt.date) -> int:
    """1–4."""
    return (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> dt.date:
    """The last day of a quarter."""
    month = quarter * 3
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


@dataclass(frozen=True)
class PilotStatus:
    """A pilot's year as of a day: meetings per quarter, published cases, and what is judged."""

    meetings: tuple[int, int, int, int]  # counting meetings per quarter
    quarters_missing: tuple[int, ...]  # ended quarters without enough meetings
    cases: int  # cases published within the year
    cases_short: bool  # the year has ended with fewer than the minimum
    year_ended: bool


def pilot_status(year: int, meetings: Iterable[Mapping[str, Any]], cases: Iterable[Mapping[str, Any]],
                 today: dt.date, settings: GovernanceSettings) -> PilotStatus:
    """Count the community's 三方联席 meetings per quarter of `year` and its cases published within it."""
    per_q = [0, 0, 0, 0]
    for mt in meetings:
        d = mt["held_on"]
        if d.year == year and mt.get("kind", "tripartite") in settings.pilot_meeting_kinds and d <= today:
            per_q[quarter_of(d) - 1] += 1
    missing = tuple(q for q in range(1, 5)
                    if today > quarter_end(year, q) and per_q[q - 1] < settings.pilot_meetings_per_quarter)
    year_end = dt.date(year, 12, 31)
    published = sum(1 for c in cases if c.get("year") == year and c.get("published_on") is not None
                    and c["published_on"] <= min(year_end, today))
    ended = today > year_end
    return PilotStatus(tuple(per_q), missing, published, ended and published < settings.pilot_min_cases, ended)


def pilot_findings(pilot: Mapping[str, Any], status: PilotStatus) -> list[dict[str, Any]]:
    """`pilot_quarter_missing` per ended quarter without a meeting, `pilot_cases_short` for an ended year."""
    year, where = pilot["year"], {"community_code": pilot["community_code"], "street_code": pilot["street_code"]}
    out = [_finding("pilot_quarter_missing", period=f"{year}Q{q}", **where) for q in status.quarters_missing]
    if status.cases_short:
        out.append(_finding("pilot_cases_short", period=str(year), **where))
    return out


def missing_pilots(street_codes: Iterable[str], pilots: Iterable[Mapping[str, Any]], today: dt.date,
                   settings: GovernanceSettings) -> list[dict[str, Any]]:
    """`pilot_missing` for each street without a pilot in a required year that has ended."""
    have = {(p["year"], p["street_code"]) for p in pilots}
    return [_finding("pilot_missing", street_code=s, period=str(y))
            for y in settings.pilot_years if today > dt.date(y, 12, 31)
            for s in sorted(street_codes) if (y, s) not in have]


def second_pilot(year: int, street_code: str, community_code: str,
                 existing: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The pilot that already holds `street_code`'s `year` with another community (a second is refused)."""
    return next((p for p in existing if p["year"] == year and p["street_code"] == street_code
                 and p["community_code"] != community_code), None)


# ------------------------------------------------------------------ the check

def _finding(code: str, **keys: Any) -> dict[str, Any]:
    """A finding: its code and the ids it concerns (keys without a value are left out)."""
    return {"code": code, **{k: v for k, v in keys.items() if v is not None}}


def sort_findings(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable order: by code (CODES), then street, community, problem, mediation, period."""
    def key(f: dict[str, Any]) -> tuple:
        return (CODES.index(f["code"]), f.get("street_code") or "", f.get("community_code") or "",
                f.get("problem_id") or "", f.get("mediation_id") or "", f.get("period") or "")
    return sorted(findings, key=key)


def as_of_moment(today: dt.date, now: dt.datetime, current_day: dt.date | None = None) -> dt.datetime:
    """The moment the 24-hour clock is judged at: `now` when judging the current day (local, or the machine's
    `current_day` when that differs), else the end of `today`."""
    if today in (now.date(), current_day):
        return now
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time())
