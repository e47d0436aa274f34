"""administrative penalty procedure: penalty cases and their dated events

Issue 18: a penalty is decided through the procedure of the Administrative Penalty Law:
advance notice, the enterprise's statement and defence or hearing request within the legal
period, the decision (never heavier than the notice), service, payment
(compliance/enforcement/penalty_procedure.py). `penalty_case` holds one procedure per violation with the
dates and deadlines of each step; `penalty_case_event` one row per step. The decision is
written to `penalty_decision` (and so published) when it is served. New tables only.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'penalty_case',
        sa.Column('id', BigInt, autoincrement=True, nullable=False),
        sa.Column('violation', BigInt, nullable=False),
        sa.Column('enterprise', sa.String(length=18), nullable=False),
        sa.Column('permit', sa.String(length=22), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('periods_version', sa.String(length=20), nullable=False),
        sa.Column('notice_number', sa.String(length=60), nullable=False),
        sa.Column('noticed_on', sa.Date(), nullable=False),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('legal_basis', sa.String(length=200), nullable=False),
        sa.Column('proposed_fen', sa.BigInteger(), nullable=False),
        sa.Column('hearing_right', sa.Boolean(), nullable=False),
        sa.Column('statement_due', sa.Date(), nullable=False),
        sa.Column('hearing_due', sa.Date(), nullable=True),
        sa.Column('statement', sa.Text(), nullable=True),
        sa.Column('statement_on', sa.Date(), nullable=True),
        sa.Column('hearing_requested_on', sa.Date(), nullable=True),
        sa.Column('hearing_on', sa.Date(), nullable=True),
        sa.Column('hearing_record', sa.Text(), nullable=True),
        sa.Column('decision_number', sa.String(length=60), nullable=True),
        sa.Column('amount_fen', sa.BigInteger(), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decision_basis', sa.String(length=200), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('service_due', sa.Date(), nullable=True),
        sa.Column('served_on', sa.Date(), nullable=True),
        sa.Column('service_method', sa.String(length=20), nullable=True),
        sa.Column('payment_due', sa.Date(), nullable=True),
        sa.Column('paid_on', sa.Date(), nullable=True),
        sa.Column('paid_fen', sa.BigInteger(), nullable=True),
        sa.Column('opened_by', sa.String(length=64), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['violation'], ['violation.id'],
                                name=op.f('fk_penalty_case_violation_violation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_case')),
        sa.UniqueConstraint('notice_number', name=op.f('uq_penalty_case_notice_number')),
        sa.UniqueConstraint('decision_number', name=op.f('uq_penalty_case_decision_number')),
    )
    with op.batch_alter_table('penalty_case') as t:
        t.create_index(t.f('ix_penalty_case_enterprise'), ['enterprise'], unique=False)
        t.create_index(t.f('ix_penalty_case_violation'), ['violation'], unique=False)
    op.create_table(
        'penalty_case_event',
        sa.Column('id', BigInt, autoincrement=True, nullable=False),
        sa.Column('case_id', BigInt, nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('on_day', sa.Date(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['penalty_case.id'],
                                name=op.f('fk_penalty_case_event_case_id_penalty_case')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_case_event')),
    )
    with op.batch_alter_table('penalty_case_event') as t:
        t.create_index(t.f('ix_penalty_case_event_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('penalty_case_event') as t:
        t.drop_index(t.f('ix_penalty_case_event_case_id'))
    op.drop_table('penalty_case_event')
    with op.batch_alter_table('penalty_case') as t:
        t.drop_index(t.f('ix_penalty_case_violation'))
        t.drop_index(t.f('ix_penalty_case_enterprise'))
    op.drop_table('penalty_case')
