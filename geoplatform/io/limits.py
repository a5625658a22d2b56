"""Limits on imported files: size caps, safe zip extraction (bombs, zip-slip, symlinks), XML entity guard."""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Limits:
    """Caps applied to every import (defaults [D]; generous for district-scale ledgers and surveys)."""

    max_file_bytes: int = 200 * 1024 * 1024  # [D] raw file on disk
    max_unzipped_bytes: int = 1024 * 1024 * 1024  # [D] total declared and streamed size inside a zip
    max_zip_members: int = 200  # [D] files inside a zip (a shapefile needs ≤ 8)
    max_ratio: int = 200  # [D] uncompressed/compressed ratio per member above which a member is a bomb
    max_features: int = 2_000_000  # [D] features/rows per file
    max_vertices: int = 200_000  # [D] vertices per feature (the whole district outline has < 20,000)


DEFAULT_LIMITS = Limits()


class FileProblem(ValueError):
    """A file the importer refuses as a whole (format, size, safety); the message says why."""


def check_size(path: Path, limits: Limits) -> None:
    """Refuse files over the size cap."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise FileProblem(f"file is {size / 1e6:.0f} MB, over the {limits.max_file_bytes / 1e6:.0f} MB import limit; "
                          "split it (e.g. by street) and import the parts")
    if size == 0:
        raise FileProblem("file is empty")


def _check_member(info: zipfile.ZipInfo, limits: Limits) -> None:
    name = info.filename
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise FileProblem(f"zip member {name!r} has an absolute path (refused: it could write outside the import folder)")
    if ".." in p.parts:
        raise FileProblem(f"zip member {name!r} climbs out of the archive with '..' (zip-slip, refused)")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise FileProblem(f"zip member {name!r} is a symbolic link (refused)")
    if info.flag_bits & 0x1:
        raise FileProblem(f"zip member {name!r} is encrypted (refused)")
    if info.compress_size and info.file_size / max(info.compress_size, 1) > limits.max_ratio and info.file_size > 10_000_000:
        raise FileProblem(f"zip member {name!r} expands {info.file_size // max(info.compress_size, 1)}× "
                          f"({info.file_size / 1e6:.0f} MB): refused as a zip bomb")


def inspect_zip(zf: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """Check a zip's members (count, paths, links, declared sizes); returns the file members."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_members:
        raise FileProblem(f"zip holds {len(infos)} entries, over the limit of {limits.max_zip_members} (refused)")
    total = 0
    files = []
    for info in infos:
        _check_member(info, limits)
        if info.is_dir():
            continue
        total += info.file_size
        files.append(info)
    if total > limits.max_unzipped_bytes:
        raise FileProblem(f"zip declares {total / 1e6:.0f} MB uncompressed, over the "
                          f"{limits.max_unzipped_bytes / 1e6:.0f} MB limit: refused as a possible zip bomb")
    return files


def safe_extract(zip_path: Path, dest: Path, limits: Limits) -> list[Path]:
    """Extract a zip into `dest` after inspect_zip, counting streamed bytes (declared sizes can lie)."""
    out: list[Path] = []
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise FileProblem(f"not a readable zip file ({exc})") from exc
    with zf:
        files = inspect_zip(zf, limits)
        budget = limits.max_unzipped_bytes
        root = dest.resolve()
        for info in files:
            target = (dest / PurePosixPath(info.filename.replace("\\", "/"))).resolve()
            if root not in target.parents:
                raise FileProblem(f"zip member {info.filename!r} would land outside the import folder (refused)")
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        budget -= len(chunk)
                        if budget < 0 or written > info.file_size + 1024:
                            raise FileProblem(f"zip member {info.filename!r} expands beyond its declared size / the "
                                              f"{limits.max_unzipped_bytes / 1e6:.0f} MB limit: refused as a zip bomb")
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                if isinstance(exc, FileProblem):
                    raise
                raise FileProblem(f"zip member {info.filename!r} is damaged ({exc})") from exc
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
            raise FileProblem(f"workbook part {info.filename!r} declares a DTD/entities (XML entity expansion "
                              "or external entity): refused")
