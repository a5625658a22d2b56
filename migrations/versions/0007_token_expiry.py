"""API tokens expire: api_token.expires_at (existing tokens get created_at + 180 days)

Revision ID: 0007
Revises: 0005
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

DEFAULT_LIFETIME = dt.timedelta(days=180)  # [D] geoplatform.auth.AuthSettings.token_lifetime_days


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    token = sa.table('api_token', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                     sa.column('expires_at', sa.DateTime))
    conn = op.get_bind()
    for token_id, created in conn.execute(sa.select(token.c.id, token.c.created_at)).all():
        conn.execute(token.update().where(token.c.id == token_id).values(expires_at=created + DEFAULT_LIFETIME))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
