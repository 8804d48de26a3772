"""Import of existing filed records (issue 9): subjects may have no account yet; a domain index.

Revision ID: 0002b
Revises: 0001
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002b"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=True)

    op.create_table(
        "website_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("website_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"], ["websites.id"], name=op.f("fk_website_domains_website_id_websites")
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_website_domains")),
    )
    with op.batch_alter_table("website_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_website_domains_website_id"), ["website_id"], unique=False
        )

    # Backfill from the plaintext domain lists (first website wins a domain already duplicated).
    from beiandesk.domain.domains import normalize_domain

    conn = op.get_bind()
    seen: set[str] = set()
    rows = []
    for website_id, domains in conn.execute(
        sa.text("SELECT id, domains FROM websites ORDER BY id")
    ):
        if isinstance(domains, str):
            domains = json.loads(domains)
        for d in domains or []:
            key = normalize_domain(str(d))
            if key and key not in seen:
                seen.add(key)
                rows.append({"domain": key, "website_id": website_id})
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO website_domains (domain, website_id) VALUES (:domain, :website_id)"
            ),
            rows,
        )


def downgrade() -> None:
    with op.batch_alter_table("website_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_website_domains_website_id"))
    op.drop_table("website_domains")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
