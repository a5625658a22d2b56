"""The synthetic demo: deterministic, inside the district and its streets, same on both databases."""

import pytest
import shapely
from sqlalchemy import func, select

from geoplatform import demo
from geoplatform.context import Context
from geoplatform.models import Building, Compound
from geoplatform.store import read_frame
from tests.conftest import _demo_data


def test_deterministic_per_seed():
    a = demo.generate(scale=0.2, seed=7)
    b = demo.generate(scale=0.2, seed=7)
    c = demo.generate(scale=0.2, seed=8)
    key = lambda d: [(r["id"], r["name"], r["management_mode"]) for r in d.tables["compound"]]  # noqa: E731
    assert key(a) == key(b)
    assert key(a) != key(c)


def test_demo_is_plausible(demo_url):
    ctx = Context.create(demo_url)
    with ctx.session(readonly=True) as s:
        compounds = read_frame(s, "compound")
        streets = read_frame(s, "street")
        district = read_frame(s, "district")
        nb = s.scalar(select(func.count()).select_from(Building))
        orphans = s.scalar(select(func.count()).select_from(Building).where(Building.compound_id.is_(None)))
    assert 900 <= len(compounds) <= 1200
    assert 9_000 <= nb <= 14_000
    assert 100 <= orphans <= 600
    served = compounds.management_mode.isin(["professional", "state_owned"]).mean()
    assert 0.60 <= served <= 0.70
    assert len(streets) == 15
    # all compounds inside the district and inside their own street
    outline = district.geometry.iloc[0]
    located = compounds.geometry.where(~compounds.geometry.isna(), compounds.location)
    assert shapely.covers(outline, located.values).all()
    street_geom = streets.set_index("code").geometry
    for code, group in compounds.groupby("street_code"):
        g = located[group.index]
        assert shapely.covers(street_geom[code], g.values).all(), code
    # streets tile the district: no gaps, no overlaps (up to float noise)
    union = shapely.union_all(streets.geometry.values)
    assert abs(union.area - district.geometry.iloc[0].area) / union.area < 1e-6
    assert abs(sum(g.area for g in streets.geometry) - union.area) / union.area < 1e-6  # ratios: degrees² do
    # dense south, few compounds in the two towns
    per_street = compounds.street_code.value_counts()
    assert per_street["150203100"] < 60 and per_street["150203102"] < 60
    assert compounds.source.str.contains("synthetic").all()
    assert compounds.boundary.isna().sum() >= 1  # some ledger entries are point-only


def test_same_counts_on_both_databases(demo_url, tmp_path):
    ctx = Context.create(demo_url)
    with ctx.session(readonly=True) as s:
        counts = (s.scalar(select(func.count()).select_from(Compound)), s.scalar(select(func.sum(Compound.households))))
    d = _demo_data()  # demo.generate(scale=1, seed=42), generated once per run
    assert counts == (len(d.tables["compound"]), sum(r["households"] for r in d.tables["compound"]))


def test_demo_cli_and_summary(db_url, cli_run):
    import json

    res = cli_run(db_url, "demo", "--scale", "0.1", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["counts"]["compound"] > 50
    res = cli_run(db_url, "summary", "--json")
    summary = json.loads(res.stdout)
    assert summary["district"]["compounds"] == out["counts"]["compound"]
    assert sum(s["compounds"] for s in summary["streets"]) == out["counts"]["compound"]
    assert summary["district"]["buildings"] == out["counts"]["building"]


def test_loaded_rows_are_the_generated_ones(demo_url):
    """The demo database holds exactly the generated rows (PostGIS: written by COPY through the set-wise key and
    index path), column defaults filled as an INSERT fills them, each ledger item under its own handover."""
    from collections import Counter

    from sqlalchemy import text

    from geoplatform.models import Garage, Handover, LedgerItem

    d = _demo_data()
    ctx = Context.create(demo_url)
    with ctx.session(readonly=True) as s:
        assert sorted(s.scalars(select(Building.id))) == sorted(r["id"] for r in d.tables["building"])
        assert s.scalar(select(func.sum(Building.floor_area_m2))) == \
            pytest.approx(sum(r["floor_area_m2"] for r in d.tables["building"]))
        assert s.scalar(select(func.count()).select_from(Garage).where(Garage.version == 1)) == len(d.tables["garage"])
        assert s.scalar(select(func.count()).select_from(Compound).where(Compound.updated_at.is_(None))) == 0
        got = Counter(s.execute(select(Handover.compound_id, Handover.facility, func.count(LedgerItem.id))
                                .outerjoin(LedgerItem, LedgerItem.handover_id == Handover.id)
                                .group_by(Handover.id)).all())
        want = Counter((r["compound_id"], r["facility"], len(r.get("_ledger") or ())) for r in d.tables["handover"])
        assert got == want
        assert s.scalar(select(func.count()).select_from(LedgerItem).where(LedgerItem.created_at.is_(None))) == 0
        if demo_url.startswith("postgresql"):  # the keys and GiST indexes the bulk path dropped are back, validated
            cons = set(s.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = 'building'::regclass "
                                      "AND contype = 'f' AND convalidated")).scalars())
            assert {fk.name for fk in Building.__table__.foreign_keys if fk.name} <= cons and len(cons) == 2
            idx = " ".join(s.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'building'")).scalars())
            assert "USING gist (geom)" in idx
