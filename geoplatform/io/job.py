"""The state of one import, shared by its steps (geometry checks, values, references, writing).

`geoplatform.io.importer` creates one `ImportJob` per file and runs the steps over it in order;
each step reads what the earlier ones left (parsed values, WGS-84 geometries) and marks the rows it
refuses in `ok_rows`, with every problem in `report`. Nothing here touches the database.

The parsed values are held by column (`column`, `set_column`, `set_cells`: one list per field, no
Python object per row) until a step asks for `rows` — one dict per row, what a plugin kind's `check`
and the steps not written column-wise read and change. From then on the rows are the values
(`column` reads them and `set_column` writes into them): one representation at a time, never two
that could disagree.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import repeat
from operator import methodcaller, setitem
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from geoplatform.crs import SourceCRS
from geoplatform.i18n import Message
from geoplatform.io.fields import SPECS, Field, fields_for
from geoplatform.io.kinds import ImportKind
from geoplatform.io.limits import Limits
from geoplatform.io.readers import RawTable
from geoplatform.io.report import ImportReport
from geoplatform.store import model_for

PROGRESS_MIN = 2000  # [D] rows from which a progress bar is shown
# the key columns of each core table (a plugin kind names its own): duplicates and existing rows are found by them
KEYS = {"district": ("code",), "street": ("code",), "community": ("code",), "compound": ("id",), "building": ("id",),
        "garage": ("id",), "handover": ("compound_id", "facility"), "property_company": ("name",), "barrier": ("id",)}
Progress = Callable[[str, int, int], None]


class ImportJob:
    """One import of one file: the table read, the rows parsed so far and which of them are still good."""

    def __init__(self, context: Any, session: Session, kind: str, table: RawTable, report: ImportReport,
                 source: SourceCRS | None, repair: bool, upsert: bool, progress: Progress | None, limits: Limits,
                 spec: ImportKind | None = None, *, street_from_location: bool = False, surface: str = "cli") -> None:
        self.context, self.s, self.kind, self.t, self.r = context, session, kind, table, report
        self.source, self.repair, self.upsert, self.progress, self.limits = source, repair, upsert, progress, limits
        # compounds: a point lying in another street than the one given takes that street (else: a warning)
        self.street_from_location = street_from_location
        self.surface = surface  # "cli" | "web": how messages name an option (--upsert / the form's checkbox)
        self.matched: dict[int, Any] = {}  # row → identity.Match: an id-less row that is a stored compound
        self.spec = spec  # a plugin's import kind (tabular records), or None for the core kinds
        self.table_name = spec.table if spec else SPECS[kind][0]
        self.keys: tuple[str, ...] = spec.key if spec else KEYS[self.table_name]
        self.model = model_for(self.table_name)
        self.today: dt.date = getattr(context, "today", None) or dt.date.today()
        self.n = len(table.frame)
        self._columns: dict[str, list[Any]] | None = {}  # field → value per row (None: the rows hold them)
        self._rows: list[dict[str, Any]] | None = None
        self.ok_rows = np.ones(self.n, dtype=bool)
        self.geom: np.ndarray = np.full(self.n, None, dtype=object)  # main geometry, EPSG:4326
        self.location: np.ndarray = np.full(self.n, None, dtype=object)  # compounds: the point
        self.existing: set[tuple[Any, ...]] = set()  # keys of the file already stored (updated on --upsert)
        self.geom_label: str | Message = Message("import.field.geometry")
        self.mapping: dict[str, str] = {}  # file column → field
        self.col_of: dict[str, str] = {}  # field → file column
        self.geom_cols: list[str] = []  # the geometry columns a write sets
        self.new_firms: list[str] = []  # firms a `company` column names that the registry lacks (added on write)
        self.district: Any = None  # the district outline the geometry checks read (once per import)
        self.bulk = False  # PostGIS: the new rows were written with keys and indexes checked/built set-wise

    @property
    def columnar(self) -> bool:
        """The values are still held by column (no step asked for `rows`)."""
        return self._columns is not None

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per row (each field a step set: its value); built once from the columns, which it replaces."""
        if self._rows is None:
            cols = self._columns or {}
            names = list(cols)
            self._rows = list(map(dict, map(partial(zip, names), zip(*cols.values(), strict=True)))) \
                if names else [{} for _ in range(self.n)]
            self._columns = None
        return self._rows

    @rows.setter
    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._rows, self._columns = rows, None

    def fields_set(self) -> list[str]:
        """The fields some row has a value for (columns: every column; rows: every key of any row)."""
        if self._columns is not None:
            return list(self._columns)
        keys: dict[str, None] = {}
        for rec in self._rows or ():
            keys.update(dict.fromkeys(rec))
        return list(keys)

    def column(self, name: str) -> list[Any]:
        """Each row's value of a field (None where it has none); not to be changed in place (`set_column`)."""
        if self._columns is not None:
            got = self._columns.get(name)
            return got if got is not None else [None] * self.n
        return list(map(methodcaller("get", name), self._rows or ()))

    def set_column(self, name: str, values: Sequence[Any]) -> None:
        """Every row's value of a field."""
        if self._columns is not None:
            self._columns[name] = list(values)
        else:
            deque(map(setitem, self.rows, repeat(name), values), maxlen=0)

    def set_cells(self, name: str, rows: Iterable[int], values: Iterable[Any]) -> None:
        """Some rows' values of a field (the others keep theirs; None where the field is new)."""
        if self._columns is not None:
            col = self._columns.setdefault(name, [None] * self.n)
            for i, v in zip(rows, values, strict=True):
                col[i] = v
        else:
            recs = self.rows
            for i, v in zip(rows, values, strict=True):
                recs[i][name] = v

    def option(self, name: str) -> Message:
        """How the user asks for an option where they are (`--upsert` / tick “更新已有小区”)."""
        return Message(f"import.option.{name}.{self.surface}")

    def fields(self) -> list[Field]:
        """The fields this kind reads (a plugin kind's own, or the core kind's with its coordinate columns)."""
        return list(self.spec.fields) if self.spec else fields_for(self.kind)

    def tick(self, stage: str, done: int) -> None:
        """Report progress of a stage (only for files large enough to show a bar)."""
        if self.progress is not None and self.n >= PROGRESS_MIN:
            self.progress(stage, done, self.n)
