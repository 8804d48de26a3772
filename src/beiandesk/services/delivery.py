"""Outbox channels: how a row of each ``kind`` is delivered, and what its failures mean.

``services.jobs.deliver`` is generic: it claims a row, asks the row's channel to deliver it
outside any transaction, and records the outcome. A channel says

* ``send(d, item)`` → the provider's answer (a dict kept on the row) or None; it raises
  ``Transient`` (retry with back-off), ``Permanent`` (failed with the reason; admins may retry);
  any other exception counts as transient;
* ``keeps_only(d)`` → True when the configured backend stores only (仅保存, nothing is sent);
* ``on_dead_claim``: ``"retry"`` (a claimant that died mid-call: deliver again — e-mail keeps its
  Message-ID, webhooks their event id, gateway calls their idempotency key) or ``"uncertain"``
  (SMS: nobody knows whether it went out; an admin resends or marks it sent, on purpose);
* ``max_attempts``: give up (failed) after so many transient failures; None = never.

Other modules add channels with ``register`` and list themselves in ``CHANNEL_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from beiandesk.domain import sms_templates
from beiandesk.domain.outbox_states import PermanentFailure as Permanent
from beiandesk.domain.outbox_states import TransientFailure as Transient
from beiandesk.services.deps import Deps

__all__ = [
    "CHANNEL_MODULES",
    "Channel",
    "Permanent",
    "Transient",
    "channel",
    "message_id",
    "register",
]

#: Modules that register further channels when imported (e.g. webhooks).
CHANNEL_MODULES: tuple[str, ...] = ("beiandesk.services.webhooks",)


@dataclass(frozen=True)
class Channel:
    send: Callable[[Deps, Any], dict[str, Any] | None]
    keeps_only: Callable[[Deps], bool] = lambda d: False
    on_dead_claim: str = "retry"
    max_attempts: int | None = 12


_CHANNELS: dict[str, Channel] = {}
_loaded = False


def register(kind: str, ch: Channel) -> None:
    if ch.on_dead_claim not in ("retry", "uncertain"):
        raise ValueError(f"on_dead_claim must be 'retry' or 'uncertain', not {ch.on_dead_claim!r}")
    _CHANNELS[kind] = ch


def channel(kind: str) -> Channel | None:
    global _loaded
    if not _loaded:
        for name in CHANNEL_MODULES:
            importlib.import_module(name)
        _loaded = True
    return _CHANNELS.get(kind)


def message_id(d: Deps, item_id: int) -> str:
    """One Message-ID per outbox row: the same on every attempt, unique per installation."""
    domain = d.settings.smtp_from.rpartition("@")[2].strip(" >") or "beiandesk.local"
    host = d.settings.public_url.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "beiandesk"
    return f"<outbox-{item_id}.{host}@{domain}>"


def _keeps(port: Any) -> bool:
    return port is None or bool(getattr(port, "keeps_only", False))


def _send_email(d: Deps, item: Any) -> dict[str, Any] | None:
    p = item.payload
    return d.mailer.send(
        p["to"], p["subject"], p["text"], p.get("html"), message_id=message_id(d, item.id)
    )


def _send_sms(d: Deps, item: Any) -> dict[str, Any] | None:
    p = item.payload
    kind = p.get("event", "")
    params = sms_templates.params_for(kind, p.get("params") or {}) if kind else {}
    return d.sms.send(p["to"], p["text"], kind=kind, params=params, ref=f"beiandesk-{item.id}")


def _gateway_submit(d: Deps, item: Any) -> None:
    from beiandesk.services import authority

    authority.handover(d, item.payload["change_id"], item.attempts)


def _gateway_resend(d: Deps, item: Any) -> None:
    from beiandesk.services import authority

    authority.resend(d, item.payload["change_id"], item.attempts, f"beiandesk-resend-{item.id}")


register("email", Channel(send=_send_email, keeps_only=lambda d: _keeps(d.mailer)))
register(
    "sms", Channel(send=_send_sms, keeps_only=lambda d: _keeps(d.sms), on_dead_claim="uncertain")
)
register("gateway_submit", Channel(send=_gateway_submit, max_attempts=None))
register("gateway_resend", Channel(send=_gateway_resend, max_attempts=None))
