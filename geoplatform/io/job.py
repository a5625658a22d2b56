"""The state of one import, shared by its steps (geometry checks, values, references, writing).

`geoplatform.io.importer` creates one `ImportJob` per file and runs the steps over it in order;
each step reads what the earlier ones left (parsed rows, WGS-84 geometries) and marks the rows it
refuses in `ok_rows`, with every problem in `report`. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
        self.rows: list[dict[str, Any]] = []
        self.ok_rows = np.ones(self.n, dtype=bool)
        self.geom: np.ndarray = np.full(self.n, None, dtype=object)  # main geometry, EPSG:4326
        self.location: np.ndarray = np.full(self.n, None, dtype=object)  # compounds: the point
        self.existing: set[tuple[Any, ...]] = set()  # keys of the file already stored (updated on --upsert)
        self.geom_label: str | Message = Message("import.field.geometry")
        self.mapping: dict[str, str] = {}  # file column → field
        self.col_of: dict[str, str] = {}  # field → file column
        self.geom_cols: list[str] = []  # the geometry columns a write sets
        self.new_firms: list[str] = []  # firms a `company` column names that the registry lacks (added on write)
        self.bulk = False  # PostGIS: the new rows were written with keys and indexes checked/built set-wise

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
