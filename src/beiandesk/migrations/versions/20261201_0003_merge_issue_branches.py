"""Merge the schema branches of the accounts, import, outbox, webhooks, call-round and reminders work.

Each was written in parallel from 0001; this revision joins them so there is one head again.

Revision ID: 0003
Revises: 0002a, 0002b, 0002c, 0002d, 0002f, 0002l
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

revision = '0003'
down_revision = ('0002a', '0002b', '0002c', '0002d', '0002f', '0002l')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
