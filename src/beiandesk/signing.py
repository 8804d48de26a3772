"""The one signing scheme for everything beiandesk sends or accepts over HTTP.

Webhooks to integrators and the authority's state-change callbacks are signed the same way, and
both sides of each import this module — beiandesk when it signs a webhook or checks a callback,
the sandbox (or any authority bridge) when it signs a callback — so the derivation and the wire
format cannot drift apart. It is pure (standard library only, nothing of beiandesk), so an outside
party may import it without reaching into the product's adapters (import-linter says so).

The MAC is HMAC-SHA256(secret, ``"<unix seconds>." + body``), in hex. Wire formats:

- ``X-Beiandesk-Signature: t=<unix>,v1=<hex>`` — one header (the webhook contract, api.md; the
  sandbox sends it on callbacks too). Several ``v1=`` values may be listed (a sender rotating
  its secret); one match is enough.
- legacy, callbacks only: ``X-Sandbox-Timestamp: <unix>`` and
  ``X-Sandbox-Signature: sha256=<hex>`` — the same MAC split over two headers.

Binding the timestamp into the MAC and refusing stale ones (``MAX_SKEW_S``) stops a captured
request from being replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Protocol

#: The one-header format: ``t=UNIX,v1=HEX``.
HEADER = "X-Beiandesk-Signature"
VERSION = "v1"
#: The legacy two-header format of the authority callbacks.
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
SCHEME = "sha256"
#: A request older or newer than this (seconds) is refused: five minutes, the common webhook
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
    """The authority callbacks' HMAC key: ``gateway_secret`` when set, else derived from ``secret_key``.

    A sandbox served on its own (``beiandesk sandbox``) must see the same ``gateway_secret``
    (or the same ``secret_key``) as the beiandesk server it calls back.
    """
    if settings.gateway_secret:
        return settings.gateway_secret.encode("utf-8")
    if not settings.secret_key:
        raise ValueError("gateway_secret or secret_key must be set to sign authority callbacks")
    return hmac.new(settings.secret_key.encode("utf-8"), _DERIVATION_LABEL, hashlib.sha256).digest()


def mac(body: bytes, secret: bytes, timestamp: int | str) -> str:
    """Hex HMAC-SHA256(secret, "UNIX." + body)."""
    return hmac.new(
        secret, str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()


def _fresh(ts: int, now: datetime | float, max_skew_s: float) -> bool:
    now_s = now.timestamp() if isinstance(now, datetime) else float(now)
    return abs(now_s - ts) <= max_skew_s


# -- one header: t=UNIX,v1=HEX ------------------------------------------------------------------
def signature_header(body: bytes, secret: bytes, timestamp: int | str) -> str:
    """The ``X-Beiandesk-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={int(timestamp)},{VERSION}={mac(body, secret, timestamp)}"


def verify_header(
    body: bytes,
    header: str | None,
    secret: bytes,
    now: datetime | float,
    max_skew_s: float = MAX_SKEW_S,
) -> bool:
    """True when an ``X-Beiandesk-Signature`` value is authentic and fresh. Never raises."""
    if not header:
        return False
    ts: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                ts = int(value.strip())
            except ValueError:
                return False
        elif key == VERSION:
            candidates.append(value.strip().lower())
    if ts is None or not candidates or not _fresh(ts, now, max_skew_s):
        return False
    expected = mac(body, secret, ts)
    return any(hmac.compare_digest(c, expected) for c in candidates)


# -- legacy two headers (authority callbacks) ----------------------------------------------------
def sign(body: bytes, secret: bytes, timestamp: int | str) -> str:
    """The legacy ``X-Sandbox-Signature`` value for ``body`` sent at ``timestamp`` (unix s)."""
    return f"{SCHEME}={mac(body, secret, timestamp)}"


def verify(
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    secret: bytes,
    now: datetime | float,
    max_skew_s: float = MAX_SKEW_S,
) -> bool:
    """True when a legacy signature matches ``body`` and the timestamp is within ``max_skew_s``.

    The signature header may list several comma-separated ``sha256=…`` values; one match is
    enough. Never raises on malformed input: anything unexpected is simply not authentic.
    """
    if not timestamp_header or not signature_header:
        return False
    try:
        ts = int(timestamp_header.strip())
    except ValueError:
        return False
    if not _fresh(ts, now, max_skew_s):
        return False
    expected = mac(body, secret, ts)
    for part in signature_header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(value.strip().lower(), expected):
            return True
    return False
