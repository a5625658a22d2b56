"""Export → import round-trips losslessly, in every format, on both databases."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest
import shapely

from geoplatform.io.export import FORMATS, table_frame, write_file
from geoplatform.io.importer import import_file

STREET = "150203001"
CHOSEN = {"csv": {"crs": "wgs84"}, "xlsx": {"crs": "wgs84"}}  # CSV/XLSX cannot declare a CRS: it is chosen
SKIP = {"version", "updated_at"}
ORDER = [("district", "district"), ("street", "streets"), ("community", "communities"), ("compound", "compounds"),
         ("building", "buildings")]


def _frame(ctx, table: str) -> pd.DataFrame:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return table_frame(s, table, STREET if table in ("compound", "building") else None)


def _as_imported(src: pd.DataFrame, path) -> pd.DataFrame:  # noqa: ANN001
    """What the import stores of an exported frame: a row whose source is the synthetic demo's is recorded as imported
    (`demo` must never take imported rows for its own); every other value as it was."""
    from geoplatform.demo import SOURCE

    if "source" not in src:
        return src
    return src.assign(source=pd.Series([_Imported(path.name) if isinstance(v, str) and v.startswith(SOURCE) else v
                                        for v in src["source"]], index=src.index, dtype=object))


@dataclass(frozen=True)
class _Imported:
    """The source an import records: `import FILE` (and the layers read from it)."""

    file: str


def _same(a: object, b: object) -> bool:
    if isinstance(a, _Imported):
        return isinstance(b, str) and (b == f"import {a.file}" or b.startswith(f"import {a.file}:"))
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        if a is None or b is None:
            return a is None and b is None
        return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-9))
    if isinstance(a, list) or isinstance(b, list):
        return list(a or []) == list(b or [])
    if pd.isna(a) and pd.isna(b):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_import_round_trip(fmt, demo_ctx, ctx, tmp_path):
    for table, kind in ORDER:
        src = _frame(demo_ctx, table)
        path = tmp_path / f"{table}.{fmt if fmt != 'shp' else 'zip'}"
        assert write_file(src, path, fmt, table=table) == len(src)
        report = import_file(ctx, kind, path, **CHOSEN.get(fmt, {}))
        assert report.imported == len(src), report.as_dict()
        got = _frame(ctx, table)
        assert len(got) == len(src)
        src, got = _as_imported(src, path).reset_index(drop=True), got.reset_index(drop=True)
        for col in src.columns:
            if col in SKIP:
                continue
            bad = [i for i, (a, b) in enumerate(zip(src[col], got[col], strict=True)) if not _same(a, b)]
            assert not bad, f"{table}.{col} differs after {fmt}: {src[col].iloc[bad[0]]!r} → {got[col].iloc[bad[0]]!r}"


OTHERS = [("property_company", "companies", ["name"]), ("compound", "compounds", ["id"]),
          ("garage", "garages", ["id"]), ("handover", "handovers", ["compound_id", "facility"]),
          ("barrier", "barriers", ["id"])]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "xlsx"])
def test_round_trip_of_the_other_tables(fmt, demo_ctx, ctx, tmp_path):
    for table, kind in ORDER[:3]:
        with demo_ctx.session(readonly=True) as s:
            write_file(table_frame(s, table), tmp_path / f"{table}.{fmt}", fmt, table=table)
        import_file(ctx, kind, tmp_path / f"{table}.{fmt}", **CHOSEN.get(fmt, {}))
    for table, kind, key in OTHERS:
        with demo_ctx.session(readonly=True) as s:
            src = table_frame(s, table, STREET)
        if table in ("handover", "garage"):
            with demo_ctx.session(readonly=True) as s:
                from sqlalchemy import select

                from geoplatform.models import Compound

                ids = set(s.execute(select(Compound.id).where(Compound.street_code == STREET)).scalars())
            src = src[src["compound_id"].isin(ids)]
        path = tmp_path / f"{table}.{fmt}"
        write_file(src, path, fmt, table=table)
        report = import_file(ctx, kind, path, **CHOSEN.get(fmt, {}))
        assert report.imported == len(src), report.as_dict()
        with ctx.session(readonly=True) as s:
            got = table_frame(s, table, STREET)
        src = _as_imported(src, path).sort_values(key).reset_index(drop=True)
        got = got.sort_values(key).reset_index(drop=True)
        assert len(got) == len(src)
        for col in src.columns:
            if col in SKIP or col in ("id", "since") and table in ("handover", "property_company"):
                continue
            bad = [i for i, (a, b) in enumerate(zip(src[col], got[col], strict=True)) if not _same(a, b)]
            assert not bad, f"{table}.{col} differs after {fmt}: {src[col].iloc[bad[0]]!r} → {got[col].iloc[bad[0]]!r}"
