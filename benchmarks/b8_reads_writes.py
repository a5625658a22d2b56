"""B8: map reads that survive writes (issue 25) — 20 readers with one writer vs the same readers alone.

The app runs as `geoplatform serve` (waitress, its default 8 threads) in its own process on the benchmark
database. Readers: 20 client threads, each on a keep-alive connection with its own API token, asking for map
layer GeoJSON at random viewports (zoom 14–15, seeded) across the compound layers, one request in ten the
district view (zoom 11). Writer: one edit every 5 s (`PATCH /api/v1/compounds/{id}`, the management mode of a
compound toggled, as a street officer would), with its own token. Phases alternate (readers alone, readers +
writer, …) after an untimed warm-up; each phase's throughput is completed reads / seconds, and its p95 is over
every read of the phase. Ratio = seconds per read with the writer / alone (throughput ≥ 0.8× ⇔ ratio ≤ 1.25).

An info row measures the readers while the CLI imports the buildings GeoPackage into the live database again
and again (`geoplatform import buildings FILE`, one transaction per run) — SQLite's WAL lets reads go on.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.env import Env, check
from benchmarks.harness import Result

READERS = 20
EDIT_EVERY_S = 5.0
PHASE_S = float(os.environ.get("B8_PHASE_S", "30"))
ROUNDS = int(os.environ.get("B8_ROUNDS", "2"))
WARMUP_S = 10.0
TARGET = 0.8  # throughput with the writer ≥ 0.8× the readers alone
LAYERS = ("coverage", "handover", "charging", "takeover_candidates", "owners_org", "governance_problems", "firm_status",
          "coverage_streets", "bundling_orphans")  # what a map session switches between (compounds and district-wide)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_cwd(pythonpath: str | None) -> list[str]:
    """`-P` when running another tree's code: `python -c` puts the working directory (this checkout, when run from
    its root) before PYTHONPATH, so without it the "baseline" imported this branch's code."""
    return ["-P"] if pythonpath else []


def _tokens(env: Env, n: int) -> list[str]:
    from geoplatform import auth

    ctx = env.context()
    with ctx.session() as s:
        return [auth.new_token(s, "admin") for _ in range(n)]


class Server:
    """`geoplatform serve` in a subprocess (started with `cmd_prefix`, e.g. another checkout's interpreter)."""

    def __init__(self, env: Env, python: str = sys.executable, pythonpath: str | None = None) -> None:
        self.port = _free_port()
        envvars = dict(os.environ)
        if pythonpath:
            envvars["PYTHONPATH"] = pythonpath
        self.log = env.workdir / f"b8_server_{env.backend}_{self.port}.log"  # a file: a full pipe would block it
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [python, *_no_cwd(pythonpath), "-c", "from geoplatform.cli import main; main()", "--db", env.url,
                 "serve", "--host", "127.0.0.1", "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=err,
                env=envvars)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # start-up (not timed): wait for the port
            if self.proc.poll() is not None:
                raise RuntimeError(f"B8: the server exited: {self.log.read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("B8: the server did not start")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(CPU seconds of process `pid`, of its live child processes — the recompute worker) from /proc (Linux)."""
    def own(p: int | str) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # a child belongs to the thread that started it
        try:
            children += (task / "children").read_text().split()
        except OSError:
            pass
    return own(pid), sum(own(c) for c in children)


def _get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
    r = conn.getresponse()
    body = r.read()
    return r.status, gzip.decompress(body) if r.getheader("Content-Encoding") == "gzip" else body


def _viewports(bbox: list[float], layers: list[str], seed: int, n: int = 4000) -> list[str]:
    rng = random.Random(seed)
    minx, miny, maxx, maxy = bbox
    out = []
    for _ in range(n):
        layer = rng.choice(layers)
        if rng.random() < 0.1:
            out.append(f"/api/v1/layers/{layer}/features?zoom=11&bbox={minx},{miny},{maxx},{maxy}")
            continue
        zoom = rng.choice((14, 15))
        w, h = 0.05 * 2 ** (14 - zoom), 0.03 * 2 ** (14 - zoom)
        x, y = rng.uniform(minx, maxx - w), rng.uniform(miny, maxy - h)
        out.append(f"/api/v1/layers/{layer}/features?zoom={zoom}&bbox={x:.5f},{y:.5f},{x + w:.5f},{y + h:.5f}")
    return out


class Readers:
    """READERS threads reading map layers until stopped; latencies recorded per phase."""

    def __init__(self, port: int, tokens: list[str], urls: list[list[str]], pid: int = 0) -> None:
        self.port, self.tokens, self.urls, self.pid = port, tokens, urls, pid
        self.lock = threading.Lock()
        self.phase: list[float] | None = None
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(tokens))]
        for t in self.threads:
            t.start()

    def _run(self, i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        urls, k = self.urls[i], 0
        while not self.stop.is_set():
            path = urls[k % len(urls)]
            k += 1
            t0 = time.perf_counter()
            try:
                status, _ = _get(conn, path, self.tokens[i])
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                status, exc_text = 0, repr(exc)
            dt = time.perf_counter() - t0
            with self.lock:
                if status != 200:
                    self.errors.append(f"{status} {path}" if status else exc_text)
                elif self.phase is not None:
                    self.phase.append(dt)
        conn.close()

    def measure(self, seconds: float, during: Callable[[threading.Event], None] | None = None) -> dict[str, float]:
        """Reads completed in `seconds` (with `during(stop)` running in a thread): throughput and p95, and the CPU
        seconds the server process and its worker process used in the phase."""
        done = threading.Event()
        side = threading.Thread(target=during, args=(done,), daemon=True) if during else None
        with self.lock:
            self.phase = []
        cpu0 = cpu_seconds(self.pid) if self.pid else (0.0, 0.0)
        t0 = time.perf_counter()
        if side:
            side.start()
        time.sleep(seconds)
        with self.lock:
            lat, self.phase = self.phase, None
        elapsed = time.perf_counter() - t0
        cpu1 = cpu_seconds(self.pid) if self.pid else (0.0, 0.0)
        done.set()
        if side:
            side.join(600)
        lat.sort()
        return {"reads": len(lat), "seconds": elapsed, "rps": len(lat) / elapsed,
                "p95": lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
                "median": statistics.median(lat) if lat else float("nan"),
                "server_cpu": cpu1[0] - cpu0[0], "worker_cpu": cpu1[1] - cpu0[1]}

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(180)


def _writer(port: int, token: str, compounds: list[str], edits: list[float]) -> Callable[[threading.Event], None]:
    modes = ("professional", "none")

    def run(stop: threading.Event) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        k = 0
        while not stop.is_set():
            cid = compounds[k % len(compounds)]
            k += 1
            t0 = time.perf_counter()
            status, body = _get(conn, f"/api/v1/compounds/{cid}", token)
            check(status == 200, f"B8: GET compound {cid} → {status}")
            doc = json.loads(body)
            doc = doc.get("properties", doc)
            new = modes[1] if doc.get("management_mode") == modes[0] else modes[0]
            payload = json.dumps({"version": doc["version"], "management_mode": new})
            conn.request("PATCH", f"/api/v1/compounds/{cid}", body=payload,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            check(r.status == 200, f"B8: PATCH compound {cid} → {r.status}")
            edits.append(time.perf_counter() - t0)
            stop.wait(max(0.0, EDIT_EVERY_S - (time.perf_counter() - t0)))
        conn.close()

    return run


def _importer(env: Env, path: Path, runs: list[float], failures: list[str], python: str = sys.executable,
              pythonpath: str | None = None) -> Callable[[threading.Event], None]:
    envvars = dict(os.environ)
    if pythonpath:
        envvars["PYTHONPATH"] = pythonpath

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            done = subprocess.run([python, *_no_cwd(pythonpath), "-c", "from geoplatform.cli import main; main()",
                                   "--db", env.url, "import", "buildings", str(path), "--upsert"],
                                  capture_output=True, text=True, env=envvars)
            if done.returncode != 0:  # reported by the row (a failed import is no import)
                failures.append(done.stderr.strip()[-300:])
                return
            runs.append(time.perf_counter() - t0)

    return run


def measure(env: Env, python: str = sys.executable, pythonpath: str | None = None,
            with_import: bool = True, with_writer: bool = True) -> dict[str, Any]:
    """Phases alone / with the writer (ROUNDS each, alternating) and, on SQLite, alone / during CLI imports."""
    from benchmarks.b1_import import export_buildings
    from geoplatform.store import read_frame

    tokens = _tokens(env, READERS + 1)
    with env.context().session(readonly=True) as s:
        compounds = read_frame(s, "compound", columns=["id", "management_mode"])
    rng = random.Random(8)
    edited = rng.sample(sorted(compounds.index), 50)
    server = Server(env, python, pythonpath)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        status, body = _get(conn, "/api/v1/layers", tokens[0])
        check(status == 200, f"B8: /api/v1/layers → {status}")
        layers = [x["id"] for x in json.loads(body)["layers"]
                  if x["id"] in LAYERS]
        status, body = _get(conn, "/api/v1/streets", tokens[0])
        boxes = [s["bbox"] for s in json.loads(body)["streets"] if s.get("bbox")]
        conn.close()
        bbox = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        readers = Readers(server.port, tokens[:READERS], [_viewports(bbox, layers, seed=i) for i in range(READERS)],
                          server.proc.pid)
        try:
            readers.measure(WARMUP_S)
            alone, written, edits = [], [], []
            for i in range(ROUNDS if with_writer else 0):
                order = ("alone", "writer") if i % 2 == 0 else ("writer", "alone")
                for which in order:
                    if which == "alone":
                        alone.append(readers.measure(PHASE_S))
                    else:
                        written.append(readers.measure(PHASE_S, _writer(server.port, tokens[READERS], edited, edits)))
            out: dict[str, Any] = {"alone": alone, "writer": written, "edits": edits, "layers": layers}
            if with_import and env.backend == "sqlite":
                path = export_buildings(env)
                runs: list[float] = []
                failures: list[str] = []
                out["import_alone"] = readers.measure(PHASE_S)
                out["import"] = readers.measure(PHASE_S, _importer(env, path, runs, failures, python, pythonpath))
                out["import_runs"] = runs
                check(not failures and runs, f"B8: the CLI import failed: {failures[:1]}")
            out["errors"] = readers.errors[:5]
            out["error_count"] = len(readers.errors)
        finally:
            readers.close()
    finally:
        server.close()
    return out


def _summary(phases: list[dict[str, float]]) -> tuple[float, float]:
    reads = sum(p["reads"] for p in phases)
    seconds = sum(p["seconds"] for p in phases)
    return reads / seconds, statistics.median(p["p95"] for p in phases)


def run(env: Env) -> list[Result]:
    """Rows: throughput with the writer vs alone (target ≥ 0.8×); SQLite also reads during CLI imports (info).

    With B8_BASELINE=<a source tree of another revision> the same is measured on that code too (its server and
    CLI run with PYTHONPATH=<tree>), reported as info rows beside ours.
    """
    parts = os.environ.get("B8_PARTS", "writer,import").split(",")
    kw = {"with_writer": "writer" in parts, "with_import": "import" in parts}
    rows = _rows(env, measure(env, **kw), "")
    base = os.environ.get("B8_BASELINE")
    if base:
        rows += _rows(env, measure(env, pythonpath=base, **kw), f" — baseline {Path(base).name}")
    return rows


def _rows(env: Env, m: dict[str, Any], label: str) -> list[Result]:
    check(m["error_count"] == 0, f"B8: {m['error_count']} failed reads, e.g. {m['errors']}")
    rows = [_writer_row(env, m, label)] if m["writer"] else []
    if "import" in m:
        ia, ii = m["import_alone"], m["import"]
        rows.append(Result(f"B8 map reads during CLI imports (live SQLite){label}", env.scale, env.backend,
                           "20 readers during imports (s per read)", "20 readers alone (s per read)",
                           1 / ii["rps"], 1 / ia["rps"], "info", None,
                           f"{len(m['import_runs'])} imports (--upsert) of the buildings in {PHASE_S:g} s",
                           note=f"throughput {ii['rps']:.1f} vs {ia['rps']:.1f} req/s; p95 {ii['p95']:.2f} s vs "
                                f"{ia['p95']:.2f} s; import median {statistics.median(m['import_runs']):.1f} s; "
                                "WAL, busy_timeout 30 s", extra=m))
    return rows


def _writer_row(env: Env, m: dict[str, Any], label: str) -> Result:
    (rps_a, p95_a), (rps_w, p95_w) = _summary(m["alone"]), _summary(m["writer"])
    size = f"{READERS} readers, {len(m['layers'])} layers, {len(m['edits'])} edits in {ROUNDS} × {PHASE_S:g} s"
    def per_read(phases: list[dict[str, float]]) -> float:  # server CPU seconds per completed read
        return sum(p.get("server_cpu", 0.0) for p in phases) / max(1, sum(p["reads"] for p in phases))

    worker = sum(p.get("worker_cpu", 0.0) for p in m["writer"]) / max(1, len(m["edits"]))
    return Result(f"B8 map reads with one writer (1 edit / 5 s){label}", env.scale, env.backend,
                  "20 readers + 1 writer (s per read)", "20 readers alone (s per read)", 1 / rps_w, 1 / rps_a,
                  f"throughput ≥ {TARGET:g}× (ratio ≤ {1 / TARGET:.2f})" if not label else "info",
                  rps_w / rps_a >= TARGET if not label else None, size,
                  note=f"throughput {rps_w:.1f} vs {rps_a:.1f} req/s ({rps_w / rps_a:.2f}×); p95 {p95_w:.2f} s vs "
                       f"{p95_a:.2f} s; edit round trip median {statistics.median(m['edits']):.2f} s; server CPU "
                       f"{1000 * per_read(m['alone']):.0f} ms per read alone, {1000 * per_read(m['writer']):.0f} ms "
                       f"with the writer; worker CPU {worker:.2f} s per edit", extra=m)
