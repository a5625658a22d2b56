"""Bulk inserts fill SpatiaLite's R*Tree once (geoplatform.db.deferred_spatial_index): same index, same triggers."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa

from geoplatform import models as m
from geoplatform import revcounter
from geoplatform.db import BULK_INDEX_MIN_ROWS, deferred_spatial_index, is_sqlite, session_scope
from geoplatform.store import insert_records
from layers.features import bbox_clause

N = BULK_INDEX_MIN_ROWS + 234


def _squares(n: int, prefix: str = "BULK", y0: float = 40.63) -> list[dict]:
    out = []
    for i in range(n):  # a 50-wide grid of small squares in the urban core
        x, y = 109.78 + (i % 50) * 0.0002, y0 + (i // 50) * 0.0002
        out.append({"id": f"{prefix}-{i:05d}", "geom": shapely.MultiPolygon([shapely.box(x, y, x + 0.0001, y + 0.0001)]),
                    "floors": 3, "source": "test"})
    return out


def _triggers(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as c:
        return sorted(c.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                        "AND tbl_name = 'building'").all())


def _in_bbox(engine: sa.Engine, bbox: tuple[float, float, float, float]) -> set[str]:
    t = m.Building.__table__
    with engine.connect() as c:
        return set(c.execute(sa.select(t.c.id).where(bbox_clause(engine, t, "geom", bbox))).scalars())


def _counter_and_scan(engine: sa.Engine) -> tuple[tuple[int, int], tuple[int, int]]:
    """The data revision's counter of `building` (rows, Σ version) and the same figures by scanning the table."""
    with engine.connect() as c:
        counted = revcounter.read(c)["building"][:2]
        scanned = c.exec_driver_sql("SELECT count(*), coalesce(sum(version), 0) FROM building").one()
    return counted, tuple(scanned)


def test_bulk_insert_fills_the_index_and_keeps_the_triggers(engine) -> None:  # noqa: ANN001
    before = _triggers(engine) if is_sqlite(engine) else []
    with session_scope(engine) as s:
        insert_records(s, "building", _squares(5, "SMALL", 40.70))  # the per-row trigger path
        insert_records(s, "building", _squares(N))  # the bulk path
    if is_sqlite(engine):
        assert _triggers(engine) == before and len(before) >= 6
        with engine.connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM idx_building_geom").scalar() == N + 5
            outside = c.exec_driver_sql(  # every box holds its geometry (the R*Tree rounds outward)
                "SELECT count(*) FROM building b JOIN idx_building_geom i ON i.pkid = b.rowid "
                "WHERE i.xmin > MbrMinX(b.geom) OR i.xmax < MbrMaxX(b.geom) "
                "OR i.ymin > MbrMinY(b.geom) OR i.ymax < MbrMaxY(b.geom)").scalar()
            assert outside == 0
    squares = _squares(N)
    for k in (0, 777, N - 1):  # a bbox around one square finds exactly it (its neighbours are 0.0001° apart)
        x0, y0, x1, y1 = squares[k]["geom"].bounds
        assert _in_bbox(engine, (x0 + 1e-6, y0 + 1e-6, x1 - 1e-6, y1 - 1e-6)) == {squares[k]["id"]}
    assert len(_in_bbox(engine, (109.0, 40.0, 110.0, 41.0))) == N + 5
    counted, scanned = _counter_and_scan(engine)  # the bulk rows counted at once, as the per-row trigger would
    assert counted == scanned and scanned[0] == N + 5
    # later single-row writes still go through the restored triggers
    with session_scope(engine) as s:
        insert_records(s, "building", [{"id": "LATE", "geom": shapely.MultiPolygon([shapely.box(109.70, 40.70, 109.7001, 40.7001)]),
                                        "source": "test"}])
    assert _in_bbox(engine, (109.6999, 40.6999, 109.7002, 40.7002)) == {"LATE"}
    counted, scanned = _counter_and_scan(engine)  # ...and the restored counter trigger counts the next row
    assert counted == scanned and scanned[0] == N + 6


def test_an_error_inside_the_bulk_insert_rolls_back_index_and_triggers(engine) -> None:  # noqa: ANN001
    before = _triggers(engine) if is_sqlite(engine) else []
    rows = _squares(N)
    rows[-1]["id"] = rows[0]["id"]  # a duplicate key: the insert fails after most rows went in
    with pytest.raises(sa.exc.IntegrityError), session_scope(engine) as s:
        insert_records(s, "building", rows)
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(m.Building)).scalar() == 0
        if is_sqlite(engine):
            assert c.exec_driver_sql("SELECT count(*) FROM idx_building_geom").scalar() == 0
    if is_sqlite(engine):
        assert _triggers(engine) == before
    assert _counter_and_scan(engine) == ((0, 0), (0, 0))


def test_small_inserts_keep_the_per_row_triggers_and_bulk_ones_defer_them(engine) -> None:  # noqa: ANN001
    if not is_sqlite(engine):
        pytest.skip("SpatiaLite triggers (PostGIS keeps its GiST index live: a no-op there)")
    per_row = "SELECT count(*) FROM sqlite_master WHERE name IN ('ggi_building_geom', 'gii_building_geom', 'tmi_building_geom')"
    with engine.begin() as c:
        with deferred_spatial_index(c, "building", ["geom"], BULK_INDEX_MIN_ROWS - 1):
            assert c.exec_driver_sql(per_row).scalar() == 3  # small: the triggers stay
        with deferred_spatial_index(c, "building", ["geom"], BULK_INDEX_MIN_ROWS):
            assert c.exec_driver_sql(per_row).scalar() == 0  # bulk: dropped for the body
        assert c.exec_driver_sql(per_row).scalar() == 3  # and back afterwards


def test_postgis_bulk_insert_is_untouched(engine) -> None:  # noqa: ANN001
    if is_sqlite(engine):
        pytest.skip("PostGIS only")
    with engine.begin() as c, deferred_spatial_index(c, "building", ["geom"], BULK_INDEX_MIN_ROWS * 10):
        indexes = {r[0] for r in c.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'building'")}
    assert "idx_building_geom" in indexes


def test_sqlite_connections_get_a_page_cache_for_big_imports(engine) -> None:  # noqa: ANN001
    from geoplatform.db import SQLITE_CACHE_KIB

    if not is_sqlite(engine):
        pytest.skip("a SQLite connection setting")
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB


@pytest.mark.parametrize("bad", ["POINT(109.8 40.6)", "MULTIPOLYGON(((109.8 40.6, 109.9 40.6, 109.9 40.7, 109.8 40.6)))"])
def test_a_bulk_insert_still_refuses_a_geometry_of_the_wrong_type_or_srid(engine, bad: str) -> None:  # noqa: ANN001
    """The deferred type/SRID check (SpatiaLite's ggi trigger, run once over the new rows) refuses like the trigger."""
    if not is_sqlite(engine):
        pytest.skip("PostGIS checks the typmod per row itself")
    before = _triggers(engine)
    srid = 4326 if bad.startswith("POINT") else 4490  # a point in a MultiPolygon column; a multipolygon in another SRID
    good = "MULTIPOLYGON(((109.8 40.6, 109.9 40.6, 109.9 40.7, 109.8 40.6)))"
    rows = [(f"B{i}", good if i != N // 2 else bad, 4326 if i != N // 2 else srid) for i in range(N)]
    with pytest.raises(sa.exc.IntegrityError, match="violates Geometry constraint"), engine.begin() as c, \
            deferred_spatial_index(c, "building", ["geom"], N):
        c.exec_driver_sql("INSERT INTO building (id, geom, source, version) VALUES (?, GeomFromText(?, ?), 't', 1)",
                          rows)
    assert _triggers(engine) == before
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(m.Building)).scalar() == 0
        assert c.exec_driver_sql("SELECT count(*) FROM idx_building_geom").scalar() == 0
