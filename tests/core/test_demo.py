"""The synthetic demo: deterministic, inside the district and its streets, same on both databases."""

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
