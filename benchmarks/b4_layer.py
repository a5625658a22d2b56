"""B4: the layer endpoint (GeoJSON by bbox) vs the database's own ST_AsGeoJSON; cache vs static; payload."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate, interleaved_gets

LAYER = "coverage"
VIEW = (109.790, 40.636, 109.812, 40.650)  # a street-zoom viewport (≈ zoom 15 on a laptop screen)
VIEW_ZOOM = 15
DISTRICT = (109.60, 40.58, 109.90, 40.78)  # the whole district on screen
DISTRICT_ZOOM = 11
CACHED_N = 200  # interleaved request pairs per repeat for the cached-throughput medians
PROPS = ("id", "name", "management_mode", "company", "households", "owners_org", "build_year")


def _sql(env: Env, bbox: tuple[float, float, float, float]) -> tuple[str, dict[str, float]]:
    minx, miny, maxx, maxy = bbox
    p = {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
    cols = ", ".join(PROPS)
    if env.backend == "sqlite":
        hit = ("rowid in (select pkid from idx_compound_{c} where xmin <= :maxx and xmax >= :minx "
               "and ymin <= :maxy and ymax >= :miny)")
        return (f"select {cols}, AsGeoJSON(coalesce(boundary, location), 6) from compound "  # noqa: S608
                f"where {hit.format(c='boundary')} or (boundary is null and {hit.format(c='location')})"), p
    env_sql = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
    return (f"select json_build_object('type', 'FeatureCollection', 'features', "  # noqa: S608
            f"coalesce(json_agg(json_build_object('type', 'Feature', 'id', t.id, "
            f"'geometry', ST_AsGeoJSON(t.g, 6)::json, 'properties', to_jsonb(t) - 'g')), '[]'::json))::text "
            f"from (select {cols}, coalesce(boundary, location) as g from compound "
            f"where boundary && {env_sql} or (boundary is null and location && {env_sql})) t"), p


def peer_geojson(engine: Any, env: Env, bbox: tuple[float, float, float, float]) -> str:
    """The database builds the GeoJSON (PostGIS: one json_agg; SpatiaLite: AsGeoJSON rows joined as text)."""
    sql, p = _sql(env, bbox)
    with engine.connect() as c:
        if env.backend != "sqlite":
            return c.execute(text(sql), p).scalar()
        rows = c.execute(text(sql), p).all()
    feats = [f'{{"type":"Feature","id":{json.dumps(r[0])},"geometry":{r[-1]},'
             f'"properties":{json.dumps(dict(zip(PROPS, r[:-1], strict=True)), ensure_ascii=False, default=str)}}}'
             for r in rows]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def ids_of(body: str | bytes) -> set[str]:
    """Feature ids of a GeoJSON FeatureCollection."""
    return {str(f.get("id")) for f in json.loads(body)["features"]}


def verify(ours: bytes, peer: str) -> None:
    """Same compounds in the viewport."""
    o, p = ids_of(ours), ids_of(peer)
    check(bool(p), "B4: the viewport is empty (benchmark would time nothing)")
    check(o == p, f"B4: endpoint returned {len(o)} compounds, ST_AsGeoJSON {len(p)} ({len(o ^ p)} differ)")


def _client(env: Env) -> tuple[Any, Any, dict[str, str]]:
    from geoplatform import auth
    from web.app import create_app

    ctx = env.context()
    with ctx.session() as s:
        token = auth.new_token(s, "admin")
    app = create_app(ctx)
    return app, ctx, {"Authorization": f"Bearer {token}"}


def _url(bbox: tuple[float, float, float, float] | None, zoom: int | None) -> str:
    q = []
    if bbox:
        q.append("bbox=" + ",".join(f"{v:g}" for v in bbox))
    if zoom is not None:
        q.append(f"zoom={zoom}")
    return f"/api/v1/layers/{LAYER}/features" + ("?" + "&".join(q) if q else "")


def run(env: Env) -> list[Result]:
    """Cold endpoint vs ST_AsGeoJSON, cached vs static throughput, district-zoom payload vs full layer."""
    from web import http

    app, ctx, headers = _client(env)
    holder: dict[str, bytes] = {"body": b""}

    def static() -> Any:
        return app.response_class(holder["body"], mimetype="application/geo+json")

    def st_asgeojson() -> Any:
        return app.response_class(peer_geojson(ctx.engine, env, VIEW), mimetype="application/geo+json")

    app.add_url_rule("/bench-static", "bench_static", static)  # the peer: same bytes, no work
    app.add_url_rule("/bench-st-asgeojson", "bench_st_asgeojson", st_asgeojson)  # the peer: the database's GeoJSON
    client = app.test_client()
    url = _url(VIEW, VIEW_ZOOM)

    def cold() -> bytes:
        http.clear_response_cache()
        r = client.get(url, headers=headers)
        check(r.status_code == 200, f"B4: {url} answered {r.status_code}")
        return r.data

    def peer() -> bytes:
        r = client.get("/bench-st-asgeojson", headers=headers)
        check(r.status_code == 200, f"B4: the ST_AsGeoJSON route answered {r.status_code}")
        return r.data

    engine = ctx.engine
    body = cold()  # also warms the context (plugin attributes, compiled statements)
    verify(body, peer())
    t_o, t_p = alternate(cold, peer, env.repeats)
    n = len(ids_of(body))
    rows = [Result("B4 layer GeoJSON by bbox, cold", env.scale, env.backend, "GET /api/v1/layers/coverage/features",
                   "route returning ST_AsGeoJSON (same bbox)", t_o, t_p, "≤ 1.5×", t_o / t_p <= 1.5,
                   f"{n:,} compounds, {len(body) / 1e3:.0f} kB", note="same HTTP stack and token auth on both; response cache cleared before each run")]

    static_body = client.get(url, headers=headers).data  # now cached
    holder["body"] = static_body
    check(client.get("/bench-static", headers=headers).data == static_body, "B4: static route serves other bytes")

    n = CACHED_N * env.repeats
    t_c, t_s = interleaved_gets(client, headers, url, "/bench-static", n)
    rows.append(Result("B4 cached response throughput", env.scale, env.backend, "cached endpoint (per request)",
                       "same bytes from a static route", t_c, t_s, "throughput ≥ 0.8× (ratio ≤ 1.25)",
                       t_c / t_s <= 1.25, f"{n} interleaved requests each",
                       note=f"throughput {1 / t_c:.0f} vs {1 / t_s:.0f} req/s (median request)"))

    district = client.get(_url(DISTRICT, DISTRICT_ZOOM), headers=headers).data
    full = client.get(_url(None, None), headers=headers).data
    full_ids = ids_of(full)
    check(len(full_ids) == len(ids_of(peer_geojson(engine, env, (-180, -90, 180, 90)))),
          "B4: the full layer misses compounds")
    ratio = len(district) / len(full)
    rows.append(Result("B4 payload at district zoom", env.scale, env.backend, f"zoom {DISTRICT_ZOOM} (bytes)",
                       "full-layer GeoJSON (bytes)", len(district), len(full), "≤ 0.1×", ratio <= 0.1,
                       f"{len(district) / 1e3:.0f} kB vs {len(full) / 1e6:.2f} MB ({len(full_ids):,} compounds)",
                       note="ratio of bytes, not seconds"))
    return rows
