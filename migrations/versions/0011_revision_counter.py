"""revision counters: each versioned table's row count and Σ version (and the done ledger items), kept by triggers

`Context.data_revision()` reads these instead of scanning every versioned table (geoplatform/revcounter.py).

Revision ID: 0011
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from geoplatform import revcounter

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None

# the fingerprinted tables of this revision (a later migration adding a versioned table installs its own)
VERSIONED = ('compound', 'building', 'garage', 'handover', 'bundle_proposal', 'takeover_selection',
             'property_company', 'service_contract', 'firm_assessment', 'firm_ranking', 'fee_disclosure',
             'problem', 'dissuasion', 'mediation', 'handover_acceptance', 'owners_org', 'org_member',
             'org_evaluation', 'training', 'org_custody')
TABLES = {**{t: 'version' for t in VERSIONED}, 'ledger_item': 'done'}


def upgrade() -> None:
    op.create_table('revision_counter',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tbl', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('vsum', sa.BigInteger(), nullable=False),
    sa.Column('done', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_counter'))
    )
    with op.batch_alter_table('revision_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_counter_tbl'), ['tbl'], unique=False)
    revcounter.install(op.get_bind(), TABLES)


def downgrade() -> None:
    revcounter.uninstall(op.get_bind(), TABLES)
    with op.batch_alter_table('revision_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_counter_tbl'))
    op.drop_table('revision_counter')
