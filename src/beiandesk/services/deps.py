"""What use cases are given: a unit-of-work factory and the ports. Built once in bootstrap."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from beiandesk.config import Settings
from beiandesk.services.ports import (
    AuthorityGateway,
    Clock,
    DomainFactsLookup,
    FileStore,
    Mailer,
    PhotoInspector,
    SiteProbe,
    SmsSender,
)


@dataclass
class Deps:
    settings: Settings
    uow: Callable[..., Any]  # (readonly: bool = False) -> a unit of work (context manager)
    clock: Clock
    files: FileStore
    passwords: Any
    tokens: Any
    photo: PhotoInspector | None = None
    domain_lookup: DomainFactsLookup | None = None
    site_probe: SiteProbe | None = None
    mailer: Mailer | None = None
    sms: SmsSender | None = None
    gateway: AuthorityGateway | None = None
    #: Checks a gateway callback's signature: (body, timestamp header, signature header) -> bool.
    verify_callback: Callable[[bytes, str | None, str | None], bool] | None = None
    #: Renders the pre-filled 核验单 as PDF.
    form_renderer: Any = None
    #: Webhook POSTs through the address guard (``ports.WebhookSender``).
    webhook_sender: Any = None
    #: The provider's resource inventory (``ports.ResourceInventory``); None: not configured.
    inventory: Any = None
    #: Makes small JPEG previews of image materials: ``thumbnail(bytes) -> bytes | None``.
    thumbnails: Any = None
    #: Point reads (a row or two by key) may run on the event loop instead of the threadpool:
    #: the thread hop and the GIL hand-overs around it were most of a GET (bootstrap sets it;
    #: see ``entrypoints/api/security.point_read``). False keeps every sync route threaded.
    inline_reads: bool = False
    #: The per-request point reads awaited on the event loop (``ports.AsyncPointReads``;
    #: bootstrap: PostgreSQL, where each was a round trip that held the loop). None: the units
    #: of work's own reads, where ``inline_reads`` says.
    async_reads: Any = None
    #: A use case that reads, judges and then writes once may run on the event loop when the
    #: write lock is free at once (SQLite: one writer, a short durable commit; see
    #: ``entrypoints/api/security.point_write``). Bootstrap: True on SQLite only.
    inline_writes: bool = False
    #: ``with d.write_attempt():`` — write units of work inside do not wait for the lock before
    #: their first commit: they raise ``ports.WriteWouldWait`` (``adapters/db/uow.write_attempt``).
    write_attempt: Callable[[], Any] = contextlib.nullcontext
    #: ``await d.run_on_loop(fn, *args)`` — a single-write use case run on the event loop with
    #: its statements awaited (PostgreSQL: ``adapters/db/on_loop.py``); None: the threadpool.
    run_on_loop: Callable[..., Awaitable[Any]] | None = None
    #: ``with d.read_scope():`` — the read-only units of work inside share one read transaction
    #: (an entry point opens one per HTTP request; ``adapters/db/uow.SharedReads``).
    read_scope: Callable[[], Any] = contextlib.nullcontext
    #: Called with outbox ids after the transaction that wrote them commits (wakes the worker).
    wake: Callable[[list[int]], None] = field(default=lambda ids: None)
