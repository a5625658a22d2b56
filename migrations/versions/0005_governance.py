"""governance clocks (RULES §8): problem ledger, dissuasion reports, mediations, pilots, meetings, cases

The `community_officer` account's community (user_account.community_code) comes with 0003.

Revision ID: 0005
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('problem',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('compound_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('rectify_by', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_problem_compound_id_compound')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem'))
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_compound_id'), ['compound_id'], unique=False)

    op.create_table('dissuasion',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('problem_id', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(), nullable=False),
    sa.Column('reported_street_at', sa.DateTime(), nullable=True),
    sa.Column('reported_authority_at', sa.DateTime(), nullable=True),
    sa.Column('reported_owners_org_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_dissuasion_problem_id_problem'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dissuasion')),
    sa.UniqueConstraint('problem_id', 'failed_at', name=op.f('uq_dissuasion_problem_id_failed_at'))
    )
    with op.batch_alter_table('dissuasion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dissuasion_problem_id'), ['problem_id'], unique=False)

    op.create_table('mediation',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('compound_id', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('escalated_from', sa.String(length=64), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_mediation_compound_id_compound')),
    sa.ForeignKeyConstraint(['escalated_from'], ['mediation.id'], name=op.f('fk_mediation_escalated_from_mediation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation'))
    )
    with op.batch_alter_table('mediation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediation_escalated_from'), ['escalated_from'], unique=False)

    op.create_table('pilot',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_pilot_community_code_community')),
    sa.ForeignKeyConstraint(['street_code'], ['street.code'], name=op.f('fk_pilot_street_code_street')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot')),
    sa.UniqueConstraint('year', 'community_code', name=op.f('uq_pilot_year_community_code')),
    sa.UniqueConstraint('year', 'street_code', name=op.f('uq_pilot_year_street_code'))
    )
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_community_code'), ['community_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_pilot_street_code'), ['street_code'], unique=False)

    op.create_table('pilot_meeting',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'],
                            name=op.f('fk_pilot_meeting_community_code_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot_meeting')),
    sa.UniqueConstraint('community_code', 'held_on', 'kind', name=op.f('uq_pilot_meeting_community_code_held_on_kind'))
    )
    with op.batch_alter_table('pilot_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_meeting_community_code'), ['community_code'], unique=False)

    op.create_table('pilot_case',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_pilot_case_community_code_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot_case')),
    sa.UniqueConstraint('community_code', 'year', 'title', name=op.f('uq_pilot_case_community_code_year_title'))
    )
    with op.batch_alter_table('pilot_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_case_community_code'), ['community_code'], unique=False)


def downgrade() -> None:
    for table, indexes in (('pilot_case', ('community_code',)), ('pilot_meeting', ('community_code',)),
                           ('pilot', ('street_code', 'community_code')), ('mediation', ('escalated_from', 'compound_id')),
                           ('dissuasion', ('problem_id',)), ('problem', ('compound_id',))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
