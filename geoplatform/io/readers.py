"""Read import files into one shape: attribute rows + optional geometries + the CRS the file declares."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geoplatform.crs import CRSProblem, SourceCRS, parse_crs
from geoplatform.i18n import Message
from geoplatform.io import messages as msg
from geoplatform.io.fields import KNOWN_HEADERS, normalise_header
from geoplatform.io.geometry import GeometryProblem, geometry_from_geojson
from geoplatform.io.limits import (
    DEFAULT_LIMITS,
    FileProblem,
    Limits,
    check_size,
    check_xml_parts,
    safe_extract,
)

# DBF language-driver ids (byte 29) that mean Chinese code pages.
DBF_CHINESE_LDIDS = {0x4D: "gbk", 0x7A: "gbk", 0x90: "gbk"}


@dataclass
class RawTable:
    """What a reader found: rows (original headers), geometries, where-labels, and the declared CRS."""

    name: str
    frame: pd.DataFrame
    geometry: np.ndarray | None = None  # shapely geometries per row (None = null geometry); None = tabular file
    geom_problems: dict[int, Message] = field(default_factory=dict)  # row position → why its geometry failed
    had_z: np.ndarray | None = None
    crs: SourceCRS | None = None
    crs_origin: Message | None = None  # "the shapefile's .prj", "the GeoPackage layer", "the GeoJSON crs member"
    unit: str = "feature"  # "feature" or "row"
    labels: list[int] = field(default_factory=list)  # the number shown to users per row (feature n / sheet row n)
    warnings: list[Message] = field(default_factory=list)
    # (where, why) of cells the reader could not read faithfully (an XLSX formula without a calculated value):
    # errors of the import, reported with the rest
    problems: list[tuple[Message, Message]] = field(default_factory=list)
    # False for CSV/XLSX: no place to say which coordinate system the coordinates are in (it must be chosen)
    can_declare_crs: bool = True

    def where(self, i: int, column: str | Message | None = None) -> Message:
        """'file.xlsx row 14, column 户数' / 'file.geojson feature 3, field geometry' (in each language)."""
        return msg.where(self.name, self.unit, self.label(i), column)

    def label(self, i: int) -> int:
        """The number users see for row position i (sheet row / feature number)."""
        return self.labels[i] if self.labels else i + 1

    def at(self, i: int) -> Message:
        """'row 14' / 'feature 3' (no file name)."""
        return msg.at(self.unit, self.label(i))


def sniff_format(path: Path) -> str:
    """geojson | gpkg | zip | xlsx | csv | shp | xml | xls from magic bytes, then the extension."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    suffix = path.suffix.lower()
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile as exc:
            raise FileProblem("import.zip.damaged_file", detail=str(exc)) from exc
        return "xlsx" if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names) else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head[:4] == b"\x00\x00\x27\x0a":
        return "shp"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if suffix in (".kml", ".kmz", ".gml", ".xml") or text.startswith(b"<"):
        return "xml"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if text.startswith((b"{", b"[")) or suffix in (".geojson", ".json"):
        return "geojson"
    return "csv"


@contextmanager
def open_table(path: str | Path, *, layer: str | None = None, sheet: str | None = None, encoding: str | None = None,
               limits: Limits = DEFAULT_LIMITS) -> Iterator[RawTable]:
    """Read any supported file; temporary files (unzipped shapefiles) are removed when the block ends."""
    path = Path(path)
    if not path.exists():
        raise FileProblem("import.file.not_found")
    if path.is_dir():
        raise FileProblem("import.file.is_folder")
    check_size(path, limits)
    fmt = sniff_format(path)
    if fmt == "xml":
        raise FileProblem("import.file.xml")
    if fmt == "xls":
        raise FileProblem("import.file.xls")
    if fmt == "geojson":
        yield read_geojson(path, limits)
    elif fmt == "gpkg":
        yield read_ogr(path, path.name, layer=layer, limits=limits)
    elif fmt == "shp":
        yield read_shapefile(path, path.name, encoding=encoding, limits=limits)
    elif fmt == "xlsx":
        yield read_xlsx(path, sheet=sheet, limits=limits)
    elif fmt == "csv":
        yield read_csv(path, encoding=encoding, limits=limits)
    else:
        with tempfile.TemporaryDirectory(prefix="geoplatform-import-") as tmp:
            yield _read_zip(path, Path(tmp), layer=layer, sheet=sheet, encoding=encoding, limits=limits)


def _read_zip(path: Path, tmp: Path, *, layer: str | None, sheet: str | None, encoding: str | None,
              limits: Limits) -> RawTable:
    files = safe_extract(path, tmp, limits)
    data = [f for f in files if not f.name.startswith(("._", "~$")) and "__MACOSX" not in f.parts]
    shps = [f for f in data if f.suffix.lower() == ".shp"]
    if layer and shps:
        picked = [f for f in shps if f.stem == layer or f.name == layer]
        if not picked:
            raise FileProblem("import.zip.no_shapefile", layer=layer, names=", ".join(sorted(f.stem for f in shps)))
        shps = picked
    pair = point_companion([f.stem for f in shps]) if not layer else None
    if pair is not None:  # our own export: the shapes and the point-only rows (`compounds_points`), read as one
        by_stem = {f.stem: f for f in shps}
        return combine_tables(*(read_shapefile(by_stem[stem], f"{path.name}:{by_stem[stem].name}", encoding=encoding,
                                               limits=limits) for stem in pair), f"{path.name}:{'+'.join(pair)}")
    if len(shps) > 1:
        raise FileProblem("import.zip.several_shapefiles", n=len(shps), names=", ".join(sorted(f.stem for f in shps)))
    if shps:
        return read_shapefile(shps[0], f"{path.name}:{shps[0].name}", encoding=encoding, limits=limits)
    others = [f for f in data if f.suffix.lower() in (".geojson", ".json", ".gpkg", ".csv", ".xlsx")]
    if any(f.suffix.lower() == ".zip" for f in data):
        raise FileProblem("import.zip.nested")
    if len(others) != 1:
        raise FileProblem("import.zip.no_data")
    inner = others[0]
    fmt = sniff_format(inner)
    if fmt == "geojson":
        t = read_geojson(inner, limits)
    elif fmt == "gpkg":
        t = read_ogr(inner, inner.name, layer=layer, limits=limits)
    elif fmt == "xlsx":
        t = read_xlsx(inner, sheet=sheet, limits=limits)
    else:
        t = read_csv(inner, encoding=encoding, limits=limits)
    t.name = f"{path.name}:{inner.name}"
    return t


# ---------------------------------------------------------------- a layer and its point companion

POINTS_SUFFIX = "_points"


def point_companion(names: list[str]) -> tuple[str, str] | None:
    """(shapes, points) when the layers are exactly a layer and its point companion, as our exports write them
    (`compound` + `compounds_points`, `X` + `X_points`); else None."""
    if len(names) != 2:
        return None
    points = [n for n in names if n.endswith(POINTS_SUFFIX)]
    if len(points) != 1:
        return None
    other = next(n for n in names if n != points[0])
    return other, points[0]


def combine_tables(first: RawTable, second: RawTable, name: str) -> RawTable:
    """Two layers of one file read as one table (features numbered on through the second layer)."""
    if first.crs is not None and second.crs is not None and first.crs.name != second.crs.name:
        raise FileProblem("import.ogr.companion_crs", first=first.crs.name, second=second.crs.name)
    n = len(first.frame)
    frame = pd.concat([first.frame, second.frame], ignore_index=True)
    geoms = np.concatenate([np.asarray(first.geometry, dtype=object), np.asarray(second.geometry, dtype=object)])
    had_z = None if first.had_z is None and second.had_z is None else np.concatenate([
        np.zeros(n, bool) if first.had_z is None else np.asarray(first.had_z, bool),
        np.zeros(len(second.frame), bool) if second.had_z is None else np.asarray(second.had_z, bool)])
    problems = {**first.geom_problems, **{n + i: m for i, m in second.geom_problems.items()}}
    labels = [first.label(i) for i in range(n)] + [n + second.label(i) for i in range(len(second.frame))]
    crs = first.crs or second.crs
    origin = first.crs_origin if first.crs is not None else second.crs_origin
    return RawTable(name, frame, geoms, problems, had_z, crs, origin, "feature", labels,
                    [*first.warnings, *second.warnings])


# ---------------------------------------------------------------- GeoJSON

def read_geojson(path: Path, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """A GeoJSON FeatureCollection, bare Feature array, single Feature or bare geometry."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem("import.geojson.not_utf8", pos=exc.start) from exc
    del raw
    _count_features(text, limits)
    try:
        doc = json.loads(text, parse_constant=lambda c: float(c.replace("Infinity", "inf")))
    except json.JSONDecodeError as exc:
        key = "import.json.truncated" if exc.pos >= len(text.rstrip()) - 1 else "import.json.invalid"
        raise FileProblem(key, line=exc.lineno, col=exc.colno, detail=exc.msg) from exc
    except RecursionError as exc:
        raise FileProblem("import.json.too_deep") from exc
    crs, origin = None, None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise FileProblem("import.geojson.no_features")
        crs, origin = _geojson_crs(doc)
    elif isinstance(doc, list):
        feats = doc
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        feats = [doc]
        crs, origin = _geojson_crs(doc)
    elif isinstance(doc, dict) and doc.get("type") in ("Point", "MultiPoint", "LineString", "MultiLineString",
                                                       "Polygon", "MultiPolygon", "GeometryCollection"):
        feats = [{"type": "Feature", "properties": {}, "geometry": doc}]
        crs, origin = _geojson_crs(doc)
    else:
        raise FileProblem("import.geojson.not_geojson")
    if len(feats) > limits.max_features:
        raise FileProblem("import.file.too_many_features", n=len(feats), limit=limits.max_features)
    props: list[dict[str, Any]] = []
    geoms = np.empty(len(feats), dtype=object)
    had_z = np.zeros(len(feats), dtype=bool)
    problems: dict[int, Message] = {}
    for i, f in enumerate(feats):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            problems[i] = Message("import.geojson.not_feature")
            props.append({})
            continue
        p = f.get("properties")
        props.append(p if isinstance(p, dict) else {})
        try:
            geoms[i], had_z[i] = geometry_from_geojson(f.get("geometry"))
        except GeometryProblem as exc:
            problems[i] = exc.message
    frame = pd.DataFrame.from_records(props) if props else pd.DataFrame()
    frame = frame.astype(object) if len(frame.columns) else pd.DataFrame(index=range(len(feats)))
    return RawTable(path.name, frame, geoms, problems, had_z, crs, origin, "feature", list(range(1, len(feats) + 1)))


class _OverFeatureLimit(Exception):
    pass


def _count_features(text: str, limits: Limits) -> None:
    """Count the Feature objects while the JSON is parsed, keeping none of them (every object becomes None as soon
    as it is read), and stop at the feature cap: a file with too many features is refused before its tree is built
    (the tree of a 470 MB GeoJSON takes ≈ 5 GB). A syntax error is left to the real parse, which names its place."""
    if len(text) < len('{"type":"Feature"}') * limits.max_features:
        return  # too short to hold more features than the cap
    count = 0

    def hook(pairs: list[tuple[str, Any]]) -> None:
        nonlocal count
        if ("type", "Feature") in pairs:
            count += 1
            if count > limits.max_features:
                raise _OverFeatureLimit
        return None

    try:
        json.loads(text, object_pairs_hook=hook, parse_constant=lambda c: 0.0)
    except _OverFeatureLimit as exc:
        raise FileProblem("import.file.over_feature_limit", limit=limits.max_features) from exc
    except (ValueError, RecursionError):
        pass


def _geojson_crs(doc: dict[str, Any]) -> tuple[SourceCRS | None, Message | None]:
    member = doc.get("crs")
    if not member:
        return None, None
    name = (member.get("properties") or {}).get("name") if isinstance(member, dict) else None
    if not name:
        raise FileProblem("import.geojson.crs_no_name")
    m = re.search(r"EPSG:*(\d+)", str(name))
    if "CRS84" in str(name).upper():
        return parse_crs("EPSG:4326"), Message("import.origin.geojson")
    try:
        return parse_crs(f"EPSG:{m.group(1)}" if m else name), Message("import.origin.geojson")
    except CRSProblem as exc:
        raise FileProblem("import.geojson.crs_unknown", name=name) from exc


# ---------------------------------------------------------------- GDAL formats (GeoPackage, Shapefile)

def read_ogr(path: Path, name: str, *, layer: str | None = None, encoding: str | None = None,
             limits: Limits = DEFAULT_LIMITS, origin: Message | None = None) -> RawTable:
    """A GeoPackage layer (listing the layers when several and none picked) or a shapefile via pyogrio."""
    import pyogrio
    import pyogrio.raw

    origin = origin or Message("import.origin.gpkg")

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - GDAL's errors vary by driver
        raise FileProblem("import.ogr.cannot_open", detail=str(exc)) from exc
    names = [str(n) for n, _ in layers]
    pair = point_companion(names) if layer is None else None
    if pair is not None:  # our own export: the shapes and the point-only rows (`compounds_points`), read as one
        return combine_tables(*(read_ogr(path, f"{name}:{lyr}", layer=lyr, encoding=encoding, limits=limits,
                                         origin=origin) for lyr in pair), f"{name}:{'+'.join(pair)}")
    if layer is None and len(names) > 1:
        raise FileProblem("import.ogr.several_layers", n=len(names), names=", ".join(names))
    if layer is not None and layer not in names:
        raise FileProblem("import.ogr.no_layer", layer=layer, names=", ".join(names))
    lyr = layer or names[0]
    try:
        info = pyogrio.read_info(path, layer=lyr, encoding=encoding)
        if info["features"] > limits.max_features:
            raise FileProblem("import.file.too_many_features", n=info["features"], limit=limits.max_features)
        meta, wkb, values = _read_layer(path, lyr, encoding, info)
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001
        raise FileProblem("import.ogr.cannot_read", layer=lyr, detail=str(exc)) from exc
    columns = list(meta["fields"])
    # numbers keep their numeric dtype (the importer checks such a column as one array); the rest as objects
    frame = pd.DataFrame({c: pd.Series(v) if getattr(v, "dtype", None) is not None and v.dtype.kind in "iuf"
                          else pd.Series(v, dtype=object) for c, v in zip(columns, values, strict=True)})
    n = len(wkb) if wkb is not None else len(frame)
    if not len(frame.columns):
        frame = pd.DataFrame(index=range(n))
    geoms = np.empty(n, dtype=object)
    problems: dict[int, Message] = {}
    had_z = np.zeros(n, dtype=bool)
    if wkb is not None:
        decoded = shapely.from_wkb(wkb, on_invalid="ignore")
        for i in np.flatnonzero(pd.isna(decoded) & pd.notna(np.asarray(wkb, dtype=object))):
            problems[int(i)] = Message("import.geom.undecodable")
        geoms[:] = decoded
        had_z = np.asarray(shapely.has_z(decoded), dtype=bool) | (
            np.asarray(shapely.has_m(decoded), dtype=bool) if hasattr(shapely, "has_m") else False)
    crs = None
    if meta.get("crs"):
        try:
            crs = parse_crs(meta["crs"])
        except CRSProblem as exc:
            raise FileProblem("import.ogr.bad_crs", origin=origin, crs=str(meta["crs"])) from exc
    return RawTable(name, frame, geoms, problems, had_z, crs, origin if crs else None, "feature",
                    list(range(1, n + 1)))


# OGR field types whose values pyogrio gives alike read through Arrow or row by row (text, integers, reals; no
# subtype such as boolean or JSON): the layers read through Arrow when `pyarrow` is there
ARROW_TYPES = frozenset({"OFTString", "OFTInteger", "OFTInteger64", "OFTReal"})


def arrow_readable(info: dict[str, Any]) -> bool:
    """Whether a layer (`pyogrio.read_info`) reads the same through Arrow: every field of a plain type, no subtype."""
    types, subtypes = info.get("ogr_types"), info.get("ogr_subtypes")
    if types is None or subtypes is None or len(types) != len(info["fields"]):
        return False
    return all(t in ARROW_TYPES for t in types) and all(st in (None, "OFSTNone") for st in subtypes)


def _read_layer(path: Path, layer: str, encoding: str | None, info: dict[str, Any]) -> tuple[dict[str, Any], Any, list]:
    """(meta, WKB per feature or None, one array per field), as `pyogrio.raw.read` gives them: through Arrow when the
    layer's fields allow it (`arrow_readable`: ≈ half the CPU time of GDAL's row-by-row read), else row by row."""
    import pyogrio.raw

    if arrow_readable(info):
        try:
            import pyarrow  # noqa: F401  (optional: without it, the row-by-row read)
        except ImportError:
            pass
        else:
            meta, table = pyogrio.raw.read_arrow(path, layer=layer, encoding=encoding)
            gcol = meta.get("geometry_name") or "wkb_geometry"
            wkb = table.column(gcol).to_numpy(zero_copy_only=False) if gcol in table.column_names else None
            # text: object arrays (None where null); integers: int arrays, float64 with NaN where null — as raw.read
            values = [table.column(f).to_numpy(zero_copy_only=False) for f in meta["fields"]]
            return meta, wkb, values
    meta, _fids, wkb, values = pyogrio.raw.read(path, layer=layer, encoding=encoding)
    return meta, wkb, values


def _dbf_text_is_utf8(dbf: Path) -> tuple[bool, bool]:
    """(all text decodes as UTF-8, any non-ASCII byte) for a DBF's records."""
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return True, False
    header_len = struct.unpack("<H", raw[8:10])[0]
    body = raw[header_len:]
    nonascii = any(b > 127 for b in body)
    if not nonascii:
        return True, False
    try:
        body.decode("utf-8")
        return True, True
    except UnicodeDecodeError:
        return False, True


def read_shapefile(shp: Path, name: str, *, encoding: str | None, limits: Limits) -> RawTable:
    """A shapefile: .prj read, DBF text via .cpg, the DBF's language driver or --encoding (never guessed)."""
    base = shp.with_suffix("")
    siblings = {p.suffix.lower(): p for p in shp.parent.glob(base.name + ".*") if p.with_suffix("") == base}
    for need in (".shx", ".dbf"):
        if need not in siblings:
            raise FileProblem("import.shp.missing_part", file=shp.name, part=need)
    warnings: list[Message] = []
    enc = encoding
    if enc is None and ".cpg" in siblings:
        cpg = siblings[".cpg"].read_text(errors="replace").strip().lower()
        enc = {"936": "gbk", "cp936": "gbk", "gbk": "gbk", "gb2312": "gbk", "gb18030": "gb18030", "65001": "utf-8",
               "utf8": "utf-8", "utf-8": "utf-8"}.get(cpg, cpg or None)
    if enc is None:
        ldid = siblings[".dbf"].read_bytes()[29:30]
        if ldid and ldid[0] in DBF_CHINESE_LDIDS:
            enc = DBF_CHINESE_LDIDS[ldid[0]]
            warnings.append(Message("import.shp.ldid", file=name, encoding=enc.upper()))
    if enc is None:
        utf8, nonascii = _dbf_text_is_utf8(siblings[".dbf"])
        if not utf8:
            raise FileProblem("import.shp.not_utf8", file=shp.name)
        enc = "utf-8"
    try:
        "".encode(enc)
    except LookupError as exc:
        raise FileProblem("import.text.unknown_encoding", encoding=enc) from exc
    t = read_ogr(shp, name, encoding=enc, limits=limits, origin=Message("import.origin.prj"))
    if ".prj" not in siblings:
        t.crs, t.crs_origin = None, None
    t.warnings.extend(warnings)
    return t


# ---------------------------------------------------------------- CSV / XLSX

def decode_text(raw: bytes, encoding: str | None) -> tuple[str, str]:
    """Bytes → text: --encoding, else UTF-8 BOM, UTF-8, then GB18030 (superset of GBK/GB2312)."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileProblem("import.text.cannot_decode", encoding=encoding, detail=str(exc)) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileProblem("import.text.undetected") from exc


HEADER_SCAN_ROWS = 10


def _header_row(rows: list[list[Any]], known: set[str] | None) -> int:
    """Index of the header row: the first of the first rows with ≥ 2 known column names (title rows skipped)."""
    if not known:
        return 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = sum(1 for c in row if c is not None and normalise_header(c) in known)
        if hits >= 2:
            return i
    return 0


def _table_from_rows(name: str, rows: list[list[Any]], first_row_number: int) -> RawTable:
    if not rows:
        raise FileProblem("import.file.no_rows")
    h = _header_row(rows, KNOWN_HEADERS)
    header = ["" if c is None else str(c).strip() for c in rows[h]]
    seen: dict[str, int] = {}
    cols = []
    for j, c in enumerate(header):
        c = c or f"column{j + 1}"
        if c in seen:
            seen[c] += 1
            c = f"{c}.{seen[c]}"
        else:
            seen[c] = 0
        cols.append(c)
    body, labels = [], []
    for k, row in enumerate(rows[h + 1:]):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # blank line
        row = list(row) + [None] * (len(cols) - len(row))
        body.append(row[: len(cols)])
        labels.append(first_row_number + h + 1 + k)
    frame = pd.DataFrame(body, columns=cols, dtype=object) if body else pd.DataFrame(columns=cols, dtype=object)
    return RawTable(name, frame, None, {}, None, None, None, "row", labels, can_declare_crs=False)


def read_csv(path: Path, encoding: str | None = None, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """A CSV (comma, semicolon or tab separated) in UTF-8 (BOM or not) or GBK/GB18030."""
    text, enc = decode_text(path.read_bytes(), encoding)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] if sample else ",", delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    rows = _csv_rows(text, delim, limits)
    if len(rows) > limits.max_features + HEADER_SCAN_ROWS:
        raise FileProblem("import.file.too_many_rows", n=len(rows), limit=limits.max_features)
    t = _table_from_rows(path.name, rows, 1)
    if enc not in ("utf-8", "utf-8-sig"):
        t.warnings.append(Message("import.text.read_as", file=path.name, encoding=enc.upper()))
    return t


_CSV_LIMIT_LOCK = threading.Lock()  # csv.field_size_limit is process-wide: set and restored around one parse


def _csv_rows(text: str, delim: str, limits: Limits) -> list[list[Any]]:
    """The rows of a CSV text; a cell may be as long as the importer's per-cell limit (Python's csv module stops at
    131,072 characters: a WKT polygon of ≈ 6,000 vertices), a longer one is a FileProblem naming its line."""
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    with _CSV_LIMIT_LOCK:
        before = csv.field_size_limit(limits.max_cell_chars)
        try:
            rows = []
            for r in reader:  # the row cap is checked while parsing: nothing past it is kept
                if len(rows) > limits.max_features + HEADER_SCAN_ROWS:
                    raise FileProblem("import.file.over_row_limit", limit=limits.max_features)
                rows.append([None if v == "" else v for v in r])
            return rows
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                raise FileProblem("import.csv.unreadable", line=reader.line_num, detail=str(exc)) from exc
            raise FileProblem("import.csv.cell_too_long", line=reader.line_num, limit=limits.max_cell_chars,
                              vertices=limits.max_vertices) from exc
        finally:
            csv.field_size_limit(before)


def read_xlsx(path: Path, sheet: str | None = None, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """An XLSX sheet (--sheet by name or 1-based number; the only non-empty sheet otherwise)."""
    import openpyxl

    with zipfile.ZipFile(path) as zf:
        check_xml_parts(zf, limits)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise FileProblem("import.xlsx.unreadable", detail=str(exc)) from exc
    try:
        names = wb.sheetnames
        if sheet is not None:
            pick = sheet if sheet in names else (names[int(sheet) - 1] if sheet.isdigit() and 0 < int(sheet) <= len(names)
                                                   else None)
            if pick is None:
                raise FileProblem("import.xlsx.no_sheet", sheet=sheet, names=", ".join(names))
            candidates = [pick]
        else:
            candidates = [n for n in names if wb[n].max_row and (wb[n].max_row > 1 or wb[n].max_column > 1)]
            if len(candidates) > 1:
                raise FileProblem("import.xlsx.several_sheets", n=len(candidates), names=", ".join(candidates))
            candidates = candidates or names[:1]
        ws = wb[candidates[0]]
        uncalculated = _formulas_without_value(wb, ws, limits)
        rows = []
        for n, r in enumerate(ws.iter_rows(values_only=True)):
            if n > limits.max_features + HEADER_SCAN_ROWS:
                raise FileProblem("import.xlsx.too_many_rows", limit=limits.max_features)
            rows.append(list(r))
    finally:
        wb.close()
    if not rows and uncalculated:
        rows = [[]]
    t = _table_from_rows(path.name, rows, 1)
    if len(wb.sheetnames) > 1:
        t.name = f"{path.name}[{candidates[0]}]"
    header = rows[_header_row(rows, KNOWN_HEADERS)]
    for row, col in uncalculated:  # an error each, never an empty cell (nor a row skipped as blank)
        name = header[col - 1] if col <= len(header) and header[col - 1] not in (None, "") else None
        column = str(name).strip() if name is not None else Message("import.xlsx.column_letter",
                                                                     letter=_column_letter(col))
        t.problems.append((msg.where(t.name, "row", row, column), Message("import.xlsx.formula_no_value")))
    return t


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)$")


def _column_letter(col: int) -> str:
    out = ""
    while col:
        col, r = divmod(col - 1, 26)
        out = chr(65 + r) + out
    return out


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _has_formula(archive: zipfile.ZipFile, path: str) -> bool:
    """Whether a sheet's XML holds any formula element (read in 1 MB pieces, overlapping by a tag's length)."""
    tail = b""
    with archive.open(path) as src:
        while chunk := src.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _formulas_without_value(wb: Any, ws: Any, limits: Limits) -> list[tuple[int, int]]:
    """(sheet row, column number) of formula cells with no calculated value stored: a workbook written by a
    program that does not calculate (a script through openpyxl, some WPS exports). Read with data_only such a cell
    is empty; it must be reported instead. A formula whose stored result is an empty text (t="str") has a value.
    Streams the sheet's XML (the parts were checked for DTDs/entities by `check_xml_parts`)."""
    from xml.etree.ElementTree import iterparse

    path = getattr(ws, "_worksheet_path", None)
    archive = getattr(wb, "_archive", None)
    if path is None or archive is None:
        return []
    if not _has_formula(archive, path):
        return []  # most sheets: one fast pass over the bytes, no XML parse
    found: list[tuple[int, int]] = []
    row_n, col_n = 0, 0
    with archive.open(path) as src:
        for event, el in iterparse(src, events=("start", "end")):
            if event == "start":
                if el.tag == f"{_SHEET_NS}row":
                    row_n = int(el.get("r") or row_n + 1)
                    col_n = 0
                continue
            if el.tag == f"{_SHEET_NS}c":
                m = _CELL_REF.match(el.get("r") or "")
                if m:
                    col_n = sum((ord(ch) - 64) * 26 ** k for k, ch in enumerate(reversed(m.group(1))))
                    row_n = int(m.group(2))
                else:
                    col_n += 1
                if el.find(f"{_SHEET_NS}f") is not None:
                    v = el.find(f"{_SHEET_NS}v")
                    if (v is None or not v.text) and el.get("t") not in ("str", "inlineStr"):
                        found.append((row_n, col_n))
                        if len(found) > limits.max_features:
                            break
                el.clear()
            elif el.tag == f"{_SHEET_NS}row":
                el.clear()
    return found
