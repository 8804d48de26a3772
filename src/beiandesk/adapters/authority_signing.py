"""Signed authority callbacks: the shared secret, the signature, and its check.

Both sides import this one module — the sandbox (or any authority bridge) when it signs a
state-change callback, beiandesk when it accepts one — so the derivation and the wire format
cannot drift apart.

Wire format (the same scheme as Stripe/GitHub webhooks, so it is familiar to integrators):
``X-Sandbox-Timestamp: <unix seconds>`` and
``X-Sandbox-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``. Binding the
timestamp into the MAC and refusing stale ones (``MAX_SKEW_S``) stops a captured callback from
being replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Protocol

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
SCHEME = "sha256"
#: A callback older or newer than this (seconds) is refused: five minutes, the common webhook
#: tolerance, wide enough for clock drift between two hosts and for a retry in flight.
MAX_SKEW_S = 300
#: Domain-separation label: the callback secret derived from ``secret_key`` is never the
#: ``secret_key`` itself (which also signs bearer tokens), so a leaked callback secret cannot
#: forge a login.
_DERIVATION_LABEL = b"beiandesk/authority-callback/v1"


class _HasSecrets(Protocol):
    gateway_secret: str | None
    secret_key: str | None


def shared_secret(settings: _HasSecrets) -> bytes:
    """The HMAC key: ``gateway_secret`` when set, else derived from ``secret_key``.

    A sandbox served on its own (``beiandesk sandbox``) must see the same ``gateway_secret``
    (or the same ``secret_key``) as the beiandesk server it calls back.
    """
    if settings.gateway_secret:
        return settings.gateway_secret.encode("utf-8")
    if not settings.secret_key:
        raise ValueError("gateway_secret or secret_key must be set to sign authority callbacks")
    return hmac.new(settings.secret_key.encode("utf-8"), _DERIVATION_LABEL, hashlib.sha256).digest()


def _mac(body: bytes, secret: bytes, timestamp: str) -> str:
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: bytes, timestamp: int | str) -> str:
    """The ``X-Sandbox-Signature`` header value for ``body`` sent at ``timestamp`` (unix s)."""
    return f"{SCHEME}={_mac(body, secret, str(int(timestamp)))}"


def verify(
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    secret: bytes,
    now: datetime | float,
    max_skew_s: float = MAX_SKEW_S,
) -> bool:
    """True when the signature matches ``body`` and the timestamp is within ``max_skew_s``.

    ``now`` is an aware datetime or unix seconds. The signature header may list several
    comma-separated ``sha256=…`` values (a sender rotating its secret); one match is enough.
    Never raises on malformed input: anything unexpected is simply not authentic.
    """
    if not timestamp_header or not signature_header:
        return False
    try:
        ts = int(timestamp_header.strip())
    except ValueError:
        return False
    now_s = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(now_s - ts) > max_skew_s:
        return False
    expected = _mac(body, secret, str(ts))
    for part in signature_header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(value.strip().lower(), expected):
            return True
    return False
