"""IN lists of any length.

PostgreSQL's protocol takes at most 65,535 bound parameters a statement, and SQLAlchemy binds one per value of
an `IN` list: at city scale (100× the district: 103,756 compounds, 1,070,218 buildings) a list of every compound
of a street set or every orphan building goes past it. Short lists stay bound parameters; a long one is written
into the statement's text by SQLAlchemy's literal renderer (each value through its column type's literal
processor, strings quoted and escaped), which has no such limit and needs no slicing of the caller's query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.sql.elements import ColumnElement

PARAMS_MAX = 30_000  # [D] values bound as parameters; above, rendered as literals (PostgreSQL's limit is 65,535 a statement)


def in_values(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for any number of values (an empty list is false, as SQLAlchemy makes it)."""
    values = list(values)
    if len(values) <= PARAMS_MAX:
        return column.in_(values)
    return column.in_(bindparam(None, values, type_=column.type, expanding=True, literal_execute=True))


def not_in_values(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column NOT IN (values)` for any number of values."""
    values = list(values)
    if len(values) <= PARAMS_MAX:
        return column.not_in(values)
    return column.not_in(bindparam(None, values, type_=column.type, expanding=True, literal_execute=True))
