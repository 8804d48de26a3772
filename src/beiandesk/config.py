"""Typed settings, read once from the environment (prefix ``BEIANDESK_``) and ``.env``.

Nothing here has side effects at import; ``Settings()`` is built by the bootstrap or the CLI.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BEIANDESK_", env_file=".env", extra="ignore")

    #: Where local state lives when no explicit URL/dir is given (SQLite file, job store, files).
    var_dir: Path = Path("var")
    #: SQLAlchemy URL. Default: a SQLite file under ``var_dir``. PostgreSQL:
    #: ``postgresql+psycopg://user@host:5432/db``.
    database_url: str | None = None
    #: ``smtp://host:port``, ``smtp+starttls://host:587`` or ``smtps://host:465``, with
    #: ``user:password@`` for AUTH. Unset: e-mails stay in the outbox (仅保存), visible to admins.
    smtp_url: str | None = None
    smtp_from: str = "beiandesk <noreply@beiandesk.local>"
    #: PEM file of the CA that signed the SMTP server's certificate (default: the system store).
    smtp_ca_file: Path | None = None
    #: SMS delivery backend; ``outbox`` stores messages for admins to read.
    sms_backend: str = "outbox"
    #: JSON object: message kind → the provider's approved template id; ``*`` for every other kind.
    sms_templates: str | None = None
    #: The approved SMS signature (签名), e.g. ``beiandesk``.
    sms_sign_name: str | None = None
    tencent_secret_id: str | None = None
    tencent_secret_key: str | None = None
    tencent_sms_sdk_app_id: str | None = None
    tencent_sms_region: str = "ap-guangzhou"
    #: Default ``sms.tencentcloudapi.com``; ``http://host:port`` allowed (tests).
    tencent_sms_endpoint: str | None = None
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: str | None = None
    #: Default ``dysmsapi.aliyuncs.com``; ``http://host:port`` allowed (tests).
    aliyun_sms_endpoint: str | None = None
    #: Seconds an SMS/e-mail provider call may take before it counts as a (transient) time-out.
    notify_timeout_s: float = 15.0
    #: Base URL of the authority gateway (the sandbox in demo mode), e.g. ``http://127.0.0.1:8100``.
    gateway_url: str | None = None
    #: Shared secret for the gateway's signed callbacks (HMAC-SHA256). Default: derived from
    #: ``secret_key``.
    gateway_secret: str | None = None
    #: Public base URL of this server, used in callback URLs and e-mail links.
    public_url: str = "http://127.0.0.1:8000"
    #: Uploaded materials and verification photos, stored by content hash.
    storage_dir: Path | None = None
    #: ``file:///path`` (default: ``storage_dir``, i.e. ``var_dir/files``) or ``s3://BUCKET/PREFIX``
    #: for an S3-compatible object store; files are encrypted at rest under ``data_key``.
    storage_url: str | None = None
    #: S3 endpoint (e.g. ``https://cos.ap-guangzhou.myqcloud.com``), region and credentials; the
    #: standard ``AWS_*`` variables are used when these are unset.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    #: PostgreSQL connections each API process keeps for its point reads (the session check
    #: and a record by key, awaited on the event loop). More is slower, not faster: one process
    #: serves a few thousand reads a second, and each extra connection is one more PostgreSQL
    #: backend woken per read. Measured with wrk on 2 cores, PostgreSQL on the same machine:
    #: 6 kept connections served ``GET /api/v1/websites/{id}`` 4-15 % faster than 16, with a
    #: third less PostgreSQL CPU per read; 3-4 were slower again (requests queued for one).
    db_read_connections: int = Field(default=6, ge=1, le=64)
    #: Signs bearer tokens and session cookies. Default: a dev key generated under ``var_dir``.
    secret_key: str | None = None
    #: Encrypts ID numbers and mobiles at rest. Default: a dev key generated under ``var_dir``.
    data_key: str | None = None
    #: Let the server's own site probe fetch loopback/private/link-local addresses.
    probe_allow_private: bool = False
    #: Let webhooks be delivered to loopback/private/link-local addresses (tests, an intranet
    #: receiver). Off by default: an admin-typed URL must not reach into the server's network.
    webhook_allow_private: bool = False
    #: The provider's resource inventory (``GET {INVENTORY_URL}/instances/{id}`` and
    #: ``/instances?public_ip=``); the sandbox's in demo mode. Unset: the applicant's facts are used.
    inventory_url: str | None = None
    #: Bearer token sent to the inventory, when it wants one.
    inventory_token: str | None = None
    #: The sandbox's SMS-check window and the delay before it "sends" the codes, in seconds.
    sandbox_sms_window_s: float = 86400.0
    sandbox_sms_delay_s: float = 0.0
    #: The sandbox's own state (orders, codes, messages). Default: ``var_dir/sandbox.db``.
    sandbox_db: Path | None = None
    #: Largest material upload accepted, in bytes (10 MB).
    max_material_bytes: int = 10 * 1024 * 1024
    #: Largest verification photo/video accepted, in bytes.
    max_verification_bytes: int = 50 * 1024 * 1024
    #: Largest request body that is not a multipart upload (JSON, forms), in bytes (about 1 MB).
    max_json_bytes: int = 1024 * 1024
    #: A bearer token that may read ``/metrics`` (for a Prometheus scraper); admins' tokens may too.
    #: Unset: only admins can read the metrics.
    metrics_token: str | None = None
    #: Lifetime of a bearer token, in seconds.
    token_ttl_s: int = 12 * 3600
    #: The provider's name (接入服务单位) printed on the pre-filled 核验单 and in messages.
    provider_name: str = "beiandesk 接入服务单位"
    #: After a missed first-review call, the second call is due this many seconds later; a
    #: second 未接通 before then is refused (``call_too_early``). The provider's "about an hour".
    call_retry_s: int = 3600
    #: Version of the service terms and privacy statement an applicant consents to.
    terms_version: str = "2026-11"
    #: Demo mode: seed data, mount the sandbox, point the gateway, registry and probe at it.
    demo: bool = False
    #: Run the job consumer inside ``serve`` (threads). ``beiandesk worker`` runs it alone.
    worker_in_process: bool = True
    worker_threads: int = 2
    #: How often the worker polls the authority for orders it is waiting on, in seconds.
    poll_interval_s: float = 5.0
    #: Domain WHOIS/RDAP facts are cached this long, in seconds.
    domain_facts_ttl_s: int = 6 * 3600
    #: Override the RDAP base URL (the sandbox's registry in demo mode).
    rdap_url: str | None = None
    whois_host: str | None = None
    whois_port: int = 43
    log_level: str = Field(default="INFO")

    def resolved_var_dir(self) -> Path:
        return self.var_dir.resolve()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_var_dir() / 'beiandesk.db'}"

    def resolved_storage_dir(self) -> Path:
        return (self.storage_dir or self.var_dir / "files").resolve()

    def resolved_sandbox_db(self) -> Path:
        return (self.sandbox_db or self.var_dir / "sandbox.db").resolve()

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url().startswith("postgresql")
