"""unknown (待核实) is the default of compound.management_mode, owners_org and renovation; community.location

RULES §1: a field a source does not fill is `unknown`, not `none`. The columns get the database default
'unknown' (a row written without them — by an INSERT of another tool — is unknown); every stored value is
kept as it is (an explicit 'none' stays 'none': the database cannot tell a default from a statement).
A community may be given as a point (经度/纬度): `community.location`, a nullable POINT with its index.

SQLite cannot ALTER a column's default: the table's stored definition is edited in place, the documented
way for default changes (sqlite.org/lang_altertable.html, "writable_schema"), which rewrites no row.

Revision ID: 0006
Revises: 0005
"""
import re

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = ('management_mode', 'owners_org', 'renovation')


def _sqlite_defaults(default: str | None) -> None:
    """Set (or drop, with None) the DEFAULT of COLUMNS in compound's stored CREATE TABLE text."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'compound'").scalar()
    new = sql
    for col in COLUMNS:
        pattern = re.compile(rf"(\b{col} VARCHAR\(32\))(?: DEFAULT '[a-z_]*')?( NOT NULL)")
        if not pattern.search(new):
            raise RuntimeError(f"compound.{col}: unexpected column definition in {sql!r}")
        new = pattern.sub(rf"\1 DEFAULT '{default}'\2" if default else r"\1\2", new)
    if new == sql:
        return
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'compound'", (new,))
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    if check != "ok":
        raise RuntimeError(f"compound defaults: integrity check failed: {check}")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_defaults('unknown')
    else:
        for col in COLUMNS:
            op.alter_column('compound', col, server_default='unknown', existing_type=sa.String(length=32),
                            existing_nullable=False)
    op.add_geospatial_column('community', sa.Column('location', Geometry(
        geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT',
        name='geometry'), nullable=True))
    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_community_location', ['location'], unique=False,
                                         postgresql_using='gist', postgresql_ops={})


def downgrade() -> None:
    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_community_location', postgresql_using='gist', column_name='location')
    if op.get_bind().dialect.name == 'sqlite':  # SpatiaLite's triggers on the column go first
        op.execute("SELECT DiscardGeometryColumn('community', 'location')")
        op.drop_column('community', 'location')
        _sqlite_defaults(None)
    else:
        op.drop_geospatial_column('community', 'location')
        for col in COLUMNS:
            op.alter_column('compound', col, server_default=None, existing_type=sa.String(length=32),
                            existing_nullable=False)
