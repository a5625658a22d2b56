"""Issue 25 item 1: a few-MB zip carrying ≈ 1 GB of GeoJSON is refused with bounded memory (CLI and web upload).

The import runs in a child process under an address-space cap (so a regression fails instead of exhausting the
machine); its peak RSS comes from `os.wait4` (that child only) and must stay under a fixed limit. No timings.
"""

from __future__ import annotations

import json
import os
import random
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from geoplatform.io.limits import FileProblem, Limits
from geoplatform.io.readers import read_geojson

ROOT = Path(__file__).resolve().parents[2]
PEAK_RSS_LIMIT = 600 * 1024 * 1024  # [D] peak resident memory of the refusing child (its imports alone ≈ 250 MB)
ADDRESS_SPACE_CAP = 2 * 1024 * 1024 * 1024  # the child's virtual memory cap: a regression fails here, not the host
UNCOMPRESSED = 1_000_000_000  # ≈ 1 GB of GeoJSON (under the 1 GiB zip total, so only the member cap refuses it)

FEATURE = ('{"type":"Feature","properties":{"小区编号":"BOMB-1","小区名称":"膨胀测试小区","所属街道":"少先路"},'
           '"geometry":{"type":"Point","coordinates":[109.8312,40.6571]}},')


def _deflate(data: bytes, final: bool) -> bytes:
    """One self-contained run of raw deflate blocks (no reference before its start): such runs concatenate."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def bomb_zip(path: Path, total: int = UNCOMPRESSED) -> tuple[int, int]:
    """Write a zip whose one member is a ≈ `total`-byte GeoJSON FeatureCollection, without ever holding or
    compressing more than 1 MB: a deflated 1 MB run of features is repeated. A random `name` of a few MB keeps
    the ratio under 200× (the old per-member bomb check). Returns (compressed, uncompressed) size."""
    pad = random.Random(25).randbytes(2_400_000).hex()
    head = f'{{"type":"FeatureCollection","name":"{pad}","features":['.encode()
    chunk = (FEATURE * (1_000_000 // len(FEATURE.encode()))).encode()
    tail = FEATURE.rstrip(",").encode() + b"]}"
    n = (total - len(head) - len(tail)) // len(chunk)
    size = len(head) + n * len(chunk) + len(tail)
    crc = zlib.crc32(head)
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    parts = (_deflate(head, False), _deflate(chunk, False), _deflate(tail, True))
    csize = len(parts[0]) + n * len(parts[1]) + len(parts[2])
    name = "小区.geojson".encode()
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, csize, size, len(name), 0))
        fh.write(name)
        fh.write(parts[0])
        for _ in range(n):
            fh.write(parts[1])
        fh.write(parts[2])
        cd_offset = fh.tell()
        fh.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, 0x21, crc, csize, size,
                             len(name), 0, 0, 0, 0, 0, 0))
        fh.write(name)
        cd_size = fh.tell() - cd_offset
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, cd_size, cd_offset, 0))
    return csize, size


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "小区数据.zip"
    csize, size = bomb_zip(path)
    assert 4_000_000 < path.stat().st_size < 8_000_000 and size > 900_000_000
    assert size / csize < 200  # passes the per-member ratio check: only a size cap can stop it
    return path


def run_limited(args: list[str], tmp: Path, env: dict[str, str] | None = None) -> tuple[int, int, str, str]:
    """Run a Python child under the address-space cap; (exit status, its own peak RSS in bytes, stdout, stderr).

    The peak is the child's VmHWM, written at its exit by tests/support/peak_rss/sitecustomize.py (not ru_maxrss,
    which on Linux starts at the forking pytest worker's own high-water mark)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))

    out, err, hwm = tmp / "stdout", tmp / "stderr", tmp / "vmhwm_kb"
    path = os.pathsep.join(p for p in (str(ROOT / "tests" / "support" / "peak_rss"), os.environ.get("PYTHONPATH")) if p)
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.run(args, stdout=o, stderr=e, preexec_fn=cap, cwd=ROOT, check=False,  # noqa: PLW1509
                              env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": path,
                                   "GP_TEST_HWM_FILE": str(hwm), **(env or {})})
    assert hwm.exists(), f"the child wrote no peak (exit {proc.returncode}): {err.read_text(errors='replace')[-2000:]}"
    return proc.returncode, int(hwm.read_text()) * 1024, out.read_text(errors="replace"), err.read_text(errors="replace")


@pytest.mark.parametrize("seeded_url", ["sqlite"], indirect=True)  # refused before the database is used
def test_cli_import_of_a_zip_bomb_is_refused_in_bounded_memory(bomb, seeded_url, tmp_path) -> None:
    rc, peak, out, err = run_limited([str(Path(sys.executable).parent / "geoplatform"), "--db", seeded_url, "import", "compounds",
                                      str(bomb), "--json"], tmp_path)
    assert rc == 2, err[-2000:]
    (problem,) = json.loads(out)["errors"]
    assert problem["key"] == "import.zip.member_too_large"
    assert "小区数据.zip" in problem["where"] and "小区.geojson" in problem["message"]
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / 2**20:.0f} MB"


def test_geojson_feature_cap_is_checked_while_parsing(tmp_path) -> None:
    """A GeoJSON with more features than the cap is refused before its tree is built: the memory the reader
    allocated stays near the file's bytes and text (2× for ASCII; with the whole tree built it is > 9×)."""
    import tracemalloc

    path = tmp_path / "many.geojson"
    feature = ('{"type":"Feature","properties":{"id":"B-1","name":"x"},'
               '"geometry":{"type":"Point","coordinates":[109.8312,40.6571]}}')
    feats = ",".join(feature for _ in range(40_000))
    path.write_text(f'{{"type":"FeatureCollection","features":[{feats}]}}', encoding="utf-8")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(FileProblem) as exc:
            read_geojson(path, Limits(max_features=1000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exc.value.message.key == "import.file.over_feature_limit"
    assert peak < 3 * size, f"{peak / size:.1f}× the file"
