"""The database schema (SQLAlchemy Core). Migrations in ``beiandesk/migrations`` create it.

Personal data columns end in ``_enc`` (ciphertext: adapters/crypto.py) or ``_hash`` (blind index); a change
order's ``current``/``proposed`` snapshots are stored encrypted whole, since they hold both.
``open_website_id`` is set while an order is open and NULL otherwise: its UNIQUE constraint
enforces "one open order per website" in the database itself, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from beiandesk.domain.states import ChangeState


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_STATES = ", ".join(f"'{s.value}'" for s in ChangeState)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("display_name", String(200), nullable=False, default=""),
    Column("email", String(254), nullable=False, default=""),
    Column("enterprise_verified", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    # issue 9 (migration 0002a): refused at once when set; a one-time password must be changed.
    Column("disabled", Boolean, nullable=False, default=False, server_default="0"),
    Column("password_change_required", Boolean, nullable=False, default=False, server_default="0"),
    CheckConstraint("role in ('applicant', 'reviewer', 'admin')", name="role"),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", Integer, primary_key=True),
    # NULL: an imported subject not linked to an applicant account yet (accounts link).
    Column("account_id", ForeignKey("accounts.id"), nullable=True, index=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("province", String(16), nullable=False),
    Column("id_type", String(32), nullable=False),
    Column("id_number_enc", Text, nullable=False),
    Column("filing_number", String(64), nullable=False, unique=True),
    Column("legal_rep", String(100), nullable=False, default=""),
    Column("principal_enc", Text, nullable=False),
    Column("principal_mobile_hash", String(64), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("kind in ('personal', 'enterprise')", name="kind"),
)

websites = Table(
    "websites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_id", ForeignKey("subjects.id"), nullable=False, index=True),
    Column("filing_number", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("domains", JSON, nullable=False),
    Column("home_url", String(2048), nullable=False, default=""),
    Column("info_enc", Text, nullable=False),
    Column("principal_mobile_hash", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("status in ('open', 'closed')", name="status"),
)

website_history = Table(
    "website_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("website_id", ForeignKey("websites.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("info_enc", Text, nullable=False),
    Column("change_id", Integer, nullable=True),
    Column("archived_at", UTCDateTime, nullable=False),
    UniqueConstraint("website_id", "version", name="uq_website_history_version"),
)

#: Every filed domain (A-label) → its website: "a domain is filed under one website only".
website_domains = Table(
    "website_domains",
    metadata,
    Column("domain", String(253), primary_key=True),
    Column("website_id", ForeignKey("websites.id"), nullable=False, index=True),
)

change_orders = Table(
    "change_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("website_id", ForeignKey("websites.id"), nullable=False, index=True),
    Column("subject_id", ForeignKey("subjects.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("state", String(32), nullable=False, index=True),
    Column("open_website_id", Integer, nullable=True, unique=True),
    Column("current_enc", Text, nullable=False),
    Column("proposed_enc", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("submitted_at", UTCDateTime),
    Column("consent_at", UTCDateTime),
    Column("consent_version", String(32)),
    Column("due_at", UTCDateTime, index=True),
    Column("next_call_at", UTCDateTime),
    Column("review_passed_at", UTCDateTime),
    Column("reasons", JSON, nullable=False, default=list),
    Column("authority_ref", String(64), index=True),
    Column("authority_reason", String(64)),
    Column("sms_deadline", UTCDateTime),
    # Submission round (migration 0002f): each (re)submission starts a fresh round of calls.
    Column("round", Integer, nullable=False, default=0, server_default="0"),
    CheckConstraint(f"state in ({_STATES})", name="state"),
)

calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("change_id", ForeignKey("change_orders.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("reviewer", String(64), nullable=False),
    # The order's round the call was made in (migration 0002f); only the current round counts.
    Column("round", Integer, nullable=False, default=0, server_default="0"),
    CheckConstraint("outcome in ('reached', 'unreachable')", name="outcome"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("change_id", ForeignKey("change_orders.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("from_state", String(32)),
    Column("state", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    #: The SLA report reads submissions and decisions by kind over a period.
    Index("ix_events_kind_at", "kind", "at"),
)

materials = Table(
    "materials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("change_id", ForeignKey("change_orders.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("filename", String(255), nullable=False, default=""),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("change_id", ForeignKey("change_orders.id"), nullable=False, index=True),
    Column("media", String(16), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("problems", JSON, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("change_id", Integer, nullable=True, index=True),
    Column("recipient_masked", String(254), nullable=False, default=""),
    Column("subject", String(255), nullable=False, default=""),
    Column("payload_enc", Text, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("claimed_by", String(64)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    #: The provider's answer to the last attempt (request id, serial number / BizId, code, message).
    Column("provider_answer", JSON),
    CheckConstraint(
        "status in ('pending', 'sending', 'sent', 'failed', 'kept', 'uncertain')", name="status"
    ),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

#: Each worker process's heartbeat: a claim whose claimant stopped beating is taken over.
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("host", String(64), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
)

domain_facts_cache = Table(
    "domain_facts_cache",
    metadata,
    Column("domain", String(253), primary_key=True),
    Column("facts", JSON, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)

auth_codes = Table(
    "auth_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("instance_id", String(64), nullable=False, index=True),
    Column("public_ip", String(64), nullable=False),
    Column("domain", String(253), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)


# issue 9 (migration 0002a): sessions, login throttling and the audit log.

#: One row per issued token / console session (the token carries ``jti``); checked on each
#: request, so a logout or a disabled account is refused at once on every node.
sessions = Table(
    "sessions",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

#: Failed logins per user name (also unknown ones), for the throttle; cleared on success.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_login_failures_username_at", "username", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(255), nullable=False, default=""),
    Column("detail", JSON),
)


# issue 14 (migration 0002l): reminders sent once each (expiry 30/7/1 days, stale orders).

#: One row per reminder sent: (kind, target, due_on, threshold) is unique, so two workers or a
#: re-run never send the same reminder twice; a renewed domain has a new ``due_on`` and so
#: starts afresh.
reminders_sent = Table(
    "reminders_sent",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("target", String(255), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "target", "due_on", "threshold", name="uq_reminders_sent_once"),
)


# issue 10 (migration 0002d): webhooks for integrators and their delivery log.

#: An integrator's subscription: change-order timeline events of ``events`` kinds (``*`` = all)
#: are POSTed to ``url``, signed with ``secret`` (stored encrypted like personal data).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret_enc", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False, default=""),
    Column("deleted_at", UTCDateTime),
)

#: One row per delivery attempt (the outbox row holds the delivery; this is its log).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", ForeignKey("webhooks.id"), nullable=False, index=True),
    Column("outbox_id", Integer, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("change_id", Integer),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False, default=0),
    Column("at", UTCDateTime, nullable=False),
)

#: What each open filed website depends on and when it lapses (domains, the server), refreshed by
#: the daily job so the admin page of upcoming expiries is one indexed query.
expiry_watch = Table(
    "expiry_watch",
    metadata,
    Column("website_id", ForeignKey("websites.id"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("what", String(253), primary_key=True),
    Column("expires_on", Date, nullable=False, index=True),
    Column("checked_at", UTCDateTime, nullable=False),
)

#: The reviewer working on an order (domain/claims.py): one row per order, stale after 30 min.
claims = Table(
    "claims",
    metadata,
    Column("change_id", ForeignKey("change_orders.id"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("username", String(64), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("active_at", UTCDateTime, nullable=False),
)

#: One compliance sweep (``beiandesk sweep`` or the scheduled one): when, how many, how many failed.
sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False, index=True),
    Column("finished_at", UTCDateTime),
    Column("checked", Integer, nullable=False, default=0),
    Column("failing", Integer, nullable=False, default=0),
    #: When the run last stored results (and its counts so far): a run that stopped reporting
    #: without finishing was killed (the admin console says so).
    Column("updated_at", UTCDateTime),
    #: Set when the run was stopped (Ctrl-C, an error) with what it had checked stored.
    Column("stopped_at", UTCDateTime),
)

#: Each website's result in each sweep: the history of its footer and reachability.
sweep_results = Table(
    "sweep_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("sweep_runs.id"), nullable=False),
    Column("website_id", ForeignKey("websites.id"), nullable=False),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("problems", JSON, nullable=False),
    Index("ix_sweep_results_website_checked", "website_id", "checked_at"),
    # One result per website per run (and the index a run's results are read by).
    UniqueConstraint("run_id", "website_id", name="uq_sweep_results_run_website"),
)
