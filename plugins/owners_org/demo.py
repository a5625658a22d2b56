"""Synthetic owners' organisations for the demo (labelled synthetic): every state, and every rule firing somewhere.

Called through the `load_demo` hook after the core demo is loaded. Compounds the core demo marks
业委会/物管会 get committees in scenarios (healthy, filed only, vacancies, re-elections, evaluations due,
overdue or failed, terms expiring or expired with custody due or done, party composition short, a 物管会
superseded, a successor in preparation, or left `declared`); compounds marked `preparing` get a
preparatory group or an elected committee. Each street gets member trainings. Dates are relative to `today`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.store import insert_records
from plugins.owners_org import rules as r
from plugins.owners_org.settings import OwnersOrgSettings

SOURCE = "synthetic demo"
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰云峰")
# scenario → weight of the random share (each scenario is also placed at least MIN_EACH times)
WEIGHTS = {
    "healthy": 40, "declared": 18, "mc_active": 6, "filed_only": 3, "vacancy_fill": 3, "vacancy_over_half": 2,
    "evaluation_overdue": 3, "evaluation_due": 2, "rectification_due": 2, "rectification_overdue": 2,
    "two_unqualified": 2, "term_expiring": 3, "custody_due": 2, "custody_overdue": 2, "custody_done": 2,
    "party_count_low": 3, "party_org_missing": 2, "mc_superseded": 2, "successor_preparing": 2,
}
MIN_EACH = 2
Record = dict[str, Any]


def _years(day: dt.date, n: int) -> dt.date:
    try:
        return day.replace(year=day.year + n)
    except ValueError:  # 29 February
        return day.replace(year=day.year + n, day=28)


class _Builder:
    """Accumulates demo records; the helpers build one committee at a time."""

    def __init__(self, rng: np.random.Generator, today: dt.date, settings: OwnersOrgSettings) -> None:
        self.rng, self.today, self.settings = rng, today, settings
        self.orgs: list[Record] = []
        self.members: list[Record] = []
        self.evaluations: list[Record] = []
        self.custody: list[Record] = []
        self.ids: dict[str, int] = {}

    def person(self) -> str:
        return str(self.rng.choice(SURNAMES)) + "".join(self.rng.choice(GIVEN, size=int(self.rng.integers(1, 3))))

    def org_id(self, cid: str) -> str:
        n = self.ids.get(cid, 0) + 1
        self.ids[cid] = n
        return r.new_org_id(cid, [r.new_org_id(cid, []) if k == 1 else f"{cid}-org{k}" for k in range(1, n)])

    def committee(self, cid: str, kind: str, term_start: dt.date, seats: int = 7, party: int = 4,
                  alternates: int | None = None, party_org: bool = True, registered: bool = True,
                  term_end: dt.date | None = None, evaluate: bool = True) -> Record:
        """An organisation with its members (checks passed), alternates and a qualified evaluation per half-year."""
        oid = self.org_id(cid)
        end = term_end or (_years(term_start, 5) - dt.timedelta(days=1))
        org = {"id": oid, "compound_id": cid, "kind": kind, "seats": seats,
               "prep_group_on": term_start - dt.timedelta(days=120), "elected_on": term_start - dt.timedelta(days=30),
               "filed_on": term_start - dt.timedelta(days=15),
               "registered_on": (term_start - dt.timedelta(days=5)) if registered and kind == "owners_committee" else None,
               "term_start": term_start, "term_end": end,
               "party_org_on": term_start + dt.timedelta(days=30) if party_org and party >= 3 else None,
               "dissolved_on": None, "declared": False, "source": SOURCE}
        self.orgs.append(org)
        roles = ["chair", "vice_chair"] + ["member"] * (seats - 2)
        votes = sorted(self.rng.integers(150, 600, size=seats).tolist(), reverse=True)
        for i, role in enumerate(roles):
            self.member(oid, role, party=i < party, votes=int(votes[i]), start=term_start)
        k = r.alternates_limit(seats, self.settings) if alternates is None else alternates
        for _ in range(k):
            self.member(oid, "alternate", party=False, votes=int(self.rng.integers(40, 140)), start=term_start)
        if evaluate:
            for p in r.required_periods(term_start, end, self.today, self.settings):
                self.evaluate(oid, p, "excellent" if self.rng.random() < 0.3 else "qualified")
        return org

    def member(self, oid: str, role: str, party: bool, votes: int, start: dt.date, end: dt.date | None = None) -> Record:
        servant = bool(self.rng.random() < 0.1)
        rec = {"id": f"{oid}-m{sum(1 for x in self.members if x['org_id'] == oid) + 1}", "org_id": oid,
               "person": self.person(), "role": role, "party_member": party, "public_servant": servant,
               "check_police": True, "check_credit": True, "check_community": True,
               "check_discipline": True if (party or servant) else None, "votes": votes, "start": start, "end": end,
               "source": SOURCE}
        self.members.append(rec)
        return rec

    def evaluate(self, oid: str, period: str, grade: str, held_on: dt.date | None = None,
                 rectified_on: dt.date | None = None) -> None:
        last = r.period_bounds(period)[1]
        self.evaluations = [e for e in self.evaluations if not (e["org_id"] == oid and e["period"] == period)]
        self.evaluations.append({"org_id": oid, "period": period, "grade": grade,
                                 "held_on": held_on or min(last + dt.timedelta(days=12), self.today),
                                 "rectified_on": rectified_on, "recorded_by": "demo", "source": SOURCE})

    def drop_evaluation(self, oid: str, period: str) -> None:
        self.evaluations = [e for e in self.evaluations if not (e["org_id"] == oid and e["period"] == period)]

    def closed_periods(self) -> tuple[str, str]:
        """The last two closed half-years (newest first)."""
        last = r.period_index(r.period_of(self.today)) - 1
        return r.period_from_index(last), r.period_from_index(last - 1)


def _start(b: _Builder, years_ago: float) -> dt.date:
    return b.today - dt.timedelta(days=int(365 * years_ago))


def _scenarios(b: _Builder) -> dict[str, Callable[[str, str], None]]:
    today, rng = b.today, b.rng
    grace = b.settings.evaluation_grace_days

    def healthy(cid: str, kind: str) -> None:
        seats = int(rng.choice([5, 7, 9]))
        b.committee(cid, kind, _start(b, float(rng.uniform(0.8, 3.5))), seats=seats, party=max(3, (seats + 1) // 2))

    def mc_active(cid: str, kind: str) -> None:
        b.committee(cid, "management_committee", _start(b, float(rng.uniform(0.6, 2.5))), seats=5, party=3)

    def filed_only(cid: str, kind: str) -> None:
        b.committee(cid, "owners_committee", today - dt.timedelta(days=int(rng.integers(20, 60))), registered=False)

    def vacancy_fill(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2), seats=8, party=5, alternates=4)
        left = today - dt.timedelta(days=40)
        formal = [x for x in b.members if x["org_id"] == org["id"] and x["role"] == "member"]
        for x in formal[-2:]:
            x["end"] = left
        alts = [x for x in b.members if x["org_id"] == org["id"] and x["role"] == "alternate"]
        alts[1]["votes"] = alts[2]["votes"] = 120  # a tie: the earlier start takes the seat first
        alts[2]["start"] = alts[1]["start"] - dt.timedelta(days=1)

    def vacancy_over_half(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2.5), seats=7, party=4, alternates=2)
        for x in [x for x in b.members if x["org_id"] == org["id"] and x["role"] != "alternate"][:4]:
            x["end"] = today - dt.timedelta(days=70)

    def evaluation_overdue(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2))
        last, before = b.closed_periods()
        overdue = last if today >= r.period_bounds(last)[1] + dt.timedelta(days=grace) else before
        b.drop_evaluation(org["id"], overdue)

    def evaluation_due(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2))
        last, _ = b.closed_periods()
        if today < r.period_bounds(last)[1] + dt.timedelta(days=grace):
            b.drop_evaluation(org["id"], last)  # within the grace days: due, not overdue
        else:  # outside the grace days no evaluation can be merely due: an unqualified grade to rectify instead
            b.evaluate(org["id"], last, "unqualified", held_on=today - dt.timedelta(days=3))

    def rectification_due(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2))
        b.evaluate(org["id"], b.closed_periods()[0], "unqualified", held_on=today - dt.timedelta(days=10))

    def rectification_overdue(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2))
        last, _ = b.closed_periods()
        held = max(r.period_bounds(last)[1] + dt.timedelta(days=5), today - dt.timedelta(days=45))
        b.evaluate(org["id"], last, "unqualified", held_on=min(held, today - dt.timedelta(days=31)))

    def two_unqualified(cid: str, kind: str) -> None:
        org = b.committee(cid, kind, _start(b, 2.5))
        last, before = b.closed_periods()
        b.evaluate(org["id"], before, "unqualified", rectified_on=r.period_bounds(last)[0] + dt.timedelta(days=20))
        b.evaluate(org["id"], last, "unqualified")

    def term_expiring(cid: str, kind: str) -> None:
        end = today + dt.timedelta(days=int(rng.integers(20, 85)))
        b.committee(cid, kind, _years(end, -5) + dt.timedelta(days=1), term_end=end)

    def custody(days_ago: int, done: bool) -> Callable[[str, str], None]:
        def build(cid: str, kind: str) -> None:
            end = today - dt.timedelta(days=days_ago)
            org = b.committee(cid, kind, _years(end, -5) + dt.timedelta(days=1), term_end=end)
            if done:
                b.custody.append({"org_id": org["id"], "taken_on": end + dt.timedelta(days=12), "seal": True,
                                  "accounts": True, "vouchers": True, "archives": True, "note": "街镇代管（演示）",
                                  "recorded_by": "demo"})
        return build

    def party_count_low(cid: str, kind: str) -> None:
        b.committee(cid, kind, _start(b, 1.5), seats=7, party=2)

    def party_org_missing(cid: str, kind: str) -> None:
        b.committee(cid, kind, _start(b, 1.2), seats=7, party=4, party_org=False)

    def mc_superseded(cid: str, kind: str) -> None:
        b.committee(cid, "management_committee", _start(b, 3), seats=5, party=3)
        b.committee(cid, "owners_committee", today - dt.timedelta(days=int(rng.integers(30, 200))), seats=7, party=4)

    def successor_preparing(cid: str, kind: str) -> None:
        end = today - dt.timedelta(days=int(rng.integers(5, 25)))
        org = b.committee(cid, kind, _years(end, -5) + dt.timedelta(days=1), term_end=end)
        b.custody.append({"org_id": org["id"], "taken_on": end + dt.timedelta(days=3), "seal": True, "accounts": True,
                          "vouchers": True, "archives": True, "note": "换届期间街镇代管（演示）", "recorded_by": "demo"})
        b.orgs.append({"id": b.org_id(cid), "compound_id": cid, "kind": "owners_committee", "seats": 7,
                       "prep_group_on": end - dt.timedelta(days=60), "declared": False, "source": SOURCE})

    return {"healthy": healthy, "declared": lambda cid, kind: None, "mc_active": mc_active, "filed_only": filed_only,
            "vacancy_fill": vacancy_fill, "vacancy_over_half": vacancy_over_half,
            "evaluation_overdue": evaluation_overdue, "evaluation_due": evaluation_due,
            "rectification_due": rectification_due, "rectification_overdue": rectification_overdue,
            "two_unqualified": two_unqualified, "term_expiring": term_expiring, "custody_due": custody(10, False),
            "custody_overdue": custody(60, False), "custody_done": custody(90, True),
            "party_count_low": party_count_low, "party_org_missing": party_org_missing,
            "mc_superseded": mc_superseded, "successor_preparing": successor_preparing}


def generate(compounds: list[tuple[str, str, str]], streets: list[str], seed: int, today: dt.date,
             settings: OwnersOrgSettings) -> tuple[_Builder, list[Record], dict[str, str]]:
    """Records for `compounds` [(id, street, owners_org)]: (builder with organisations…, trainings, scenario per compound)."""
    rng = np.random.default_rng(seed + 6)
    b = _Builder(rng, today, settings)
    build = _scenarios(b)
    organised = [(cid, value) for cid, _, value in compounds if value in r.ORG_KINDS]
    order = rng.permutation(len(organised))
    names = list(WEIGHTS)
    weights = np.array([WEIGHTS[n] for n in names], dtype=float)
    chosen: dict[str, str] = {}
    for k, i in enumerate(order):
        cid, value = organised[int(i)]
        name = names[k % len(names)] if k < MIN_EACH * len(names) else str(rng.choice(names, p=weights / weights.sum()))
        chosen[cid] = name
        build[name](cid, value)
    for cid, _, value in compounds:
        if value != "preparing":
            continue
        if rng.random() < 0.65:
            b.orgs.append({"id": b.org_id(cid), "compound_id": cid, "kind": "owners_committee", "seats": None,
                           "prep_group_on": today - dt.timedelta(days=int(rng.integers(20, 240))), "declared": False,
                           "source": SOURCE})
            chosen[cid] = "preparing"
        else:
            start = today + dt.timedelta(days=int(rng.integers(10, 40)))  # elected, term starts after filing
            org = b.committee(cid, "owners_committee", start, evaluate=False)
            org["elected_on"] = today - dt.timedelta(days=int(rng.integers(3, 20)))
            org["prep_group_on"] = org["elected_on"] - dt.timedelta(days=90)
            org["filed_on"] = org["registered_on"] = org["party_org_on"] = None
            chosen[cid] = "elected"
    trainings = []
    short = set(rng.choice(streets, size=min(3, len(streets)), replace=False).tolist()) if streets else set()
    for code in streets:
        for year in range(settings.training_first_year, today.year + 1):
            if year < today.year:
                n = 1 if code in short else int(rng.integers(2, 4))
                days = sorted(rng.choice(np.arange(20, 340), size=n, replace=False).tolist())
            else:
                elapsed = (today - dt.date(year, 1, 1)).days
                n = min(int(rng.integers(0, 3)), max(0, elapsed // 120))
                days = sorted(rng.choice(np.arange(0, max(1, elapsed)), size=n, replace=False).tolist()) if n else []
            for j, d in enumerate(days):
                held = dt.date(year, 1, 1) + dt.timedelta(days=int(d))
                trainings.append({"id": f"{code}-{held:%Y%m%d}-{j + 1}", "street_code": code, "held_on": held,
                                  "audiences": ["committee_members"] + (["street_staff"] if rng.random() < 0.5 else []),
                                  "title": str(rng.choice(["业委会履职培训", "物业管理条例解读", "民主评议工作培训",
                                                           "业主大会议事规则培训"])), "source": SOURCE})
    return b, trainings, chosen


def load_demo(session: Session, seed: int, today: dt.date, context: Any = None) -> dict[str, int]:
    """Write the synthetic records for the loaded demo compounds and keep compound.owners_org in step."""
    from geoplatform.principal import SYSTEM
    from plugins.owners_org import service
    from plugins.owners_org.settings import settings_for

    settings = settings_for(context)
    session.flush()
    compounds = [tuple(row) for row in session.execute(select(m.Compound.id, m.Compound.street_code,
                                                              m.Compound.owners_org).order_by(m.Compound.id))]
    streets = list(session.scalars(select(m.Street.code).order_by(m.Street.code)))
    b, trainings, _ = generate(compounds, streets, seed, today, settings)
    counts = {}
    for table, records in (("owners_org", b.orgs), ("org_member", b.members), ("org_evaluation", b.evaluations),
                           ("org_custody", b.custody), ("training", trainings)):
        counts[table] = insert_records(session, table, _complete(table, records))
    declared = service.declare_from_compounds(session, None, SYSTEM, source=SOURCE + " (declared)")
    counts["declared"] = len(declared)
    service.sync_compounds(session, None, today, settings, user=None)
    return counts


def _complete(table: str, records: list[Record]) -> list[Record]:
    """Every row with the same keys (bulk inserts want uniform rows)."""
    model_cols = {"owners_org": ("id", "compound_id", "kind", "seats", "prep_group_on", "elected_on", "filed_on",
                                 "registered_on", "term_start", "term_end", "party_org_on", "dissolved_on", "declared",
                                 "source"),
                  "org_custody": ("org_id", "taken_on", "seal", "accounts", "vouchers", "archives", "note",
                                  "recorded_by")}
    cols = model_cols.get(table)
    if cols is None:
        return records
    return [{c: rec.get(c, False if c in ("declared", "seal", "accounts", "vouchers", "archives") else None)
             for c in cols} for rec in records]
