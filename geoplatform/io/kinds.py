"""Import kinds that plugins add (`register_import_kinds`): tabular records read from CSV/XLSX/JSON.

The core kinds (district … barriers) are in `geoplatform.io.fields.SPECS`. A plugin's kind names its
table, its typed columns (`Field`, with English names and Chinese headers as aliases), the key that
identifies a row (for duplicate checks and `--upsert`), and two optional callables:

- `check(session, rows, context) -> list[RowProblem]` — the plugin's rules over the parsed rows and
  what is stored (e.g. RULES §6 A1: a member recorded as elected without the police check). Any
  problem refuses the whole file, naming the row and the field; nothing is written.
- `after_write(session, keys, context) -> None` — keep derived data in step inside the same
  transaction (e.g. an organisation's state, or `compound.owners_org` for old readers).

`rows` are dicts of typed values keyed by field name (absent cells are missing keys, so a column a
file lacks is never written as empty); each carries `_row`, its 1-based data-row number in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geoplatform.i18n import Message
from geoplatform.io.fields import Field


@dataclass(frozen=True)
class RowProblem:
    """A plugin rule broken by one row: the row's index in `rows`, the field (or None) and why."""

    index: int
    field: str | None
    message: Message


@dataclass(frozen=True)
class ImportKind:
    """A tabular import kind added by a plugin (see the module docstring)."""

    name: str  # the KIND of `geoplatform import KIND FILE`, e.g. "owners_orgs"
    table: str  # the table rows go to (a table of geoplatform.models' metadata)
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ("id",)  # identity of a row; generated ids are not offered for records
    title_zh: str = ""
    title_en: str = ""
    check: Callable[[Any, list[dict[str, Any]], Any], list[RowProblem]] | None = None
    after_write: Callable[[Any, list[tuple[Any, ...]], Any], None] | None = None
    plugin: str = ""
