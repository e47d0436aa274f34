"""trading: order kinds, STP, post-only and priority; fees and venue on trades; reserve
auctions and bids; listings; negotiated transfers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('trading_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=6), nullable=False,
                                      server_default='limit'))
        batch_op.add_column(sa.Column('post_only', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('stp', sa.String(length=14), nullable=False,
                                      server_default='cancel_newest'))
        batch_op.add_column(sa.Column('priority', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=24), nullable=True))
    with op.batch_alter_table('trade', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_buyer', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('fee_seller', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('venue', sa.String(length=10), nullable=False,
                                      server_default='book'))
        batch_op.create_index('ix_trade_buyer_permit_market_at',
                              ['buyer_permit', 'market', 'at'], unique=False)

    op.create_table('auction',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('market', sa.String(length=40), nullable=False),
    sa.Column('offered', sa.BigInteger(), nullable=False),
    sa.Column('reserve_price', sa.BigInteger(), nullable=False),
    sa.Column('rule', sa.String(length=12), nullable=False),
    sa.Column('tie_seed', sa.BigInteger(), nullable=False),
    sa.Column('bidder_cap_pct', sa.String(length=12), nullable=True),
    sa.Column('deposit_pct', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=True),
    sa.Column('sold', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['market'], ['market.id'], name=op.f('fk_auction_market_market')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction'))
    )
    with op.batch_alter_table('auction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auction_market'), ['market'], unique=False)

    op.create_table('auction_bid',
    sa.Column('seq', BigInt, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('auction', sa.String(length=64), nullable=False),
    sa.Column('enterprise', sa.String(length=18), nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('deposit', sa.BigInteger(), nullable=False),
    sa.Column('won', sa.BigInteger(), nullable=False),
    sa.Column('pay_price', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auction'], ['auction.id'], name=op.f('fk_auction_bid_auction_auction')),
    sa.ForeignKeyConstraint(['enterprise'], ['enterprise.credit_code'], name=op.f('fk_auction_bid_enterprise_enterprise')),
    sa.ForeignKeyConstraint(['permit'], ['permit.code'], name=op.f('fk_auction_bid_permit_permit')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_auction_bid')),
    sa.UniqueConstraint('id', name=op.f('uq_auction_bid_id'))
    )
    with op.batch_alter_table('auction_bid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auction_bid_auction'), ['auction'], unique=False)
        batch_op.create_index(batch_op.f('ix_auction_bid_enterprise'), ['enterprise'], unique=False)

    op.create_table('listing',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('market', sa.String(length=40), nullable=False),
    sa.Column('seller', sa.String(length=18), nullable=False),
    sa.Column('seller_permit', sa.String(length=22), nullable=True),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('hold_id', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['market'], ['market.id'], name=op.f('fk_listing_market_market')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing'))
    )
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_market'), ['market'], unique=False)

    op.create_table('negotiated_transfer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('market', sa.String(length=40), nullable=False),
    sa.Column('seller', sa.String(length=18), nullable=False),
    sa.Column('seller_permit', sa.String(length=22), nullable=False),
    sa.Column('buyer', sa.String(length=18), nullable=False),
    sa.Column('buyer_permit', sa.String(length=22), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('trade_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['market'], ['market.id'], name=op.f('fk_negotiated_transfer_market_market')),
    sa.ForeignKeyConstraint(['seller'], ['enterprise.credit_code'], name=op.f('fk_negotiated_transfer_seller_enterprise')),
    sa.ForeignKeyConstraint(['seller_permit'], ['permit.code'], name=op.f('fk_negotiated_transfer_seller_permit_permit')),
    sa.ForeignKeyConstraint(['buyer'], ['enterprise.credit_code'], name=op.f('fk_negotiated_transfer_buyer_enterprise')),
    sa.ForeignKeyConstraint(['buyer_permit'], ['permit.code'], name=op.f('fk_negotiated_transfer_buyer_permit_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_negotiated_transfer'))
    )
    with op.batch_alter_table('negotiated_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_negotiated_transfer_market'), ['market'], unique=False)
        batch_op.create_index(batch_op.f('ix_negotiated_transfer_seller'), ['seller'], unique=False)
        batch_op.create_index(batch_op.f('ix_negotiated_transfer_buyer'), ['buyer'], unique=False)
        batch_op.create_index(batch_op.f('ix_negotiated_transfer_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('negotiated_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_negotiated_transfer_status'))
        batch_op.drop_index(batch_op.f('ix_negotiated_transfer_buyer'))
        batch_op.drop_index(batch_op.f('ix_negotiated_transfer_seller'))
        batch_op.drop_index(batch_op.f('ix_negotiated_transfer_market'))
    op.drop_table('negotiated_transfer')
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_market'))
    op.drop_table('listing')
    with op.batch_alter_table('auction_bid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auction_bid_enterprise'))
        batch_op.drop_index(batch_op.f('ix_auction_bid_auction'))
    op.drop_table('auction_bid')
    with op.batch_alter_table('auction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auction_market'))
    op.drop_table('auction')
    with op.batch_alter_table('trade', schema=None) as batch_op:
        batch_op.drop_index('ix_trade_buyer_permit_market_at')
        batch_op.drop_column('venue')
        batch_op.drop_column('fee_seller')
        batch_op.drop_column('fee_buyer')
    with op.batch_alter_table('trading_order', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('priority')
        batch_op.drop_column('stp')
        batch_op.drop_column('post_only')
        batch_op.drop_column('kind')
