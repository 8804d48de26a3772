"""Sweeps report their progress and are one result per website per run.

A sweep stored its counts only when it finished, so one that was killed (or stopped with
Ctrl-C) left a run row the admin console never showed. ``sweep_runs`` gets ``updated_at`` (when
the run last stored results, with its counts so far) and ``stopped_at`` (stopped with what it
had checked stored). ``sweep_results`` gets a unique (run_id, website_id), which also serves
the reads by run that the plain run_id index served; duplicates (none are written by a sweep)
are removed first, the earliest kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sweep_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "DELETE FROM sweep_results WHERE id NOT IN "
        "(SELECT MIN(id) FROM sweep_results GROUP BY run_id, website_id)"
    )
    with op.batch_alter_table("sweep_results", schema=None) as batch_op:
        batch_op.drop_index("ix_sweep_results_run_id")
        batch_op.create_unique_constraint(
            "uq_sweep_results_run_website", ["run_id", "website_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("sweep_results", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sweep_results_run_website", type_="unique")
        batch_op.create_index("ix_sweep_results_run_id", ["run_id"], unique=False)
    with op.batch_alter_table("sweep_runs", schema=None) as batch_op:
        batch_op.drop_column("stopped_at")
        batch_op.drop_column("updated_at")
