"""Schema management through Alembic: create/upgrade (`geoplatform init`), downgrade, status."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Engine

import migrations


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Ignore tables we do not model (SpatiaLite/PostGIS system tables) and GeoAlchemy2's own objects."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def schema_diff(engine: Engine) -> list:
    """Differences between the models and the database schema (empty when they match)."""
    from alembic.autogenerate import compare_metadata

    from geoplatform.models import metadata

    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        return compare_metadata(mc, metadata)


def alembic_config(connection=None) -> AlembicConfig:  # noqa: ANN001
    """An Alembic config pointing at the packaged migrations folder."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Create or upgrade the schema to `revision` in one transaction; idempotent."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the schema to `revision` in one transaction."""
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def current_heads(engine: Engine) -> set[str]:
    """The revisions the database is at (empty when never initialised)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


@functools.cache
def script_heads() -> frozenset[str]:
    """The heads of the packaged migration scripts (read once per process: Alembic executes every script file)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_up_to_date(engine: Engine) -> bool:
    """True when the database is at every head of the migration scripts."""
    return current_heads(engine) == script_heads()
