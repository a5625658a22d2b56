"""The basemaps plugin's one service layer (framework-free): add, list and remove tile packages, read tiles.

Called by the CLI (`geoplatform basemap …`) and the bureau's upload page alike. A package is kept as
`<dir>/<name>.mbtiles|.pmtiles` plus a manifest `<name>.json` (title, formats, zooms, who added it);
the folder is the instance folder's `basemaps` (settings). Changes need `manage_basemaps` (admin and
bureau under the base policy) and are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

from geoplatform import audit
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from plugins.basemaps.packages import CONTENT_TYPES, inspect, open_reader
from plugins.basemaps.settings import settings_for

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ID_PREFIX = "pkg-"  # basemap id of a package: never clashes with osm / tianditu_* / outline / none
_readers: dict[tuple[str, str], Any] = {}
_readers_lock = threading.Lock()


def package_dir(context: Any) -> Path:
    """The folder of this context's tile packages (not created)."""
    return settings_for(context).directory()


def basemap_id(name: str) -> str:
    """The basemap id under which a package is offered in the map's switcher."""
    return ID_PREFIX + name


def _manifests(folder: Path) -> list[dict[str, Any]]:
    out = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and (folder / str(manifest.get("file", ""))).is_file():
            out.append(manifest)
    return out


def list_packages(context: Any) -> list[dict[str, Any]]:
    """Every stored package's manifest, most recently added first."""
    return sorted(_manifests(package_dir(context)), key=lambda m: str(m.get("added_at", "")), reverse=True)


def get_package(context: Any, name: str) -> dict[str, Any] | None:
    """One package's manifest, or None."""
    if not NAME_RE.match(name or ""):
        return None
    folder = package_dir(context)
    path = folder / f"{name}.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if (folder / str(manifest.get("file", ""))).is_file() else None


def name_from(text: str) -> str:
    """A package name from a file name: lower-case letters, digits, '_' and '-' (else "tiles")."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", Path(text).stem.casefold()).strip("-_")[:40].strip("-_")
    return slug or "tiles"


def _check_allowed(context: Any, principal: Any, name: str, what: str) -> None:
    if not context.allowed(principal, "manage_basemaps", {"kind": "basemap", "id": name}):
        audit.record_denied(context, principal, what, "basemap", name)
        raise Forbidden("basemaps.error.forbidden")


def add_package(context: Any, principal: Any, source: Path, name: str | None = None, title: str | None = None,
                display: str | None = None, move: bool = False) -> dict[str, Any]:
    """Validate `source` and store it as package `name` (default: from the file name); returns its manifest.

    `display` names the file in messages (the uploaded file's own name); `move` moves instead of copying
    (an upload already in the package folder).
    """
    source = Path(source)
    display = display or source.name
    chosen = (name or "").strip()
    if chosen and not NAME_RE.match(chosen):
        raise UserInputError("basemaps.error.name", name=chosen)
    name = chosen or name_from(display)
    _check_allowed(context, principal, name, "create")
    info = inspect(source, display)
    folder = package_dir(context)
    folder.mkdir(parents=True, exist_ok=True)
    if get_package(context, name) is not None:
        raise Conflict("basemaps.error.exists", name=name)
    target = folder / f"{name}.{info.container}"
    partial = folder / f".{name}.{info.container}.part"
    if move:
        os.replace(source, partial)
    else:
        shutil.copyfile(source, partial)
    digest = _sha256(partial)
    manifest = {
        "name": name, "title": (title or "").strip()[:60] or info.title[:60] or name,
        "file": target.name, "container": info.container, "tile_format": info.tile_format, "kind": info.kind,
        "compression": info.compression, "min_zoom": info.min_zoom, "max_zoom": info.max_zoom,
        "bounds": list(info.bounds) if info.bounds else None, "data_layers": list(info.data_layers),
        "attribution": info.attribution[:300], "size": partial.stat().st_size, "sha256": digest,
        "added_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"), "added_by": _who(principal),
        "source_file": display[:200],
    }
    try:
        with context.session() as s:
            os.replace(partial, target)
            _write_json(folder / f"{name}.json", manifest)
            audit.record(s, principal, "create", "basemap", name, after=_audited(manifest))
    except BaseException:
        for leftover in (partial, target, folder / f"{name}.json"):
            leftover.unlink(missing_ok=True)
        raise
    return manifest


def remove_package(context: Any, principal: Any, name: str) -> dict[str, Any]:
    """Delete package `name` (file and manifest); returns the manifest it had."""
    _check_allowed(context, principal, name, "delete")
    manifest = get_package(context, name)
    if manifest is None:
        raise NotFound("basemaps.error.not_found", name=name)
    folder = package_dir(context)
    with context.session() as s:
        audit.record(s, principal, "delete", "basemap", name, before=_audited(manifest))
        _drop_reader(folder / manifest["file"])
        (folder / f"{name}.json").unlink(missing_ok=True)
        (folder / manifest["file"]).unlink(missing_ok=True)
    return manifest


def read_tile(context: Any, name: str, z: int, x: int, y: int) -> tuple[bytes, str, str | None, str] | None:
    """(data, content type, content encoding or None, package version) of XYZ tile z/x/y, or None (no tile).

    Raises NotFound for an unknown package.
    """
    manifest = get_package(context, name)
    if manifest is None:
        raise NotFound("basemaps.error.not_found", name=name)
    if not (0 <= z <= 30 and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
        return None
    reader = _reader(package_dir(context) / manifest["file"], manifest)
    data = reader.get(z, x, y)
    if not data:
        return None
    encoding = "gzip" if manifest["kind"] == "vector" and data[:2] == b"\x1f\x8b" else None
    return data, CONTENT_TYPES[manifest["tile_format"]], encoding, str(manifest["sha256"])[:12]


def _reader(path: Path, manifest: dict[str, Any]) -> Any:
    key = (str(path), str(manifest.get("sha256")))
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = open_reader(path, manifest["container"])
        return reader


def _drop_reader(path: Path) -> None:
    with _readers_lock:
        for key in [k for k in _readers if k[0] == str(path)]:
            _readers.pop(key).close()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _who(principal: Any) -> str:
    return getattr(principal, "name", None) or str(principal or "")


def _audited(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("title", "file", "container", "tile_format", "min_zoom", "max_zoom", "size", "sha256", "source_file")
    return {k: manifest.get(k) for k in keys}
