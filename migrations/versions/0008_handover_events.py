"""handover acceptances (RULES §2): every acceptance inspection of a handover row is an event

Revision ID: 0008
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handover_acceptance',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('organised_by', sa.String(length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('participants', sa.Text(), nullable=True),
    sa.Column('result', sa.String(length=8), nullable=True),
    sa.Column('defect_item_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('opened_by', sa.String(length=100), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handover.id'], name=op.f('fk_handover_acceptance_handover_id_handover'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_acceptance'))
    )
    with op.batch_alter_table('handover_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_acceptance_handover_id'), ['handover_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handover_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_acceptance_handover_id'))
    op.drop_table('handover_acceptance')
