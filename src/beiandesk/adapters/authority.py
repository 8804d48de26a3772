"""The authority gateway over HTTP (the ``AuthorityGateway`` port): the sandbox's API, and the
shape a real bridge to the 管局 would take.

Failures are sorted for the worker: ``GatewayUnavailable`` (connection refused, time-out, 5xx,
a garbled answer) is worth retrying with back-off; ``GatewayRejected`` (4xx) is not — the
authority understood and said no. Nothing personal is logged: payloads carry ID numbers and
mobiles, so only references, status codes and problem codes reach the log.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Self
from urllib.parse import quote

import httpx

log = logging.getLogger("beiandesk.authority")

#: Seconds for one call to the authority: generous for a slow government system, short
#: enough that a worker thread is not held for long when it hangs.
DEFAULT_TIMEOUT_S = 10.0


class GatewayError(Exception):
    """Base of the gateway's errors."""


class GatewayUnavailable(GatewayError):
    """The authority could not be reached or failed (retry later)."""


class GatewayRejected(GatewayError):
    """The authority refused the request (4xx); retrying the same request will not help."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class HttpAuthorityGateway:
    """``base_url`` is the authority's root, e.g. ``http://127.0.0.1:8000/sandbox``.

    ``callback_url``, when given, is added to every submitted order that has none, so the
    authority calls beiandesk back on each state change (polling works without it).
    """

    def __init__(
        self,
        base_url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        client: httpx.Client | None = None,
        *,
        callback_url: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.callback_url = callback_url
        self._client = client
        self._owns_client = client is None
        self._lock = threading.Lock()  # worker threads share one gateway

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:  # built on first use: nothing happens at construction
                self._client = httpx.Client(timeout=self.timeout_s)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the port ---------------------------------------------------------------------------
    def submit(self, payload: dict[str, Any], idempotency_key: str) -> str:
        """Hand an order over; its reference. The same key always yields the same reference."""
        body = {**payload, "idempotency_key": idempotency_key}
        if self.callback_url and not body.get("callback_url"):
            body["callback_url"] = self.callback_url
        data = self._call(
            "POST", "/orders", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        ref = data.get("ref")
        if not isinstance(ref, str) or not ref:
            raise GatewayUnavailable("authority answered without an order reference")
        log.info("authority order submitted: %s", ref)
        return ref

    def status(self, ref: str) -> dict[str, Any]:
        """``{ref, state, reason, ...}`` as the authority reports it now."""
        return self._call("GET", f"/orders/{quote(ref, safe='')}")

    def resend(self, ref: str, idempotency_key: str | None = None) -> dict[str, Any]:
        """Re-send a returned order (new SMS codes). With ``idempotency_key``, a retry of a
        resend that already took effect answers the order instead of 409."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        data = self._call("POST", f"/orders/{quote(ref, safe='')}/resend", headers=headers)
        log.info("authority order re-sent: %s", ref)
        return data

    # -- transport --------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.base_url + path
        try:
            response = self._http().request(method, url, **kwargs)
        except httpx.HTTPError as exc:  # refused, reset, time-out, bad URL …
            log.warning("authority %s %s unreachable: %s", method, path, type(exc).__name__)
            raise GatewayUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            log.warning("authority %s %s failed: %s", method, path, response.status_code)
            raise GatewayUnavailable(f"{method} {url}: HTTP {response.status_code}")
        if response.status_code >= 400:
            code, message = _problem(response)
            log.info("authority %s %s refused: %s %s", method, path, response.status_code, code)
            raise GatewayRejected(response.status_code, code, message)
        try:
            data = response.json()
        except ValueError as exc:
            raise GatewayUnavailable(f"{method} {url}: answer is not JSON") from exc
        if not isinstance(data, dict):
            raise GatewayUnavailable(f"{method} {url}: answer is not a JSON object")
        return data


def _problem(response: httpx.Response) -> tuple[str, str]:
    """``code`` and ``detail`` of a problem JSON answer, or generic ones."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = str(data.get("code") or f"http_{response.status_code}")
        return code, str(data.get("detail") or data.get("title") or "")
    return f"http_{response.status_code}", response.reason_phrase
