"""A small world for the owners' organisation tests, built in code: 2 streets, 3 communities, 12 compounds,
and organisations whose states are known by construction (the KPI's hand count is written beside them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely

from geoplatform.store import insert_records

TODAY = dt.date(2026, 3, 15)
A, B = "150203001", "150203002"
COMMUNITIES = [{"code": "150203001001", "street_code": A, "name": "甲一社区"},
               {"code": "150203001002", "street_code": A, "name": "甲二社区"},
               {"code": "150203002001", "street_code": B, "name": "乙一社区"}]
STREETS = [{"code": A, "name": "甲街道", "kind": "subdistrict", "aliases": [],
            "geom": shapely.MultiPolygon([shapely.box(109.70, 40.60, 109.80, 40.70)])},
           {"code": B, "name": "乙街道", "kind": "subdistrict", "aliases": [],
            "geom": shapely.MultiPolygon([shapely.box(109.80, 40.60, 109.90, 40.70)])}]
PASSWORD = "correct-horse-battery"

# compound → (street, community, compound.owners_org as stored, what the records make of it)
COMPOUNDS: dict[str, tuple[str, str, str, str]] = {
    "a-active": (A, "150203001001", "owners_committee", "active"),
    "a-active2": (A, "150203001001", "owners_committee", "active"),
    "a-filed": (A, "150203001002", "owners_committee", "filed"),
    "a-mc": (A, "150203001002", "management_committee", "active"),
    "a-declared": (A, "150203001001", "owners_committee", "active"),  # no record: declared from the field
    "a-expired": (A, "150203001002", "owners_committee", "term_expired"),
    "a-reelect": (A, "150203001001", "owners_committee", "re_election_required"),
    "a-prep": (A, "150203001001", "preparing", "preparing"),
    "a-none": (A, "150203001002", "none", "none"),
    "a-unknown": (A, "150203001002", "unknown", "unknown"),
    "b-active": (B, "150203002001", "owners_committee", "active"),
    "b-none": (B, "150203002001", "none", "none"),
}
# The hand count of RULES §1 over these compounds (active or filed; lapsed not; unknown apart)
HAND = {A: {"compounds": 10, "known": 9, "counting": 5}, B: {"compounds": 2, "known": 2, "counting": 1}}
HAND_LAPSED = {A: {"counting": 7}, B: {"counting": 1}}  # with count_lapsed = true


def _compound(cid: str, i: int) -> dict[str, Any]:
    street, community, org, _ = COMPOUNDS[cid]
    x = (109.71 if street == A else 109.81) + 0.005 * i
    box = shapely.box(x, 40.65, x + 0.003, 40.653)
    return {"id": cid, "name": f"测试{cid}小区", "aliases": [], "street_code": street, "community_code": community,
            "boundary": shapely.MultiPolygon([box]), "location": box.centroid, "households": 100 + i,
            "management_mode": "professional", "owners_org": org, "renovation": "none", "demolition_planned": False,
            "source": "test", "version": 1}


def committee(org_id: str, cid: str, term_start: dt.date, seats: int = 7, party: int = 4, alternates: int = 2,
              kind: str = "owners_committee", registered: bool = True, term_years: int = 5) -> tuple[dict, list[dict]]:
    """An organisation record in office from `term_start` with its members (all checks passed)."""
    org = {"id": org_id, "compound_id": cid, "kind": kind, "seats": seats,
           "prep_group_on": term_start - dt.timedelta(days=90), "elected_on": term_start - dt.timedelta(days=20),
           "filed_on": term_start - dt.timedelta(days=10),
           "registered_on": term_start - dt.timedelta(days=5) if registered and kind == "owners_committee" else None,
           "term_start": term_start, "term_end": term_start.replace(year=term_start.year + term_years) - dt.timedelta(days=1),
           "party_org_on": term_start + dt.timedelta(days=10), "declared": False, "source": "test"}
    members = []
    for i in range(seats + alternates):
        role = "chair" if i == 0 else "member" if i < seats else "alternate"
        members.append({"id": f"{org_id}-m{i + 1}", "org_id": org_id, "person": f"委员{i + 1}", "role": role,
                        "party_member": i < party, "public_servant": False, "check_police": True, "check_credit": True,
                        "check_community": True, "check_discipline": True if i < party else None,
                        "votes": 500 - 10 * i, "start": term_start, "end": None, "source": "test"})
    return org, members


def evaluations(org_id: str, periods: list[str], grade: str = "qualified") -> list[dict[str, Any]]:
    """One evaluation per half-year (held 10 days after it ended)."""
    from plugins.owners_org.rules import period_bounds

    return [{"org_id": org_id, "period": p, "grade": grade, "held_on": period_bounds(p)[1] + dt.timedelta(days=10),
             "source": "test"} for p in periods]


def load(ctx: Any) -> None:
    """Streets, communities, compounds and the organisations of COMPOUNDS (states as of TODAY)."""
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    orgs, members, evals = [], [], []
    for cid, start, kw in (("a-active", dt.date(2024, 1, 1), {}), ("a-active2", dt.date(2023, 7, 1), {}),
                           ("a-filed", dt.date(2025, 12, 1), {"registered": False}),
                           ("a-mc", dt.date(2024, 6, 1), {"kind": "management_committee", "seats": 5, "party": 3}),
                           ("a-expired", dt.date(2021, 3, 1), {}),
                           ("a-reelect", dt.date(2024, 1, 1), {}), ("b-active", dt.date(2024, 1, 1), {})):
        org, mem = committee(f"{cid}-org1", cid, start, **kw)
        orgs.append(org)
        members += mem
        evals += evaluations(org["id"], ["2025H1", "2025H2"])
    evals = [e for e in evals if e["org_id"] != "a-reelect-org1"] + evaluations("a-reelect-org1", ["2025H1", "2025H2"],
                                                                                   "unqualified")
    orgs.append({"id": "a-prep-org1", "compound_id": "a-prep", "kind": "owners_committee", "seats": None,
                 "prep_group_on": dt.date(2026, 1, 10), "declared": False, "source": "test"})
    with ctx.session() as s:
        insert_records(s, "street", STREETS)
        insert_records(s, "community", COMMUNITIES)
        insert_records(s, "compound", [_compound(cid, i) for i, cid in enumerate(COMPOUNDS)])
        insert_records(s, "owners_org", [_full_org(o) for o in orgs])
        insert_records(s, "org_member", members)
        insert_records(s, "org_evaluation", evals)
        service.sync_compounds(s, None, TODAY, OwnersOrgSettings(), user=None)


def _full_org(org: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "compound_id", "kind", "seats", "prep_group_on", "elected_on", "filed_on", "registered_on",
            "term_start", "term_end", "party_org_on", "dissolved_on", "declared", "source")
    return {k: org.get(k, False if k == "declared" else None) for k in keys}


def add_users(ctx: Any) -> dict[str, str]:
    """One account per role (and an officer of the other street); returns {name: API token}."""
    from geoplatform import auth as accounts

    users = [("oo_officer", "street_officer", A, None), ("oo_officer_b", "street_officer", B, None),
             ("oo_community", "community_officer", None, "150203001001"),
             ("oo_community_b", "community_officer", None, "150203002001"),
             ("oo_admin", "admin", None, None), ("oo_bureau", "bureau", None, None), ("oo_viewer", "viewer", None, None)]
    with ctx.session() as s:
        for name, role, street, community in users:
            accounts.add_user(s, name, role, PASSWORD, street, community=community)
        return {name: accounts.new_token(s, name) for name, *_ in users}
