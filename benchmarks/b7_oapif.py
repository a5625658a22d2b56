"""B7: `ogr2ogr` copying the buildings through our OGC API – Features vs from a GeoPackage export of them.

Both sides are the same command writing the same kind of file (`ogr2ogr -f GPKG out.gpkg SOURCE`):
ours reads `OAPIF:http://…/ogc` (the app served by waitress in this process, HTTP Basic with an API
token, as a GIS user would), the peer reads `geoplatform export buildings --format gpkg`'s file. The
server's response cache and its pages computed ahead are emptied before every timed copy (a cold
copy); the per-revision work (collections, extents) is done once, untimed, before. Both copies
must hold the same building ids, and every copied geometry must be valid.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate

TARGET = 3.0  # issue 18: through OAPIF in less than 3× the time of reading the GeoPackage


def _serve(env: Env) -> tuple[Any, str, str]:
    """The app on a free loopback port (waitress, in a thread); returns (server, base URL, user:token)."""
    from waitress.server import create_server

    from geoplatform import auth
    from web.app import create_app

    ctx = env.context()
    with ctx.session() as s:
        token = auth.new_token(s, "admin")
    server = create_server(create_app(ctx), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True, name="b7-server").start()
    return server, f"http://127.0.0.1:{server.effective_port}/ogc", f"admin:{token}"


def _ogr2ogr(out: Path, source: str, layer: str, userpwd: str | None = None) -> None:
    if out.exists():
        out.unlink()
    cmd = ["ogr2ogr", "-f", "GPKG", str(out), source, layer]
    if userpwd:
        cmd += ["--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", userpwd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    check(done.returncode == 0, f"B7: {' '.join(cmd[:5])} failed: {done.stderr.strip()[-300:]}")


def _clear_server_caches() -> None:
    from web import http, ogc

    http.clear_response_cache()
    with ogc.PREFETCH.lock:
        ogc.PREFETCH.items.clear()


def verify(ours: Path, peer: Path) -> int:
    """Same building ids in both copies; every geometry of ours valid. Returns the count."""
    import pyogrio
    import shapely

    a = pyogrio.read_dataframe(ours, columns=["id"])
    b = pyogrio.read_dataframe(peer, columns=["id"])
    check(len(a) == len(set(a["id"])), "B7: the OAPIF copy holds a building twice")
    check(set(a["id"]) == set(b["id"]), f"B7: OAPIF copied {len(a):,} buildings, the GeoPackage has {len(b):,}")
    check(bool(shapely.is_valid(a.geometry.to_numpy()).all()), "B7: an invalid geometry came through OAPIF")
    return len(a)


def run(env: Env) -> list[Result]:
    """Cold `ogr2ogr` copies through OAPIF and from the GeoPackage, alternated; ratio of the medians."""
    work = env.workdir / f"b7_{env.backend}_{env.scale:g}"
    work.mkdir(parents=True, exist_ok=True)
    export = work / "buildings.gpkg"
    if export.exists():
        export.unlink()
    cli = Path(sys.executable).parent / "geoplatform"
    done = subprocess.run([str(cli), "--db", env.url, "export", "buildings", "--format", "gpkg", "-o", str(export)],
                          capture_output=True, text=True)
    check(done.returncode == 0, f"B7: export failed: {done.stderr.strip()[-300:]}")
    server, url, userpwd = _serve(env)
    try:
        ours_out, peer_out = work / "oapif.gpkg", work / "peer.gpkg"
        _ogr2ogr(ours_out, f"OAPIF:{url}", "buildings", userpwd)  # untimed: per-revision work, first requests
        _ogr2ogr(peer_out, str(export), "building")
        n = verify(ours_out, peer_out)
        cpu: dict[str, list[float]] = {"client": [], "server": [], "peer": []}

        def ours() -> None:
            c0, s0 = _children_cpu(), time.process_time()
            _ogr2ogr(ours_out, f"OAPIF:{url}", "buildings", userpwd)
            cpu["client"].append(_children_cpu() - c0)
            cpu["server"].append(time.process_time() - s0)

        def peer() -> None:
            c0 = _children_cpu()
            _ogr2ogr(peer_out, str(export), "building")
            cpu["peer"].append(_children_cpu() - c0)

        t_o, t_p = alternate(ours, peer, env.repeats, before=_clear_server_caches)
    finally:
        server.close()
    med = {k: statistics.median(v) for k, v in cpu.items()}
    size = f"{n:,} buildings, GeoPackage {export.stat().st_size / 1e6:.1f} MB"
    return [Result("B7 ogr2ogr copy of the buildings via OAPIF, cold", env.scale, env.backend,
                   "ogr2ogr OAPIF:/ogc → GPKG", "ogr2ogr GeoPackage export → GPKG", t_o, t_p, f"< {TARGET:g}×",
                   t_o / t_p < TARGET, size,
                   note=f"CPU s (median): ogr2ogr via OAPIF {med['client']:.2f} + our server {med['server']:.2f} "
                        f"vs ogr2ogr from the GeoPackage {med['peer']:.2f} (client alone "
                        f"{med['client'] / med['peer']:.2f}×); server in-process (waitress, 4 threads), HTTP Basic "
                        "+ token; response cache and prefetched pages emptied before each run",
                   extra={"cpu": med})]


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished child processes so far (ogr2ogr runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
