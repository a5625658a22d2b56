"""Synthetic governance records for the demo (hook `load_demo`): every finding of `governance check` fires.

Deterministic per seed, dates relative to `today`. The pilot year is 2025 once it has ended (the plan's
pilots), else the year before `today`, so that the yearly findings are judged. One street has no pilot
(`pilot_missing` when that year is a required pilot year), one pilot misses a quarter's meeting, one
publishes a single case; some reports are late or missing, some rectifications refused or overdue,
some mediations past due at the community and at the district stage.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.models.governance import Dissuasion, Mediation, Pilot, PilotCase, PilotMeeting, Problem
from plugins.governance import rules
from plugins.governance.settings import CATEGORIES, LEDGER_CATEGORIES

PROBLEM_SHARE = 0.25  # compounds with a problem in the ledger
SUBJECTS = ("物业费收缴纠纷", "车位使用纠纷", "漏水维修责任纠纷", "公共收益分配争议", "噪声扰民纠纷", "装修垃圾清运纠纷",
            "电梯维修费用分摊争议", "绿化占用纠纷")
CASE_TITLES = ("三方联动化解停车难", "业委会与物业协商调价", "老旧小区加装电梯议事", "楼道堆物集中清理", "飞线充电整治",
               "物业服务质量提升议事会")


def pilot_year(today: dt.date) -> int:
    """2025 once it has ended, else the year before `today`."""
    return 2025 if today > dt.date(2025, 12, 31) else today.year - 1


def load(session: Session, today: dt.date, seed: int = 42) -> dict[str, int]:
    """Add problems, dissuasions, mediations, pilots, meetings and cases over the loaded demo compounds."""
    rng = np.random.default_rng(seed + 23)
    compounds = [dict(r) for r in session.execute(
        select(m.Compound.id, m.Compound.street_code, m.Compound.community_code, m.Compound.company.label("property_company"),
               m.Compound.owners_org).order_by(m.Compound.id)).mappings()]
    if not compounds:
        return {}
    problems = _problems(compounds, rng, today)
    session.add_all(Problem(**p) for p in problems)
    session.flush()
    org = {c["id"]: c["owners_org"] in ("owners_committee", "management_committee") for c in compounds}
    dissuasions = _dissuasions(problems, org, rng, today)
    session.add_all(Dissuasion(**d) for d in dissuasions)
    meds = _mediations(compounds, rng, today)
    for stage in rules.STAGES:  # each stage after the one it escalates from
        session.add_all(Mediation(**x) for x in meds if x["stage"] == stage)
        session.flush()
    pilots, meetings, cases = _pilots(session, rng, today)
    session.add_all([*(Pilot(**p) for p in pilots), *(PilotMeeting(**x) for x in meetings),
                     *(PilotCase(**c) for c in cases)])
    session.flush()
    return {"problem": len(problems), "dissuasion": len(dissuasions), "mediation": len(meds), "pilot": len(pilots),
            "pilot_meeting": len(meetings), "pilot_case": len(cases)}


def _problems(compounds: list[dict[str, Any]], rng: np.random.Generator, today: dt.date) -> list[dict[str, Any]]:
    out = []
    picked = [c for c in compounds if rng.random() < PROBLEM_SHARE]
    for n, c in enumerate(picked):
        ledger = rng.random() < 0.75
        category = str(rng.choice(LEDGER_CATEGORIES if ledger else CATEGORIES))
        found = today - dt.timedelta(days=int(rng.integers(1, 200)))
        rectify_by = found + dt.timedelta(days=int(rng.choice([7, 15, 30, 60])))
        r = rng.random()
        if rectify_by < today:
            if r < 0.55:
                state, on = "rectified", min(today, rectify_by - dt.timedelta(days=int(rng.integers(0, 5))))
            elif r < 0.65:  # rectified, but late: an overdue credit event
                state, on = "rectified", min(today, rectify_by + dt.timedelta(days=int(rng.integers(1, 20))))
            elif r < 0.8:
                state, on = "refused", min(today, rectify_by + dt.timedelta(days=int(rng.integers(0, 10))))
            else:  # still open or rectifying past the date: overdue
                state, on = ("open", found) if r < 0.9 else ("rectifying", found + dt.timedelta(days=2))
        else:
            state, on = ("open", found) if r < 0.5 else ("rectifying", min(today, found + dt.timedelta(days=2)))
        on = max(on, found)
        out.append({"id": f"P{c['street_code']}-{n + 1:04d}", "compound_id": c["id"], "category": category,
                    "source": str(rng.choice(["12345", "patrol", "report"], p=[0.4, 0.4, 0.2])),
                    "company": c["property_company"], "found_on": found, "rectify_by": rectify_by, "state": state,
                    "state_on": on, "note": None})
    return out


def _dissuasions(problems: list[dict[str, Any]], org: dict[str, bool], rng: np.random.Generator,
                 today: dt.date) -> list[dict[str, Any]]:
    out = []
    for p in problems:
        if rng.random() > 0.35:
            continue
        failed = dt.datetime.combine(p["found_on"], dt.time(int(rng.integers(8, 20)), int(rng.integers(0, 60))))
        if failed.date() >= today:
            continue
        r = rng.random()

        def told(lo: float, hi: float, failed: dt.datetime = failed) -> dt.datetime:
            return failed + dt.timedelta(minutes=int(rng.integers(int(lo * 60), int(hi * 60))))
        rec = {"problem_id": p["id"], "failed_at": failed, "reported_street_at": told(1, 20),
               "reported_authority_at": told(2, 23.9), "reported_owners_org_at": told(1, 23) if org[p["compound_id"]]
               else None, "note": None}
        if r < 0.12:  # the department told after 24 hours
            rec["reported_authority_at"] = told(24.1, 40)
        elif r < 0.2 and org[p["compound_id"]]:  # the owners' organisation never told
            rec["reported_owners_org_at"] = None
        elif r < 0.25:  # the street never told
            rec["reported_street_at"] = None
        out.append(rec)
    return out


def _mediations(compounds: list[dict[str, Any]], rng: np.random.Generator, today: dt.date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    picked = [c for c in compounds if rng.random() < 0.06]
    for n, c in enumerate(picked):
        opened = today - dt.timedelta(days=int(rng.integers(3, 150)))
        mid = f"M{c['street_code']}-{n + 1:04d}"
        subject = str(rng.choice(SUBJECTS))
        first = {"id": mid, "compound_id": c["id"], "stage": "community", "opened_on": opened, "closed_on": None,
                 "outcome": None, "escalated_from": None, "subject": subject}
        out.append(first)
        r = rng.random()
        if r < 0.45:  # resolved in the community
            first["closed_on"] = min(today, opened + dt.timedelta(days=int(rng.integers(5, 30))))
            first["outcome"] = "resolved"
        elif r < 0.8 and (opened + dt.timedelta(days=30)) < today:  # escalated to the district mediation centre
            on = opened + dt.timedelta(days=int(rng.integers(20, 31)))
            first["closed_on"], first["outcome"] = on, "unresolved"
            second = {"id": f"{mid}-A", "compound_id": c["id"], "stage": "administrative", "opened_on": on,
                      "closed_on": None, "outcome": None, "escalated_from": mid, "subject": subject}
            out.append(second)
            r2 = rng.random()
            if r2 < 0.4 and on + dt.timedelta(days=20) < today:
                second["closed_on"], second["outcome"] = on + dt.timedelta(days=int(rng.integers(5, 20))), "resolved"
            elif r2 < 0.6 and on + dt.timedelta(days=31) < today:
                second["closed_on"], second["outcome"] = on + dt.timedelta(days=30), "unresolved"
                out.append({"id": f"{mid}-J", "compound_id": c["id"], "stage": "judicial",
                            "opened_on": on + dt.timedelta(days=30), "closed_on": None, "outcome": None,
                            "escalated_from": second["id"], "subject": subject})
        # else: still open in the community (past due when opened more than 30 days ago)
    return out


def _pilots(session: Session, rng: np.random.Generator, today: dt.date
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    year = pilot_year(today)
    by_street: dict[str, list[str]] = {}
    for code, street in session.execute(select(m.Community.code, m.Community.street_code).order_by(m.Community.code)):
        by_street.setdefault(street, []).append(code)
    streets = sorted(by_street)
    pilots, meetings, cases = [], [], []
    for k, street in enumerate(streets):
        if k == len(streets) - 1 and len(streets) > 1:  # the last street has not named its pilot: pilot_missing
            continue
        community = by_street[street][int(rng.integers(0, len(by_street[street])))]
        pilots.append({"year": year, "street_code": street, "community_code": community})
        skip_quarter = 2 if k == 0 else (4 if k == 3 else None)  # pilot_quarter_missing
        for q in range(1, 5):
            if q == skip_quarter:
                continue
            end = rules.quarter_end(year, q)
            held = end - dt.timedelta(days=int(rng.integers(5, 60)))
            meetings.append({"community_code": community, "held_on": held, "kind": "tripartite"})
            if rng.random() < 0.3:
                meetings.append({"community_code": community, "held_on": held - dt.timedelta(days=3), "kind": "joint"})
        if skip_quarter == 2:  # a wider joint meeting does not stand in for the tripartite one
            meetings.append({"community_code": community, "held_on": rules.quarter_end(year, 2) - dt.timedelta(days=9),
                             "kind": "joint"})
        n_cases = 1 if k in (1, 4) else int(rng.integers(2, 4))  # pilot_cases_short
        for j in range(n_cases):
            published = dt.date(year, int(rng.integers(3, 12)), int(rng.integers(1, 28)))
            cases.append({"community_code": community, "year": year, "title": f"{CASE_TITLES[(k + j) % len(CASE_TITLES)]}"
                          f"（{j + 1}）", "published_on": published})
        if k == 1:  # drafted, not published: does not count
            cases.append({"community_code": community, "year": year, "title": "待发布案例", "published_on": None})
        # this year's meetings so far (shown as progress, judged once each quarter ends)
        for q in range(1, rules.quarter_of(today) + 1):
            if today.year > year:
                held = min(today, rules.quarter_end(today.year, q)) - dt.timedelta(days=int(rng.integers(1, 20)))
                if held.year == today.year and held <= today:
                    meetings.append({"community_code": community, "held_on": held, "kind": "tripartite"})
    # de-duplicate (community, day, kind): a unique record per meeting
    seen, unique = set(), []
    for mt in meetings:
        key = (mt["community_code"], mt["held_on"], mt["kind"])
        if key not in seen:
            seen.add(key)
            unique.append(mt)
    return pilots, unique, cases
