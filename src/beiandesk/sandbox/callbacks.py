"""Deliver the queued state-change callbacks, signed, with a few retries.

The callback outbox lives in the sandbox's file, so a restart loses none. Delivery is best effort:
beiandesk's worker polls as well, and either path alone is enough (api.md). Callbacks of one
order go out in order — a later one waits while an earlier one is still being retried — so a
receiver never sees an older state after a newer one.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from beiandesk.signing import HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signature_header
from beiandesk.sandbox.store import SandboxStore

log = logging.getLogger("beiandesk.sandbox.callbacks")

#: Seconds to wait before each retry; after the last one the callback is given up (polling
#: covers it). Six tries over about half a minute ride out a receiver restarting.
BACKOFF_S: tuple[float, ...] = (1, 2, 4, 8, 16)
#: A receiver that does not answer within this many seconds is treated as down for this try.
TIMEOUT_S = 5.0
#: Client errors worth retrying; any other 4xx (a bad signature, an unknown URL) will not heal.
_RETRYABLE_4XX = frozenset({408, 425, 429})


class CallbackDeliverer:
    def __init__(
        self, store: SandboxStore, secret: bytes, *, client: httpx.Client | None = None
    ) -> None:
        self.store = store
        self.secret = secret
        self._client = client
        self._owns_client = client is None

    def _http(self) -> httpx.Client:
        if self._client is None:
            # trust_env=False: a proxy from the environment must not swallow loopback callbacks.
            self._client = httpx.Client(timeout=TIMEOUT_S, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def deliver_due(self) -> int:
        """Try every callback that is due; how many were delivered."""
        total = 0
        while True:  # a delivery may unblock the same order's next callback: go again
            rows = self.store.due_callbacks(datetime.now(UTC))
            delivered = sum(self._deliver(row) for row in rows)
            total += delivered
            if not delivered:
                return total

    def _deliver(self, row: dict[str, Any]) -> int:
        body = row["body"].encode("utf-8")
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(body, self.secret, ts),
            HEADER: signature_header(body, self.secret, ts),  # the same MAC, one header
            "X-Sandbox-Delivery": str(row["id"]),
            "User-Agent": "beiandesk-sandbox/1",
        }
        status: int | None = None
        error: str | None = None
        try:
            response = self._http().post(row["url"], content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        now = datetime.now(UTC)
        if status is not None and 200 <= status < 300:
            self.store.record_attempt(
                row["id"], status=status, error=None, delivered_at=now, next_at=None, give_up=False
            )
            return 1
        attempt = int(row["attempts"])  # tries made before this one
        retryable = status is None or status >= 500 or status in _RETRYABLE_4XX
        give_up = not retryable or attempt >= len(BACKOFF_S)
        next_at = None if give_up else now + timedelta(seconds=BACKOFF_S[attempt])
        self.store.record_attempt(
            row["id"],
            status=status,
            error=error,
            delivered_at=None,
            next_at=next_at,
            give_up=give_up,
        )
        log.warning(
            "callback %s for %s failed (%s)%s",
            row["id"],
            row["ref"],
            status or error,
            "; giving up" if give_up else "; will retry",
        )
        return 0
