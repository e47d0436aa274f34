"""penalty decisions and public disclosure

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('penalty_decision',
    sa.Column('id', BIGINT, autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('violation', BIGINT, nullable=False),
    sa.Column('enterprise', sa.String(length=18), nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['violation'], ['violation.id'], name=op.f('fk_penalty_decision_violation_violation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_decision')),
    sa.UniqueConstraint('number', name=op.f('uq_penalty_decision_number'))
    )
    with op.batch_alter_table('penalty_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalty_decision_enterprise'), ['enterprise'], unique=False)
        batch_op.create_index(batch_op.f('ix_penalty_decision_violation'), ['violation'], unique=False)
        batch_op.create_index('uq_penalty_decision_in_force', ['violation'], unique=True,
                              sqlite_where=sa.text("status = 'published'"),
                              postgresql_where=sa.text("status = 'published'"))

    op.create_table('penalty_decision_event',
    sa.Column('id', BIGINT, autoincrement=True, nullable=False),
    sa.Column('decision', BIGINT, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('legal_basis', sa.String(length=200), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decision'], ['penalty_decision.id'], name=op.f('fk_penalty_decision_event_decision_penalty_decision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_decision_event'))
    )
    with op.batch_alter_table('penalty_decision_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalty_decision_event_decision'), ['decision'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('penalty_decision_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_penalty_decision_event_decision'))

    op.drop_table('penalty_decision_event')
    with op.batch_alter_table('penalty_decision', schema=None) as batch_op:
        batch_op.drop_index('uq_penalty_decision_in_force')
        batch_op.drop_index(batch_op.f('ix_penalty_decision_violation'))
        batch_op.drop_index(batch_op.f('ix_penalty_decision_enterprise'))

    op.drop_table('penalty_decision')
