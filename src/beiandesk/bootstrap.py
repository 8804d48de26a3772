"""The one place that chooses concrete adapters and wires them into ``Deps``.

Tests build ``Deps`` with fakes instead (tests/fakes.py). Nothing here runs at import.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from sqlalchemy import Engine

from beiandesk.adapters.clock import SystemClock
from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db.async_reads import PgAsyncReads
from beiandesk.adapters.db.engine import build_engine
from beiandesk.adapters.db.migrate import upgrade
from beiandesk.adapters.db.on_loop import LoopWrites, in_greenlet
from beiandesk.adapters.db.uow import (
    PgReaderPool,
    ReaderPool,
    SharedReads,
    SqlUnitOfWork,
    WriterPool,
    scoped_uow,
    write_attempt,
)
from beiandesk.adapters.notify import OutboxOnlyMailer, SmtpMailer, parse_smtp_url
from beiandesk.adapters.sms import build_sms, sms_config_problems
from beiandesk.adapters.security import Passwords, Tokens
from beiandesk.adapters.storage import build_file_store
from beiandesk.config import Settings
from beiandesk.domain import workdays
from beiandesk.services.deps import Deps

log = logging.getLogger("beiandesk")


def _dev_key(var_dir: Path, name: str) -> str:
    """A key generated once under var/ for development; production sets the variable."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    log.warning(
        "%s 未设置：已在 %s 生成开发用密钥（生产环境请设置 BEIANDESK_%s）",
        name.upper(),
        path,
        name.upper(),
    )
    return key


def complete_settings(settings: Settings, *, generate: bool | None = None) -> Settings:
    """In demo mode (or with ``generate=True``: the stand-alone sandbox), fill in dev keys
    generated once under ``var_dir`` so every component of this process sees the same ones.
    Outside demo mode nothing is generated: two nodes must never invent different keys
    (``build`` refuses to start without them, see beiandesk/startup.py)."""
    if not (settings.demo if generate is None else generate):
        return settings
    var_dir = settings.resolved_var_dir()
    updates = {}
    if not settings.secret_key:
        updates["secret_key"] = _dev_key(var_dir, "secret_key")
    if not settings.data_key:
        updates["data_key"] = _dev_key(var_dir, "data_key")
    return settings.model_copy(update=updates) if updates else settings


@dataclass
class App:
    settings: Settings
    engine: Engine
    deps: Deps
    jobs: Any = None


def _on_calendar_fallback(year: int) -> None:
    log.warning("chinesecalendar 没有 %s 年的节假日数据，该年按周一至周五计算工作日", year)


class ConfigError(ValueError):
    """The settings cannot start a server: ``problems`` are Chinese lines (the CLI exits 2)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def config_problems(settings: Settings) -> list[str]:
    """Everything wrong with the outside-party settings (SMS backend and templates, SMTP URL)."""
    out = sms_config_problems(settings)
    if settings.smtp_url:
        try:
            parse_smtp_url(settings.smtp_url)
        except ValueError as exc:
            out.append(str(exc))
    return out


def build(
    settings: Settings, *, migrate: bool = True, with_jobs: bool = False, **overrides: object
) -> App:
    settings = complete_settings(settings)
    from beiandesk import startup

    if startup.missing_keys(settings):  # serve/worker check everything earlier (exit 2)
        raise startup.StartupError([line for _, line in startup.missing_keys(settings)])
    problems = [] if "sms" in overrides and "mailer" in overrides else config_problems(settings)
    if problems:
        raise ConfigError(problems)
    workdays.on_fallback = _on_calendar_fallback
    engine = build_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    cipher = DataCipher(settings.data_key or "")

    # Units of work reuse connections kept open (uow.ReaderPool, uow.WriterPool: a request's
    # read and a save were each a pool check-out and check-in). On PostgreSQL only the reads
    # (uow.PgReaderPool: the check-out's pre-ping was a round trip per request); its writes keep
    # the engine's pool.
    sqlite = engine.dialect.name == "sqlite"
    readers = ReaderPool(engine) if sqlite else PgReaderPool(engine)
    writers = WriterPool(engine) if sqlite else None

    # PostgreSQL: a save runs on the loop with its statements awaited (adapters/db/on_loop.py);
    # its units of work use the async driver's engine there, the sync one everywhere else.
    loop_writes = None if sqlite else LoopWrites(engine)

    def make_uow(readonly: bool = False) -> SqlUnitOfWork:
        # ``deps`` is bound below; webhook rows queued in a transaction wake the worker after it.
        if loop_writes is not None and in_greenlet():
            on_loop, on_loop_readers, on_loop_writers = loop_writes.engine()
            return SqlUnitOfWork(
                on_loop,
                cipher,
                readonly=readonly,
                on_queued=lambda ids: deps.wake(ids),
                readers=on_loop_readers,
                writers=on_loop_writers,
            )
        return SqlUnitOfWork(
            engine,
            cipher,
            readonly=readonly,
            on_queued=lambda ids: deps.wake(ids),
            readers=readers,
            writers=writers,
        )

    uow = scoped_uow(make_uow)  # honours a request's SharedReads (one read transaction)

    deps = Deps(
        settings=settings,
        uow=uow,
        # Point reads on the event loop, on both engines: measured with wrk (32 connections,
        # 100k websites, GET website), SQLite 531 → 1,366 req/s, PostgreSQL 534–634 → 845–933
        # req/s against the threadpool, alternated in one run: the hop and its GIL hand-overs
        # cost more than a primary-key round trip blocks the loop (MVCC reads wait on no lock).
        inline_reads=True,
        # PostgreSQL: the session check and the record reads of the busiest routes awaited on
        # the loop (adapters/db/async_reads.py): run with the sync driver on the loop, each
        # round trip held it still — under wrk the server's thread was idle in poll() a
        # quarter of the time while PostgreSQL worked.
        async_reads=None
        if sqlite
        else PgAsyncReads(engine, cipher, size=settings.db_read_connections),
        # Single-write use cases (PATCH of an order) on the event loop, SQLite only: with the
        # write in the threadpool, the writer holding SQLite's one write lock waited for the
        # GIL behind the loop and the other threads after each statement and its fsync — the
        # lock was held 3.2–4.4 ms per save against 0.4 ms for the commit alone (measured
        # under wrk, 8 connections), which capped saves at ~250/s. PostgreSQL: ``run_on_loop``.
        inline_writes=engine.dialect.name == "sqlite",
        write_attempt=write_attempt,
        # PostgreSQL saves on the loop too, inside a greenlet, each statement awaited: in the
        # threadpool the GIL hand-overs around each of a save's round trips doubled its CPU
        # under load (measured: 3.1–3.7 ms per save against 1.6 ms one after another).
        run_on_loop=None if loop_writes is None else loop_writes.run,
        read_scope=SharedReads,
        clock=SystemClock(),
        files=build_file_store(settings),
        passwords=Passwords(),
        tokens=Tokens(settings.secret_key or "", settings.token_ttl_s),
        mailer=(
            SmtpMailer(
                settings.smtp_url,
                settings.smtp_from,
                settings.notify_timeout_s,
                str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            )
            if settings.smtp_url
            else OutboxOnlyMailer()
        ),
        sms=build_sms(settings),
    )
    _attach_checkers(deps, settings)
    for key, value in overrides.items():
        setattr(deps, key, value)
    jobs = None
    if with_jobs:
        from beiandesk.entrypoints.worker import JobRunner  # the worker shell (an entry point)

        jobs = JobRunner(settings, deps)
        deps.wake = jobs.wake
    return App(settings=settings, engine=engine, deps=deps, jobs=jobs)


def _attach_checkers(deps: Deps, settings: Settings) -> None:
    """Photo inspector, registry look-ups, site probe and the authority gateway."""
    from beiandesk.adapters import wiring

    wiring.attach(deps, settings)


# --- the operator's offline checks (CLI): just the adapter each needs, no database, no keys ---


def photo_inspector(settings: Settings) -> Any:
    """The verification photo/video inspector ``check-photo`` runs (the server's own, same limits).

    OpenCV is imported here, so it loads only when a command needs it.
    """
    from beiandesk.adapters.photo import OpenCVPhotoInspector

    return OpenCVPhotoInspector(max_bytes=settings.max_verification_bytes)


def operator_site_probe(timeout_s: float) -> Any:
    """The home-page probe ``check-site`` runs: an operator's tool (api.md), so any address —
    loopback and private ones included — and saved pages (``file://``) may be fetched, unlike
    the server's own probe (``wiring.attach``, ``PROBE_ALLOW_PRIVATE``)."""
    from beiandesk.adapters.site_probe import HttpSiteProbe

    return HttpSiteProbe(allow_private=True, timeout_s=timeout_s, allow_file=True)
