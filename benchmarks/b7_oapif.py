"""B7: `ogr2ogr` copying the buildings through our OGC API – Features vs from a GeoPackage export of them.

Both sides are the same command writing the same kind of file (`ogr2ogr -f GPKG out.gpkg SOURCE`):
ours reads `OAPIF:http://…/ogc` (the app served by waitress in this process, HTTP Basic with an API
token, as a GIS user would), the peer reads `geoplatform export buildings --format gpkg`'s file. The
server's response cache and its pages computed ahead are emptied before every timed copy (a cold
copy); the per-revision work (collections, extents) is done once, untimed, before. Both copies
must hold the same building ids, and every copied geometry must be valid.

A second row is the floor of this client: the very responses GDAL read from our server (recorded once
through a proxy, untimed) served back from memory by a server that computes nothing (`Replay`), timed
against the same peer. What that copy costs is GDAL's own work on the OGC API – Features pages; if it
alone is ≥ 3× the GeoPackage copy, no server can meet the target with this client.
"""

from __future__ import annotations

import gzip
import http.client
import resource
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate
from tests.support.serving import stop

TARGET = 3.0  # issue 18: through OAPIF in less than 3× the time of reading the GeoPackage


def _serve(env: Env) -> tuple[Any, str, str]:
    """The app on a free loopback port (waitress, in a thread); returns ((server, thread) for stop(), base URL,
    user:token)."""
    from geoplatform import auth
    from tests.support.serving import start
    from web.app import create_app

    ctx = env.context()
    with ctx.session() as s:
        token = auth.new_token(s, "admin")
    server, thread = start(create_app(ctx), threads=4, name="b7-server")
    return (server, thread), f"http://127.0.0.1:{server.effective_port}/ogc", f"admin:{token}"


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


class Replay:
    """A recording proxy in front of our server, then a server of the recorded answers from memory.

    `record` mode forwards each GET (its Authorization and Accept headers) to our server uncompressed and
    keeps the answer, our server's address replaced by the proxy's in the body (so the `next` links come
    back here); `replay` mode answers from memory only (a request not recorded is a 404, failing the copy),
    gzip-compressed ahead (level 1, as our server does) when the client accepts it, so GDAL inflates the
    same way. Its own CPU is a socket write per request.
    """

    def __init__(self, upstream: str) -> None:
        up = urlsplit(upstream)
        self.host, self.port = up.hostname or "127.0.0.1", up.port or 80
        self.answers: dict[str, tuple[int, str, bytes, bytes]] = {}
        self.recording = True
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # noqa: ARG002 - quiet
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                got = replay.answer(self.path, {k: v for k, v in self.headers.items()
                                                if k.lower() in ("authorization", "accept")})
                status, ctype, body, packed = got or (404, "text/plain", b"not recorded", b"")
                zipped = bool(packed) and "gzip" in self.headers.get("Accept-Encoding", "")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if zipped:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(packed if zipped else body)))
                self.end_headers()
                self.wfile.write(packed if zipped else body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.upstream_base = f"{up.scheme}://{up.netloc}"
        threading.Thread(target=self.server.serve_forever, daemon=True, name="b7-replay").start()

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes, bytes] | None:
        """The recorded answer of a path (recording it first in record mode)."""
        if self.recording and path not in self.answers:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
            conn.request("GET", path, headers={**headers, "Accept-Encoding": "identity"})
            got = conn.getresponse()
            body = got.read().replace(self.upstream_base.encode(), self.base.encode())
            conn.close()
            packed = gzip.compress(body, compresslevel=1) if len(body) > 1024 else b""
            self.answers[path] = (got.status, got.getheader("Content-Type") or "application/json", body, packed)
        return self.answers.get(path)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


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


def run(env: Env, floor: bool = True) -> list[Result]:
    """Cold `ogr2ogr` copies through OAPIF and from the GeoPackage, alternated; ratio of the medians.

    With `floor`, a second row: the same answers replayed from memory (`Replay`) against the same peer."""
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
        cpu, ours, peer = _copies(ours_out, f"OAPIF:{url}", userpwd, peer_out, export)
        t_o, t_p = alternate(ours, peer, env.repeats, before=_clear_server_caches)
        if floor:
            floor_row = _floor(env, url, userpwd, work, peer_out, export, n)
    finally:
        stop(*server)  # not server.close() under a request in flight: see tests/support/serving.py
    med = {k: statistics.median(v) for k, v in cpu.items()}
    size = f"{n:,} buildings, GeoPackage {export.stat().st_size / 1e6:.1f} MB"
    return [Result("B7 ogr2ogr copy of the buildings via OAPIF, cold", env.scale, env.backend,
                   "ogr2ogr OAPIF:/ogc → GPKG", "ogr2ogr GeoPackage export → GPKG", t_o, t_p, f"< {TARGET:g}×",
                   t_o / t_p < TARGET, size,
                   note=f"CPU s (median): ogr2ogr via OAPIF {med['client']:.2f} + our server {med['server']:.2f} "
                        f"vs ogr2ogr from the GeoPackage {med['peer']:.2f} (client alone "
                        f"{med['client'] / med['peer']:.2f}×); server in-process (waitress, 4 threads), HTTP Basic "
                        "+ token; response cache and prefetched pages emptied before each run",
                   extra={"cpu": med})] + ([floor_row] if floor else [])


def _copies(out: Path, source: str, userpwd: str, peer_out: Path, export: Path):  # noqa: ANN202
    """(cpu, ours, peer): the OAPIF copy and the GeoPackage copy as timed callables recording their CPU seconds
    (client = ogr2ogr, server = this process) into cpu."""
    cpu: dict[str, list[float]] = {"client": [], "server": [], "peer": []}

    def ours() -> None:
        c0, s0 = _children_cpu(), time.process_time()
        _ogr2ogr(out, source, "buildings", userpwd)
        cpu["client"].append(_children_cpu() - c0)
        cpu["server"].append(time.process_time() - s0)

    def peer() -> None:
        c0 = _children_cpu()
        _ogr2ogr(peer_out, str(export), "building")
        cpu["peer"].append(_children_cpu() - c0)

    return cpu, ours, peer


def _floor(env: Env, url: str, userpwd: str, work: Path, peer_out: Path, export: Path, n: int) -> Result:
    """The floor row: the answers of one copy recorded through `Replay`, then copies from memory vs the peer."""
    replay = Replay(url)
    try:
        floor_out = work / "replay.gpkg"
        source = f"OAPIF:{replay.base}{urlsplit(url).path}"
        _ogr2ogr(floor_out, source, "buildings", userpwd)  # records
        replay.recording = False
        check(verify(floor_out, peer_out) == n, "B7: the replayed copy differs")
        floor_cpu, replayed, floor_peer = _copies(floor_out, source, userpwd, peer_out, export)
        t_f, t_fp = alternate(replayed, floor_peer, env.repeats)
        pages = sum(1 for k in replay.answers if "/items" in k)
        megabytes = sum(len(a[2]) for a in replay.answers.values()) / 1e6
    finally:
        replay.close()
    fmed = {k: statistics.median(v) for k, v in floor_cpu.items()}
    return Result("B7 floor: the same answers replayed from memory (a server that costs nothing)", env.scale,
                  env.backend, "ogr2ogr OAPIF:replay → GPKG", "ogr2ogr GeoPackage export → GPKG", t_f, t_fp,
                  "info", None, f"{pages} item pages, {megabytes:.1f} MB uncompressed",
                  note=f"CPU s (median): ogr2ogr via the replay {fmed['client']:.2f} + replay server "
                       f"{fmed['server']:.2f} vs ogr2ogr from the GeoPackage {fmed['peer']:.2f} (client alone "
                       f"{fmed['client'] / fmed['peer']:.2f}×): GDAL's own cost of the pages",
                  extra={"cpu": fmed})


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished child processes so far (ogr2ogr runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
