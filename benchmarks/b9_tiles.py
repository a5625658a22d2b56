"""B9: the vector tile endpoint vs the database's own ST_AsMVT for the same tile; cached tile vs static bytes.

Ours: `GET /api/v1/tiles/coverage/{z}/{x}/{y}.mvt` (the layer's features and attributes through the
layer engine, encoded by ST_AsMVT on PostGIS, by mapbox-vector-tile on SpatiaLite). The peer: a route on
the same app (same HTTP stack, same token auth) answering one `ST_AsMVT(ST_AsMVTGeom(…))` query straight
on the compound table with the same attributes — on PostGIS; for a SpatiaLite run the peer is that query
on the PostGIS database of the same scale (SpatiaLite has no MVT function), when the run has one.
Both tiles must hold the same compounds. The response cache is emptied before every cold request; the
per-revision work (plugin attributes) is done once, untimed, like B4.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate, interleaved_gets

LAYER = "coverage"
CENTRE = (109.801, 40.643)  # B4's street-zoom viewport
ZOOMS = (14, 12)  # a street-level tile and a district-level tile (most compounds of the district)
CACHED_N = 200
PROPS = ("name", "management_mode", "company", "households", "owners_org", "build_year")
TARGET_COLD = 1.5
TARGET_CACHED = 1.25  # cached throughput ≥ 0.8× the static route's

PEER_SQL = (
    "SELECT ST_AsMVT(t, 'coverage', 4096, 'geom') FROM ("
    " SELECT id AS _id, name, management_mode, company, households, owners_org, build_year,"
    " ST_AsMVTGeom(ST_Transform(coalesce(boundary, location), 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true)"
    " AS geom FROM compound"
    " WHERE boundary && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 4326)"
    " OR (boundary IS NULL AND location && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 4326))"
    ") AS t WHERE t.geom IS NOT NULL"
)


def tile_at(z: int, lon: float, lat: float) -> tuple[int, int, int]:
    """The XYZ tile holding lon/lat at zoom z."""
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def ids_of(tile: bytes) -> set[str]:
    """The `_id`s of the features of a tile's layers."""
    import mapbox_vector_tile

    if not tile:
        return set()
    return {str(f["properties"].get("_id")) for layer in mapbox_vector_tile.decode(tile).values()
            for f in layer["features"]}


def verify(ours: bytes, peer: bytes, tile: str = "") -> set[str]:
    """Both tiles hold the same features (by `_id`), and some; returns their ids."""
    o, p = ids_of(ours), ids_of(peer)
    check(bool(p), f"B9: tile {tile} is empty (benchmark would time nothing)")
    check(o == p, f"B9: our tile holds {len(o)} compounds, ST_AsMVT's {len(p)} ({len(o ^ p)} differ)")
    return o


def run(env: Env, postgis: Env | None = None) -> list[Result]:
    """Cold tile vs ST_AsMVT at two zooms, and cached tile vs the same bytes from a static route."""
    from geoplatform import auth
    from geoplatform.db import make_engine
    from web import http
    from web.app import create_app

    peer_env = env if env.backend != "sqlite" else postgis
    if peer_env is None:
        return [Result("B9 vector tile, cold", env.scale, env.backend, "GET /api/v1/tiles/…", "ST_AsMVT", 0.0, 0.0,
                       f"≤ {TARGET_COLD:g}×", None, note="no PostGIS database in this run: no ST_AsMVT peer")]
    ctx = env.context()
    with ctx.session() as s:
        token = auth.new_token(s, "admin")
    app = create_app(ctx)
    headers = {"Authorization": f"Bearer {token}"}
    peer_engine = make_engine(peer_env.url)
    holder: dict[str, Any] = {"body": b"", "tile": (14, 0, 0)}

    def st_asmvt() -> Any:
        z, x, y = holder["tile"]
        with peer_engine.connect() as c:
            body = bytes(c.execute(text(PEER_SQL), {"z": z, "x": x, "y": y}).scalar() or b"")
        return app.response_class(body, mimetype="application/vnd.mapbox-vector-tile")

    def static() -> Any:
        return app.response_class(holder["body"], mimetype="application/vnd.mapbox-vector-tile")

    app.add_url_rule("/bench-st-asmvt", "bench_st_asmvt", st_asmvt)
    app.add_url_rule("/bench-static", "bench_static", static)
    client = app.test_client()
    rows: list[Result] = []
    for zoom in ZOOMS:
        z, x, y = holder["tile"] = tile_at(zoom, *CENTRE)
        url = f"/api/v1/tiles/{LAYER}/{z}/{x}/{y}.mvt"

        def cold(url: str = url) -> bytes:
            http.clear_response_cache()
            r = client.get(url, headers=headers)
            check(r.status_code == 200, f"B9: {url} answered {r.status_code}")
            return r.data

        def peer() -> bytes:
            r = client.get("/bench-st-asmvt", headers=headers)
            check(r.status_code == 200, f"B9: the ST_AsMVT route answered {r.status_code}")
            return r.data

        body = cold()  # also warms the context (plugin attributes, compiled statements)
        peer_body = peer()
        o = verify(body, peer_body, f"{z}/{x}/{y}")
        t_o, t_p = alternate(cold, peer, env.repeats)
        peer_name = "route returning ST_AsMVT (same tile)" + (" on the PostGIS copy" if env.backend == "sqlite" else "")
        rows.append(Result(f"B9 vector tile z{z}, cold", env.scale, env.backend, f"GET /api/v1/tiles/{LAYER}/{z}/{x}/{y}.mvt",
                           peer_name, t_o, t_p, f"≤ {TARGET_COLD:g}×", t_o / t_p <= TARGET_COLD,
                           f"{len(o):,} compounds, {len(body) / 1e3:.0f} kB (ST_AsMVT {len(peer_body) / 1e3:.0f} kB)",
                           note="same HTTP stack and token auth on both; response cache cleared before each run"))

    holder["body"] = client.get(url, headers=headers).data  # the last tile, now cached

    n = CACHED_N * env.repeats
    t_c, t_s = interleaved_gets(client, headers, url, "/bench-static", n)
    rows.append(Result("B9 cached tile throughput", env.scale, env.backend, "cached tile (per request)",
                       "same bytes from a static route", t_c, t_s, f"throughput ≥ 0.8× (ratio ≤ {TARGET_CACHED:g})",
                       t_c / t_s <= TARGET_CACHED, f"{n} interleaved requests each",
                       note=f"throughput {1 / t_c:.0f} vs {1 / t_s:.0f} req/s (median request)"))
    peer_engine.dispose()
    return rows
