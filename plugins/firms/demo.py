"""The firms part of the synthetic demo (labelled synthetic): credit events, contracts with their filings, two
quarters of street scores (the older one published), fee disclosures — all relative to `today`.

Called through the `load_demo` hook after the core demo is loaded (same transaction): it reads the core's
firms and compounds from the session, keeps the firms' cached grade / blacklist fields in step with the
events it writes, and gives each contracted compound a `contract_end` matching its contract.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, update

from geoplatform import models as m
from geoplatform.store import insert_records
from plugins.firms import rules
from plugins.firms.settings import FirmsSettings

SOURCE = "synthetic demo"
BLACKLISTED = 7  # index of the blacklisted firm among the core demo's firms
NO_GRADE = 18  # a firm never graded (eligible with a warning)


def _day_in(rng: np.random.Generator, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))


class _Records:
    """The records to insert, by table (the demo's own `DemoData` shape)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def setdefault(self, table: str) -> list[dict[str, Any]]:
        return self.tables.setdefault(table, [])

    def add(self, table: str, rec: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(rec)


def load_demo_records(session: Any, seed: int, today: dt.date, settings: FirmsSettings | None = None) -> dict[str, int]:
    """Insert the firms' demo records over the core demo in `session`; returns {table: rows}."""
    firms = [{"name": n, "state_owned": bool(so)} for n, so in session.execute(
        select(m.PropertyCompany.name, m.PropertyCompany.state_owned).order_by(m.PropertyCompany.id))]
    compounds = [{"id": i, "street_code": st, "management_mode": mode, "company": firm} for i, st, mode, firm in
                 session.execute(select(m.Compound.id, m.Compound.street_code, m.Compound.management_mode,
                                        m.Compound.company).order_by(m.Compound.id))]
    data = _Records()
    build(data, firms, compounds, seed, today, settings)
    counts = {}
    for table in ("firm_credit_event", "service_contract", "firm_assessment", "firm_ranking", "fee_disclosure"):
        counts[table] = insert_records(session, table, data.tables.get(table, []))
    firm_table, comp_table = m.PropertyCompany.__table__, m.Compound.__table__
    if firms:  # the cached fields follow the events (Core updates: the demo is loading, no version bump)
        session.execute(update(firm_table).where(firm_table.c.name == bindparam("n")).values(
            credit_grade=bindparam("g"), blacklisted=bindparam("b")),
            [{"n": f["name"], "g": f.get("credit_grade"), "b": bool(f.get("blacklisted"))} for f in firms])
    ends = [{"i": c["id"], "e": c.get("contract_end")} for c in compounds if "contract_end" in c]
    if ends:
        session.execute(update(comp_table).where(comp_table.c.id == bindparam("i")).values(
            contract_end=bindparam("e")), ends)
    session.flush()
    return counts


def build(data: Any, firms: list[dict[str, Any]], compounds: list[dict[str, Any]], seed: int, today: dt.date,
          settings: FirmsSettings | None = None) -> None:
    """The records (in `data`), from the core demo's firms and compounds (whose dicts get `credit_grade`,
    `blacklisted` and `contract_end` set to match)."""
    settings = settings or FirmsSettings()
    rng = np.random.default_rng(seed + 7001)
    events = data.setdefault("firm_credit_event")
    scale = settings.grade_scale
    for i, firm in enumerate(firms):
        grade = None if i == NO_GRADE else ("AA" if firm.get("state_owned") else scale[i % len(scale)])
        if grade is not None:
            on = today - dt.timedelta(days=int(rng.integers(20, 300)))
            events.append({"company": firm["name"], "on": on, "kind": "grade", "grade": grade,
                           "expires_on": settings.event_expiry(on), "source": SOURCE, "ref": f"{on.year}年度信用评价",
                           "detail": "", "created_by": "demo", "created_at": dt.datetime(on.year, on.month, on.day)})
        black = i == BLACKLISTED
        if black:
            on = today - dt.timedelta(days=60)
            events.append({"company": firm["name"], "on": on, "kind": "blacklisted", "grade": None,
                           "expires_on": settings.event_expiry(on), "source": SOURCE, "ref": None,
                           "detail": "拒不整改消防通道堵塞问题", "created_by": "demo",
                           "created_at": dt.datetime(on.year, on.month, on.day)})
        firm["credit_grade"], firm["blacklisted"] = grade, black

    served = [c for c in compounds if c.get("management_mode") in settings.served_modes and c.get("company")]
    contracts = data.setdefault("service_contract")
    for c in served:
        r = rng.random()
        if r < 0.12:
            c["contract_end"] = None
            continue  # served, no contract recorded (查漏补缺)
        r = rng.random()
        if r < 0.06:
            end = today - dt.timedelta(days=int(rng.integers(1, 200)))
        elif r < 0.12:
            end = today + dt.timedelta(days=int(rng.integers(0, settings.expiring_urgent_days + 1)))
        elif r < 0.20:
            end = today + dt.timedelta(days=int(rng.integers(settings.expiring_urgent_days + 1,
                                                             settings.expiring_days + 1)))
        else:
            end = today + dt.timedelta(days=int(rng.integers(settings.expiring_days + 1, 3 * 365)))
        start = end - dt.timedelta(days=3 * 365 - 1)
        rec = {"id": f"HT-{c['id']}", "compound_id": c["id"], "company": c["company"], "start": start, "end": end,
               "source": SOURCE, "version": 1}
        for k, filing in enumerate(rules.FILINGS):
            rec[f"{filing}_filed_on"] = start + dt.timedelta(days=5 + 10 * k) if rng.random() < 0.88 else None
        contracts.append(rec)
        c["contract_end"] = end

    # two closed quarters of street scores; the older one published (its lists are credit events)
    last_q = rules.previous_quarter(rules.quarter_of(today))
    older_q = rules.previous_quarter(last_q)
    by_street: dict[str, list[str]] = {}
    for c in served:
        by_street.setdefault(c["street_code"], [])
        if c["company"] not in by_street[c["street_code"]]:
            by_street[c["street_code"]].append(c["company"])
    scores = data.setdefault("firm_assessment")
    for quarter in (older_q, last_q):
        rows = []
        for street in sorted(by_street):
            for firm in sorted(by_street[street]):
                base = 62.0 if firm == firms[BLACKLISTED]["name"] else 82.0
                value = round(float(np.clip(rng.normal(base, 7), 40, 99)), 1)
                rows.append((street, firm, value))
                scores.append({"street_code": street, "quarter": quarter, "company": firm, "score": value,
                               "scored_by": "demo", "updated_at": dt.datetime.combine(today, dt.time(9)), "version": 1})
        if quarter == older_q:
            ranking = rules.rank_quarter(quarter, rows, settings).as_dict()
            on = rules.quarter_bounds(last_q)[0] + dt.timedelta(days=14)
            data.add("firm_ranking", {**ranking, "published_on": on, "published_by": "demo", "version": 1})
            for kind, listed in (("good_list", ranking["good"]), ("bad_list", ranking["bad"])):
                events.extend({"company": f, "on": on, "kind": kind, "grade": None, "expires_on": settings.event_expiry(on),
                               "source": SOURCE, "ref": quarter, "detail": "", "created_by": "demo",
                               "created_at": dt.datetime(on.year, on.month, on.day)} for f in listed)

    # fee disclosures: most compliant, some too short (14 days), some missing, some on a half-year's last day
    disclosures = data.setdefault("fee_disclosure")
    for c in served:
        for period in rules.half_years(settings.disclosure_start, today):
            first, last = rules.half_year_bounds(period)
            r = rng.random()
            if r < 0.10:
                continue  # missing
            if r < 0.16:
                start, days = _day_in(rng, first, last - dt.timedelta(days=20)), settings.disclosure_min_days - 1
            elif r < 0.20:
                start, days = last, settings.disclosure_min_days
            else:
                start, days = _day_in(rng, first, last - dt.timedelta(days=40)), int(rng.integers(15, 31))
            if start > today:
                continue
            disclosures.append({"compound_id": c["id"], "start": start, "end": start + dt.timedelta(days=days - 1),
                                "source": SOURCE, "version": 1})
