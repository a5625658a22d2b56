"""Run every benchmark on the demo ladder and write benchmarks/RESULTS.md.

    .venv/bin/python -m benchmarks.run [--scales 1,10] [--repeats 5] [--backends sqlite,postgis] [--only B1,B4]
                                       [--background-load N] [--demo-cache DIR|none]
    (generated demos are pickled in --demo-cache, default ~/.cache/geoplatform-bench, so a 100× run generates once)
    (B7, `ogr2ogr` through /ogc vs from a GeoPackage, needs GDAL's `ogr2ogr` on the PATH; B8, 20 readers with and
    without one writer, takes ≈ 3 minutes per database: B8_PHASE_S and B8_ROUNDS set its phases)

PostGIS: GEOPLATFORM_TEST_POSTGIS_URL (an admin URL) or a throwaway cluster started for the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import env as envmod
from benchmarks import harness
from benchmarks.harness import Result, versions
from benchmarks.load import BackgroundLoad
from benchmarks.report import write

HERE = Path(__file__).resolve().parent


def _guard(name: str, e: envmod.Env, fn: Callable[[], list[Result]], load: int = 0) -> list[Result]:
    """Run one benchmark; a mismatch or a crash becomes a failed row (never a silent pass); rows carry the load."""
    print(f"[{time.strftime('%H:%M:%S')}] {name} scale {e.scale:g} {e.backend} …", file=sys.stderr, flush=True)
    try:
        rows = fn()
    except envmod.Mismatch as exc:
        rows = [Result(name, e.scale, e.backend, "-", "-", 0.0, 1.0, "-", False, note=f"MISMATCH: {exc}")]
    except Exception as exc:  # noqa: BLE001  (report and go on with the other benchmarks)
        traceback.print_exc()
        rows = [Result(name, e.scale, e.backend, "-", "-", 0.0, 1.0, "-", False,
                       note=f"ERROR: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")]
    for r in rows:
        r.load = load
        print(f"    {r.bench}: ours {r.ours_s:.3f} peer {r.peer_s:.3f} ratio {r.ratio:.2f} met={r.met} {r.note}",
              file=sys.stderr, flush=True)
    return rows


IN_MEMORY = {"B3"}  # benchmarks that read no database: run alone, no demo database is built


def main(argv: list[str] | None = None) -> int:
    """Build the demo databases, run the benchmarks, write RESULTS.md; exit 1 when a check mismatched."""
    ap = argparse.ArgumentParser(description="geoplatform benchmarks: ratios against named peers")
    ap.add_argument("--scales", default="1,10", help="demo scales, comma-separated (100 for the long run)")
    ap.add_argument("--repeats", type=int, default=5, help="alternating runs per side (medians)")
    ap.add_argument("--min-seconds", type=float, default=1.0, metavar="S",
                    help=f"repeat a short job (more alternating rounds, at most {harness.MAX_ROUNDS}) until each side has S "
                         "seconds of samples (default: %(default)s)")
    ap.add_argument("--backends", default="sqlite,postgis", help="databases (none is built when only B3, which plans in memory, runs)")
    ap.add_argument("--only", default="B1,B2,B3,B4,B5,B6,B7,B8,B9", help="benchmarks to run")
    ap.add_argument("--output", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--workdir", default=None, help="where the databases and files go (default: a temp dir)")
    ap.add_argument("--demo-cache", default=str(envmod.CACHE_DIR), metavar="DIR",
                    help="where generated demos are pickled, keyed by scale, seed, day and a hash of geoplatform/demo.py "
                         "(default: %(default)s; 'none': generate every time)")
    ap.add_argument("--background-load", type=int, default=0, metavar="N",
                    help="run N CPU-bound processes for the whole run (started and stopped here; in the report)")
    args = ap.parse_args(argv)
    harness.MIN_SECONDS = args.min_seconds
    scales = [float(s) for s in args.scales.split(",") if s]
    only = {b.strip().upper() for b in args.only.split(",")}
    backends = [b.strip() for b in args.backends.split(",") if b.strip()] if only - IN_MEMORY else []
    cache = None if args.demo_cache.lower() == "none" else Path(args.demo_cache).expanduser()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="geoplatform-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GEOPLATFORM_INSTANCE", str(workdir / "instance"))
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    cluster = None
    admin = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the cluster and the load
    load = BackgroundLoad(args.background_load)
    if "postgis" in backends:
        admin, cluster = envmod.postgis_admin()
    envs: dict[tuple[str, float], envmod.Env] = {}
    results: list[Result] = []
    builds: list[str] = []
    urls: dict[str, str] = {}
    try:
        load.start()
        for scale in scales:
            data, secs, cached = envmod.demo_data(scale, 42, cache)
            builds.append(f"scale {scale:g}: {'read from the cache' if cached else 'generated'} in {secs:.1f} s "
                          f"({len(data.tables['compound']):,} compounds, {len(data.tables['building']):,} buildings; "
                          f"load {os.getloadavg()[0]:.1f})")
            print(builds[-1], file=sys.stderr, flush=True)
            for backend in backends:
                url = envmod.sqlite_url(workdir, scale) if backend == "sqlite" else envmod.postgis_url(admin, scale)
                secs = envmod.build(url, data)
                builds.append(f"scale {scale:g} {backend}: loaded in {secs:.1f} s (load {os.getloadavg()[0]:.1f})")
                print(builds[-1], file=sys.stderr, flush=True)
                envs[(backend, scale)] = envmod.Env(backend, scale, url, workdir, args.repeats, data)
                urls[backend] = url
            meta = {"started": started, "load_before": load_before, "builds": builds, "argv": argv or sys.argv[1:],
                    "background_load": load.n}
            results += _per_scale(envs, backends, scale, only, load.n)
            if "B3" in only:
                from benchmarks import b3_bundling

                e = envmod.Env("in-memory", scale, "", workdir, args.repeats, data, {"cache": cache})
                results += _guard("B3 bundle planning", e, lambda e=e: b3_bundling.run(e), load.n)
            write(Path(args.output), results, versions(urls), meta)
            for backend in backends:
                envs[(backend, scale)].data = None
        if "B5" in only and len(scales) > 1:
            from benchmarks import b5_browser

            for backend in backends:
                small, large = envs[(backend, scales[0])], envs[(backend, scales[1])]
                results += _guard("B5 map page", large, lambda s=small, lg=large: b5_browser.run(s, lg), load.n)
        meta["load_after"] = os.getloadavg()
        meta["finished"] = dt.datetime.now(dt.UTC)
        write(Path(args.output), results, versions(urls), meta)
    finally:
        load.stop()
        if cluster is not None:
            cluster.stop()
    print(f"wrote {args.output}", file=sys.stderr)
    return 1 if any("MISMATCH" in r.note for r in results) else 0


def _per_scale(envs: dict, backends: list[str], scale: float, only: set[str], load: int = 0) -> list[Result]:
    from benchmarks import b1_import, b2_assign, b4_layer, b6_takeover, b7_oapif, b8_reads_writes

    out: list[Result] = []
    for backend in backends:
        e = envs[(backend, scale)]
        for key, name, mod in (("B2", "B2 assignment", b2_assign), ("B4", "B4 layer endpoint", b4_layer),
                               ("B6", "B6 takeover", b6_takeover), ("B1", "B1 import", b1_import),
                               ("B7", "B7 OAPIF copy", b7_oapif), ("B8", "B8 reads with a writer", b8_reads_writes)):
            if key in only:
                out += _guard(name, e, lambda mod=mod, e=e: mod.run(e), load)
        if "B9" in only:  # vector tiles vs ST_AsMVT (a SpatiaLite run compares with the PostGIS copy's)
            from benchmarks import b9_tiles

            pg = envs.get(("postgis", scale))
            out += _guard("B9 vector tiles", e, lambda e=e, pg=pg: b9_tiles.run(e, pg), load)
    return out


if __name__ == "__main__":
    sys.exit(main())
