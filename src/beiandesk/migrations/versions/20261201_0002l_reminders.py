"""Reminders sent once each (issue 14): domain / server expiry at 30, 7 and 1 days, stale orders.

Revision ID: 0002l
Revises: 0001
Create Date: 2026-12-01 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002l'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reminders_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
        sa.UniqueConstraint('kind', 'target', 'due_on', 'threshold', name='uq_reminders_sent_once'),
    )


def downgrade() -> None:
    op.drop_table('reminders_sent')
