"""Initial schema: accounts, filed records, change orders with their timeline, outbox, caches.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 06:45:27.908751
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("enterprise_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role in ('applicant', 'reviewer', 'admin')", name=op.f("ck_accounts_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_table(
        "domain_facts_cache",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_domain_facts_cache")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("recipient_masked", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('pending', 'sending', 'sent', 'failed')", name=op.f("ck_outbox_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_change_id"), ["change_id"], unique=False)
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "auth_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("public_ip", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_auth_codes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_auth_codes_code")),
    )
    with op.batch_alter_table("auth_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_codes_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_auth_codes_instance_id"), ["instance_id"], unique=False
        )

    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("id_type", sa.String(length=32), nullable=False),
        sa.Column("id_number_enc", sa.Text(), nullable=False),
        sa.Column("filing_number", sa.String(length=64), nullable=False),
        sa.Column("legal_rep", sa.String(length=100), nullable=False),
        sa.Column("principal_enc", sa.Text(), nullable=False),
        sa.Column("principal_mobile_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('personal', 'enterprise')", name=op.f("ck_subjects_kind")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_subjects_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("filing_number", name=op.f("uq_subjects_filing_number")),
    )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subjects_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subjects_principal_mobile_hash"), ["principal_mobile_hash"], unique=False
        )

    op.create_table(
        "websites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("filing_number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("home_url", sa.String(length=2048), nullable=False),
        sa.Column("info_enc", sa.Text(), nullable=False),
        sa.Column("principal_mobile_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status in ('open', 'closed')", name=op.f("ck_websites_status")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_websites_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websites")),
        sa.UniqueConstraint("filing_number", name=op.f("uq_websites_filing_number")),
    )
    with op.batch_alter_table("websites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_websites_principal_mobile_hash"), ["principal_mobile_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_websites_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "change_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("website_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("open_website_id", sa.Integer(), nullable=True),
        sa.Column("current_enc", sa.Text(), nullable=False),
        sa.Column("proposed_enc", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_version", sa.String(length=32), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_call_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_passed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("authority_ref", sa.String(length=64), nullable=True),
        sa.Column("authority_reason", sa.String(length=64), nullable=True),
        sa.Column("sms_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state in ('draft', 'provider_review', 'provider_rejected', 'authority_sms', 'authority_returned', 'authority_review', 'authority_rejected', 'approved', 'withdrawn')",
            name=op.f("ck_change_orders_state"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_change_orders_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_change_orders_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["website_id"], ["websites.id"], name=op.f("fk_change_orders_website_id_websites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_orders")),
        sa.UniqueConstraint("open_website_id", name=op.f("uq_change_orders_open_website_id")),
    )
    with op.batch_alter_table("change_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_orders_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_change_orders_authority_ref"), ["authority_ref"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_change_orders_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_orders_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_change_orders_website_id"), ["website_id"], unique=False
        )

    op.create_table(
        "website_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("website_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("info_enc", sa.Text(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"], ["websites.id"], name=op.f("fk_website_history_website_id_websites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_website_history")),
        sa.UniqueConstraint("website_id", "version", name="uq_website_history_version"),
    )
    with op.batch_alter_table("website_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_website_history_website_id"), ["website_id"], unique=False
        )

    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.CheckConstraint("outcome in ('reached', 'unreachable')", name=op.f("ck_calls_outcome")),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change_orders.id"], name=op.f("fk_calls_change_id_change_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_change_id"), ["change_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change_orders.id"], name=op.f("fk_events_change_id_change_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_change_id"), ["change_id"], unique=False)

    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change_orders.id"], name=op.f("fk_materials_change_id_change_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
    )
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_materials_change_id"), ["change_id"], unique=False)

    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("media", sa.String(length=16), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_orders.id"],
            name=op.f("fk_verifications_change_id_change_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verifications_change_id"), ["change_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verifications_change_id"))

    op.drop_table("verifications")
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_materials_change_id"))

    op.drop_table("materials")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_change_id"))

    op.drop_table("events")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_change_id"))

    op.drop_table("calls")
    with op.batch_alter_table("website_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_website_history_website_id"))

    op.drop_table("website_history")
    with op.batch_alter_table("change_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_orders_website_id"))
        batch_op.drop_index(batch_op.f("ix_change_orders_state"))
        batch_op.drop_index(batch_op.f("ix_change_orders_due_at"))
        batch_op.drop_index(batch_op.f("ix_change_orders_authority_ref"))
        batch_op.drop_index(batch_op.f("ix_change_orders_account_id"))

    op.drop_table("change_orders")
    with op.batch_alter_table("websites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_websites_subject_id"))
        batch_op.drop_index(batch_op.f("ix_websites_principal_mobile_hash"))

    op.drop_table("websites")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subjects_principal_mobile_hash"))
        batch_op.drop_index(batch_op.f("ix_subjects_account_id"))

    op.drop_table("subjects")
    with op.batch_alter_table("auth_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_codes_instance_id"))
        batch_op.drop_index(batch_op.f("ix_auth_codes_account_id"))

    op.drop_table("auth_codes")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_change_id"))

    op.drop_table("outbox")
    op.drop_table("domain_facts_cache")
    op.drop_table("accounts")
