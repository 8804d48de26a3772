"""Reminders sent once each (issue 14): domain / server expiry at 30, 7 and 1 days, stale orders;
reviewer claims; stored compliance sweeps; an index for the SLA report's reading of the timeline by kind and time.

Revision ID: 0002l
Revises: 0001
Create Date: 2026-12-01 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002l"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders_sent")),
        sa.UniqueConstraint("kind", "target", "due_on", "threshold", name="uq_reminders_sent_once"),
    )
    op.create_table(
        "expiry_watch",
        sa.Column("website_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("what", sa.String(length=253), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"], ["websites.id"], name=op.f("fk_expiry_watch_website_id_websites")
        ),
        sa.PrimaryKeyConstraint("website_id", "kind", "what", name=op.f("pk_expiry_watch")),
    )
    with op.batch_alter_table("expiry_watch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_expiry_watch_expires_on"), ["expires_on"], unique=False
        )
    op.create_table(
        "claims",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_claims_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change_orders.id"], name=op.f("fk_claims_change_id_change_orders")
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_claims")),
    )
    op.create_table(
        "sweep_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_runs")),
    )
    with op.batch_alter_table("sweep_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sweep_runs_started_at"), ["started_at"], unique=False)
    op.create_table(
        "sweep_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("website_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sweep_runs.id"], name=op.f("fk_sweep_results_run_id_sweep_runs")
        ),
        sa.ForeignKeyConstraint(
            ["website_id"], ["websites.id"], name=op.f("fk_sweep_results_website_id_websites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_results")),
    )
    with op.batch_alter_table("sweep_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sweep_results_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            "ix_sweep_results_website_checked", ["website_id", "checked_at"], unique=False
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_kind_at", ["kind", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind_at")
    op.drop_table("sweep_results")
    op.drop_table("sweep_runs")
    op.drop_table("claims")
    op.drop_table("expiry_watch")
    op.drop_table("reminders_sent")
