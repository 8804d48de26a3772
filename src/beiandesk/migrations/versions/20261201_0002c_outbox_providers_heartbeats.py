"""Outbox for real providers (issue 10/12): the provider's answer on each row, the states
仅保存 (kept) and 待确认 (uncertain), and worker heartbeats so dead claims are taken over.

Revision ID: 0002c
Revises: 0001
Create Date: 2026-12-01 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002c"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD = "status in ('pending', 'sending', 'sent', 'failed')"
NEW = "status in ('pending', 'sending', 'sent', 'failed', 'kept', 'uncertain')"


def _swap_check(batch_op, sql: str) -> None:
    batch_op.drop_constraint(op.f("ck_outbox_status"), type_="check")
    batch_op.create_check_constraint(op.f("ck_outbox_status"), sql)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "outbox", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.add_column(sa.Column("provider_answer", sa.JSON(), nullable=True))
        _swap_check(batch_op, NEW)

    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    op.execute("UPDATE outbox SET status = 'sent' WHERE status = 'kept'")
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'uncertain'")
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "outbox", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        _swap_check(batch_op, OLD)
        batch_op.drop_column("provider_answer")
