"""The owners' vote and the host firm recorded on accepting a bundle proposal (RULES §5, 民法典 §278)

bundle_proposal gets vote_area_total / _participating / _yes (m²), vote_owners_total / _participating /
_yes and host_firm, all nullable: proposals decided before keep them empty (no vote was recorded then).

Revision ID: 0010
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = (
    ('vote_area_total', sa.Float()), ('vote_area_participating', sa.Float()), ('vote_area_yes', sa.Float()),
    ('vote_owners_total', sa.Integer()), ('vote_owners_participating', sa.Integer()), ('vote_owners_yes', sa.Integer()),
    ('host_firm', sa.String(length=200)),
)


def upgrade() -> None:
    with op.batch_alter_table('bundle_proposal', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bundle_proposal', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
