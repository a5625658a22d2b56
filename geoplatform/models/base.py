"""What every model module shares: the metadata, the declarative Base, `utcnow` and the cache fingerprint lists.

In a module of its own so that a concern module (`geoplatform/models/<concern>.py`) imports it rather
than the package: `geoplatform.models` imports each concern module at its bottom, and a concern module
importing the package back would be an import circle (tests/core/test_architecture.py).
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

SRID = 4326

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def geom_type(kind: str) -> Geometry:
    """A geometry column type in EPSG:4326 with a spatial index."""
    return Geometry(kind, srid=SRID, spatial_index=True)


def utcnow() -> dt.datetime:
    """Timezone-naive UTC now (stored naive on both databases)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base bound to the shared metadata."""

    metadata = metadata


# Tables whose writes change what plugins compute (Context.data_revision): versioned ones are fingerprinted
# by row count and Σ version (every ORM update bumps `version`), append-only ones by their max id.
VERSIONED: list[type[Base]] = []
APPEND_ONLY: list[type[Base]] = []
