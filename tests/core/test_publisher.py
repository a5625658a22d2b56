"""The next revision computed after a write — carried over in process, or by the server's worker process
(geoplatform/publisher.py) — equals a full recomputation, after edits of every kind, on both databases.

Compared after each edit: the compound frame, every plugin's attributes, and the per-revision answers a map view
asks for (a dot map of each compound layer below, the street KPI report, the bundling plan) against a fresh
Context computing everything from the database. With the worker, the server process itself computes none of it
(its plugin computation and those builders are made to fail): the work left the interpreter the readers use.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.readcache import set_read_floor
from tests.core import layer_fixtures as lf

DOT_LAYERS = ("coverage", "firm_status", "takeover_candidates", "bundling_orphans", "charging")
ZOOM = 11  # below every compound layer's detail zoom: dot maps


@pytest.fixture(autouse=True)
def _no_floor_from_earlier_tests() -> None:
    set_read_floor(0)  # (the floor only rises within a thread: see tests/core/test_readcache.py)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing is missing (None / NaN / NA) whatever the dtype; geometry as WKB."""
    frame = pd.DataFrame(frame).copy()
    for col in frame.columns:
        if len(frame) and isinstance(frame[col].iloc[0] if frame[col].notna().any() else None, shapely.Geometry) \
                or str(frame[col].dtype) == "geometry":
            frame[col] = [None if g is None else shapely.to_wkb(g, hex=True) for g in frame[col]]
    frame = frame.astype(object)
    return frame.where(pd.notna(frame), None).sort_index()


def _answers(context: Context) -> dict:
    """What the map views of one revision read, through the context's caches."""
    from plugins.bundling.service import cached_plan
    from plugins.coverage.service import street_kpi_frame
    from web import layerdata
    from web.maplayers import find_layer

    street_kpi_frame(context)  # the KPI report through its memo
    return {"kpi": context.memo("coverage.kpi_report", _no_build), "plan": cached_plan(context).orphans,
            **{f"dots|{lid}": layerdata.layer_geojson_text(context, find_layer(context, lid), None, ZOOM, None, "zh")
               for lid in DOT_LAYERS if find_layer(context, lid) is not None}}


def _no_build() -> None:
    raise AssertionError("the KPI report was not cached for this revision")


def _expected(url: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A full recomputation by a fresh Context (no previous revision to carry over)."""
    active, _Guard.active = _Guard.active, False
    try:
        fresh = Context.create(url)
        frame = fresh._read_compounds()
        attrs = fresh._compute_attributes(frame)
        answers = _answers(fresh)
        fresh.engine.dispose()
    finally:
        _Guard.active = active
    return frame, attrs, answers


def _check(context: Context, url: str) -> None:
    frame, attrs, answers = _expected(url)
    pd.testing.assert_frame_equal(_plain(context.compounds_frame()), _plain(frame))
    pd.testing.assert_frame_equal(_plain(context.compound_attributes()), _plain(attrs))
    got = _answers(context)
    assert got.keys() == answers.keys() and len(got) >= 4
    for key, value in answers.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(_plain(got[key].set_index("orphan_id")), _plain(value.set_index("orphan_id")))
        else:
            assert got[key] == value, key


def _edits() -> list[tuple[str, object]]:
    def mode(s) -> None:  # noqa: ANN001
        c = s.get(m.Compound, "c2")
        c.management_mode = "none"

    def street(s) -> None:  # noqa: ANN001
        s.get(m.Compound, "c5").street_code = "150203001"

    def geometry(s) -> None:  # noqa: ANN001
        c = s.get(m.Compound, "c4")
        box = shapely.box(109.72, 40.62, 109.723, 40.623)
        c.boundary = f"SRID=4326;{shapely.MultiPolygon([box]).wkt}"
        c.location = f"SRID=4326;{box.centroid.wkt}"

    def plugin_fields(s) -> None:  # noqa: ANN001
        s.add(m.PropertyCompany(name="甲物业", filed=True))
        c = s.get(m.Compound, "c1")
        c.company = "甲物业"
        c.owners_org = "none"
        s.add(m.Garage(id="g1", compound_id="c4", garage_type="underground"))

    def new_compound(s) -> None:  # noqa: ANN001
        box = shapely.box(109.88, 40.68, 109.882, 40.682)
        s.add(m.Compound(id="c6", name="小区c6", street_code="150203002", management_mode="none", households=80,
                         boundary=f"SRID=4326;{shapely.MultiPolygon([box]).wkt}",
                         location=f"SRID=4326;{box.centroid.wkt}"))

    return [("mode", mode), ("street", street), ("geometry", geometry), ("plugin fields", plugin_fields),
            ("new compound", new_compound)]


@pytest.mark.parametrize(("db_url", "worker"), [("sqlite", False), ("postgis", False), ("sqlite", True)],
                         ids=["sqlite-in_process", "postgis-in_process", "sqlite-worker"], indirect=["db_url"])
def test_the_next_revision_equals_a_full_recomputation(ctx, db_url, worker, monkeypatch) -> None:  # noqa: ANN001
    """(The worker reads the database as any process does: SpatiaLite is enough to test its side.)"""
    lf.load(ctx)
    if worker:
        ctx.start_publisher()
    try:
        _check(ctx, db_url)  # the first revision (a full computation, in the worker with one)
        if worker:  # from now on this process computes none of it for `ctx` (a fresh context still may)
            _forbid_in_server(ctx, monkeypatch)
        done = []
        for k, (what, edit) in enumerate(_edits()):
            with ctx.session() as s:
                edit(s)
            ctx.compound_attributes()  # this write's revision, carried from the previous one
            done.append(what)
            if k % 2 == 0:
                try:
                    _check(ctx, db_url)
                except AssertionError as exc:
                    raise AssertionError(f"after the edits {done}: {exc}") from exc
        if worker:
            assert ctx._publisher.alive
    finally:
        ctx.stop_publisher()


class _Guard:
    """Makes the builders fail when this process runs them, except while the expected answers are computed."""

    active = False


def _forbid_in_server(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.layerdata
    from plugins.bundling import service as bundling
    from plugins.coverage import service as coverage

    def guarded(real):  # noqa: ANN001, ANN202
        def call(*args, **kw):  # noqa: ANN002, ANN003, ANN202
            assert not _Guard.active, f"{real.__name__} computed in the server process"
            return real(*args, **kw)
        return call

    monkeypatch.setattr(ctx, "_compute_plugin", lambda *a: pytest.fail("plugin attributes computed in the server"))
    monkeypatch.setattr(web.layerdata, "dot_map_text", guarded(web.layerdata.dot_map_text))
    monkeypatch.setattr(coverage, "kpi_report", guarded(coverage.kpi_report))
    monkeypatch.setattr(bundling, "compute_plan", guarded(bundling.compute_plan))
    monkeypatch.setattr(_Guard, "active", True)


@pytest.mark.parametrize(("value", "on"), [(None, True), ("0", False), ("off", False), ("1", True)])
def test_the_worker_setting(monkeypatch, value, on) -> None:  # noqa: ANN001
    from geoplatform.config import load_config

    if value is None:
        monkeypatch.delenv("GEOPLATFORM_RECOMPUTE_WORKER", raising=False)
    else:
        monkeypatch.setenv("GEOPLATFORM_RECOMPUTE_WORKER", value)
    assert load_config("sqlite:///x.sqlite").recompute_worker is on


def test_no_worker_for_an_in_memory_database() -> None:
    context = Context.create("sqlite://")
    context.start_publisher()  # another process would see another (empty) database
    assert context._publisher is None
