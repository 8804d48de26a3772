"""Webhook POSTs (``services.ports.WebhookSender``) behind the site probe's address guard.

An admin types the URL, so the server must not become a way into its own network: unless
``allow_private`` (``BEIANDESK_WEBHOOK_ALLOW_PRIVATE``), a host resolving to a loopback, private,
link-local, shared or reserved address is refused — the same check as the site probe
(``site_probe.checked_addresses``) — and the connection is pinned to the checked address (the URL
carries the IP; ``Host`` and TLS SNI keep the name), so a second DNS answer cannot swap in
another one. Redirects are not followed (a 3xx is a failed delivery). Nothing of the body is
logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from beiandesk.adapters.site_probe import (
    FetchError,
    Resolver,
    checked_addresses,
    is_forbidden_address,
    system_resolver,
)
from beiandesk.services.ports import PostResult

log = logging.getLogger("beiandesk.webhooks")

#: Seconds for one delivery: a receiver should answer quickly and work later.
DEFAULT_TIMEOUT_S = 10.0


class HttpWebhookSender:
    def __init__(
        self,
        allow_private: bool,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        resolver: Resolver | None = None,
        forbidden: Callable = is_forbidden_address,
    ) -> None:
        self.allow_private = allow_private
        self.timeout_s = timeout_s
        self.resolver = resolver or system_resolver
        self.forbidden = forbidden

    def _addresses(self, url: str) -> tuple[httpx.URL, str, list[str]]:
        parsed = httpx.URL(url)
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return (
            parsed,
            host,
            checked_addresses(
                host, port, self.resolver, None if self.allow_private else self.forbidden
            ),
        )

    def check_url(self, url: str) -> str | None:
        try:
            self._addresses(url)
        except FetchError as exc:
            if exc.reason == "address_forbidden":
                return (
                    f"网络钩子地址 {urlsplit(url).hostname} 指向本机、内网或保留地址，出于安全原因不允许"
                    "（如确需投递到内网，请设置 BEIANDESK_WEBHOOK_ALLOW_PRIVATE=true）。"
                )
            return None  # not resolvable yet: deliveries are retried, and checked again then
        except (ValueError, httpx.InvalidURL):
            return "网络钩子地址格式不正确。"
        return None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
        started = time.monotonic()

        def done(status: int | None, error: str | None) -> PostResult:
            return PostResult(status, error, int((time.monotonic() - started) * 1000))

        try:
            parsed, host, addresses = self._addresses(url)
        except FetchError as exc:
            return done(None, exc.message)
        except (ValueError, httpx.InvalidURL):
            return done(None, "网络钩子地址格式不正确")
        default_port = 443 if parsed.scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host
        host_header = name if parsed.port in (None, default_port) else f"{name}:{parsed.port}"
        extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
        last = "无法连接"
        # trust_env=False: a proxy from the environment must not receive (or swallow) deliveries.
        with httpx.Client(
            timeout=self.timeout_s, follow_redirects=False, trust_env=False
        ) as client:
            for ip in addresses:
                request = client.build_request(
                    "POST",
                    parsed.copy_with(host=ip.split("%")[0]),
                    content=body,
                    headers={**headers, "Host": host_header},
                    extensions=extensions,
                )
                try:
                    response = client.send(request)
                except httpx.ConnectError as exc:
                    last = f"无法连接 {host}（{type(exc).__name__}）"
                    continue  # the host's next address
                except httpx.TimeoutException:
                    return done(None, f"{host} 在 {self.timeout_s:g} 秒内没有响应")
                except httpx.HTTPError as exc:
                    return done(None, f"投递到 {host} 出错（{type(exc).__name__}）")
                status = response.status_code
                return done(status, None if 200 <= status < 300 else f"接收方返回 HTTP {status}")
        return done(None, last)
