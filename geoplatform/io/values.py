"""Import step: parse every mapped attribute column into typed row values, naming each bad cell.

A column that is already clean numbers or text is checked as one array; any other goes cell by
cell through `geoplatform.io.fields.parse_value`, so every problem gets its row and column.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from geoplatform.io.fields import Field, ValueProblem, parse_value
from geoplatform.io.job import ImportJob


def is_blank(v: Any) -> bool:
    """An empty cell: None, NaT, NaN or only white space."""
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v).to_pydatetime()
    return v


def parse_columns(job: ImportJob) -> None:
    """Parse every mapped column into the job's columns (vectorised when a column is already clean numbers or text)."""
    t = job.t
    fields = {f.name: f for f in job.fields()}
    used = [(c, fields[f]) for c, f in job.mapping.items() if f not in ("lon", "lat", "wkt")]
    columns: dict[str, list[Any]] = {}
    for k, (c, f) in enumerate(used):
        series = t.frame[c]
        raw = series.tolist()
        columns[f.name] = _column_fast(job, f, raw, series)
        if columns[f.name] is None:
            columns[f.name] = _column_slow(job, c, f, raw)
        job.tick("checking", int(job.n * (k + 1) / max(len(used), 1)))
    for name, values in columns.items():  # held by column: a row is a dict only if a later step asks for rows
        job.set_column(name, values)
    job.tick("checking", job.n)


def _column_fast(job: ImportJob, f: Field, raw: list[Any], series: pd.Series | None = None) -> list[Any] | None:
    """A clean numeric/text column parsed with array operations; None when the slow path is needed."""
    if f.type in ("int", "float"):
        hi = job.today.year if f.name == "build_year" else f.hi  # as parse_value: no future build years
        if series is not None and pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            arr = series.to_numpy(dtype=float, na_value=np.nan)  # a typed column (GeoPackage, shapefile)
        else:
            ok = all(v is None or (isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool))
                     for v in raw)
            if not ok:
                return None
            arr = np.array([np.nan if v is None else float(v) for v in raw], dtype=float)
        empty = np.isnan(arr)
        bad = ~empty & (~np.isfinite(arr) | ((arr < f.lo) if f.lo is not None else False)
                        | ((arr > hi) if hi is not None else False)
                        | ((arr != np.round(arr)) if f.type == "int" else False))
        if f.required and empty.any() or bad.any():
            return None
        vals = (np.where(empty, 0, arr).astype(np.int64) if f.type == "int" else arr).tolist()
        for i in np.flatnonzero(empty):
            vals[i] = None
        return vals
    if f.type in ("text", "ref") and series is not None and len(series) \
            and pd.api.types.infer_dtype(series, skipna=True) == "string":
        # a column of strings (and blanks): the same checks as below, over plain Python strings (pandas'
        # .str methods call a Python function per cell and per method: several times slower)
        missing = series.isna().to_numpy()
        if f.required and missing.any():
            return None
        if missing.any():
            out_fast = [None if gone else v.strip() for v, gone in zip(raw, missing.tolist(), strict=True)]
            present = [v for v in out_fast if v is not None]
        else:  # no blank cell: stripped in C
            out_fast = present = list(map(str.strip, raw))
        if not all(present) or (f.max_len and max(map(len, present), default=0) > f.max_len):
            return None
        # a leading apostrophe (a spreadsheet's text marker) is the slow path's to report: looked for in one
        # scan of the joined cells, each cell then only if one is found
        if "\x00'" in "\x00" + "\x00".join(present) and any(v[0] == "'" for v in present if len(v) > 1):
            return None
        return out_fast
    if f.type in ("text", "ref"):
        out: list[Any] = []
        for v in raw:
            if v is None:
                if f.required:
                    return None
                out.append(None)
                continue
            if not isinstance(v, str):
                return None
            sv = v.strip()
            if not sv or (f.max_len and len(sv) > f.max_len) or (len(sv) > 1 and sv[0] == "'"):
                return None
            out.append(sv)
        return out
    return None


def _column_slow(job: ImportJob, c: str, f: Field, raw: list[Any]) -> list[Any]:
    """Cell by cell, recording every problem with its row and column."""
    t, r = job.t, job.r
    out: list[Any] = []
    for i, v in enumerate(raw):
        v = _plain(v)
        if is_blank(v):
            if f.required:
                r.error(t.where(i, c), "import.value.required_empty", field=f.name)
                job.ok_rows[i] = False
            out.append(None)
            continue
        try:
            out.append(parse_value(f, v, job.today))
        except ValueProblem as exc:
            r.error(t.where(i, c), exc.message)
            job.ok_rows[i] = False
            out.append(None)
    return out
