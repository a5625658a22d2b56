"""Limits on imported files: size caps, safe zip extraction (bombs, zip-slip, symlinks), XML entity guard."""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geoplatform.i18n import MessageError
from geoplatform.io import messages  # noqa: F401 - registers the texts


@dataclass(frozen=True)
class Limits:
    """Caps applied to every import (defaults [D]; generous for district-scale ledgers and surveys)."""

    max_file_bytes: int = 200 * 1024 * 1024  # [D] raw file on disk
    max_unzipped_bytes: int = 1024 * 1024 * 1024  # [D] total declared and streamed size inside a zip
    # [D] one file inside a zip, declared and streamed: no larger than the same file sent alone may be (a 2 MB zip
    # carrying a 500 MB GeoJSON is refused before a byte of it is read, not after parsing it took 5 GB)
    max_member_bytes: int = 200 * 1024 * 1024
    max_zip_members: int = 200  # [D] files inside a zip (a shapefile needs ≤ 8)
    max_ratio: int = 200  # [D] uncompressed/compressed ratio per member above which a member is a bomb
    max_features: int = 2_000_000  # [D] features/rows per file
    max_vertices: int = 200_000  # [D] vertices per feature (the whole district outline has < 20,000)
    # [D] characters in one CSV cell: a WKT of max_vertices vertices at full precision (≤ 50 characters each)
    # fits, so a cell under it meets the per-feature limit above, and one over it is refused by row
    max_cell_chars: int = 10_000_000


DEFAULT_LIMITS = Limits()


class FileProblem(MessageError):
    """A file the importer refuses as a whole (format, size, safety); `message` says why (key + params)."""


def check_size(path: Path, limits: Limits) -> None:
    """Refuse files over the size cap."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise FileProblem("import.file.too_big", mb=size / 1e6, limit_mb=limits.max_file_bytes / 1e6)
    if size == 0:
        raise FileProblem("import.file.empty")


def _check_member(info: zipfile.ZipInfo, limits: Limits) -> None:
    name = info.filename
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise FileProblem("import.zip.absolute", member=name)
    if ".." in p.parts:
        raise FileProblem("import.zip.slip", member=name)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise FileProblem("import.zip.symlink", member=name)
    if info.flag_bits & 0x1:
        raise FileProblem("import.zip.encrypted", member=name)
    if info.compress_size and info.file_size / max(info.compress_size, 1) > limits.max_ratio and \
            info.file_size > RATIO_FROM_BYTES:
        raise FileProblem("import.zip.bomb_ratio", member=name, ratio=info.file_size // max(info.compress_size, 1),
                          mb=info.file_size / 1e6)
    if info.file_size > limits.max_member_bytes:
        raise FileProblem("import.zip.member_too_large", member=name, mb=info.file_size / 1e6,
                          limit_mb=limits.max_member_bytes / 1e6)


RATIO_FROM_BYTES = 10_000_000  # [D] members smaller than this are never bombs, whatever their ratio


def _check_streamed(info: zipfile.ZipInfo, written: int, budget: int, limits: Limits) -> None:
    """While a member is read: its bytes so far against its declared size, the member cap, the ratio and the
    zip's total (declared sizes can lie; nothing past a cap is ever held or written)."""
    if budget < 0 or written > info.file_size + 1024:
        raise FileProblem("import.zip.expands", member=info.filename, limit_mb=limits.max_unzipped_bytes / 1e6)
    if written > limits.max_member_bytes:
        raise FileProblem("import.zip.member_too_large", member=info.filename, mb=written / 1e6,
                          limit_mb=limits.max_member_bytes / 1e6)
    if written > RATIO_FROM_BYTES and written > limits.max_ratio * max(info.compress_size, 1):
        raise FileProblem("import.zip.bomb_ratio", member=info.filename, ratio=written // max(info.compress_size, 1),
                          mb=written / 1e6)


def inspect_zip(zf: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """Check a zip's members (count, paths, links, declared sizes); returns the file members."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_members:
        raise FileProblem("import.zip.too_many", n=len(infos), limit=limits.max_zip_members)
    total = 0
    files = []
    for info in infos:
        _check_member(info, limits)
        if info.is_dir():
            continue
        total += info.file_size
        files.append(info)
    if total > limits.max_unzipped_bytes:
        raise FileProblem("import.zip.too_large", mb=total / 1e6, limit_mb=limits.max_unzipped_bytes / 1e6)
    return files


def safe_extract(zip_path: Path, dest: Path, limits: Limits) -> list[Path]:
    """Extract a zip into `dest` after inspect_zip, counting streamed bytes (declared sizes can lie)."""
    out: list[Path] = []
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise FileProblem("import.zip.unreadable", detail=str(exc)) from exc
    with zf:
        files = inspect_zip(zf, limits)
        budget = limits.max_unzipped_bytes
        root = dest.resolve()
        for info in files:
            target = (dest / PurePosixPath(info.filename.replace("\\", "/"))).resolve()
            if root not in target.parents:
                raise FileProblem("import.zip.outside", member=info.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        budget -= len(chunk)
                        _check_streamed(info, written, budget, limits)
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                if isinstance(exc, FileProblem):
                    raise
                raise FileProblem("import.zip.damaged", member=info.filename, detail=str(exc)) from exc
            out.append(target)
    return out


def check_xml_parts(zf: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse XML parts of an XLSX that declare a DTD or entities (entity expansion / external entities)."""
    for info in inspect_zip(zf, limits):
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with zf.open(info) as fh:
            head = fh.read(1 << 16)
        if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
            raise FileProblem("import.xlsx.dtd", member=info.filename)
