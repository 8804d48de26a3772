"""Calls per submission round (issue 12): ``round`` on change orders and on each stored call.

A resubmission starts a fresh round; the repository loads only the current round's calls, so
an earlier round's 已接通 or 未接通 never counts again. Existing rows start at round 0, which
keeps every order's stored calls in its current round, as before.

Revision ID: 0002f
Revises: 0001
Create Date: 2026-12-01 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002f"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("round")
    with op.batch_alter_table("change_orders", schema=None) as batch_op:
        batch_op.drop_column("round")
