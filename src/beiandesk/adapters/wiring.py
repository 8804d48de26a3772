"""Concrete checkers and the gateway, chosen from settings (demo mode points them at the sandbox)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from beiandesk.adapters.authority import HttpAuthorityGateway
from beiandesk.adapters.clock import SystemClock
from beiandesk.adapters.domain_facts import RegistryLookup
from beiandesk.adapters.photo import OpenCVPhotoInspector
from beiandesk.adapters.rdap import RdapLookup
from beiandesk.adapters.site_probe import HttpSiteProbe
from beiandesk.adapters.whois import WhoisClient
from beiandesk import signing
from beiandesk.config import Settings
from beiandesk.services.deps import Deps


def demo_site_rewrite(sandbox_base: str) -> Callable[[str], str]:
    """Demo mode: a demo website's home page is served by the sandbox (no internet needed)."""
    from beiandesk import demo_data
    from beiandesk.domain.domains import registrable_domain

    hosted = demo_data.website_filing_numbers()

    def rewrite(url: str) -> str:
        host = (urlsplit(url).hostname or "").lower()
        domain = registrable_domain(host) or host
        if domain in hosted:
            return f"{sandbox_base.rstrip('/')}/sites/{domain}/"
        return url

    return rewrite


def attach(deps: Deps, settings: Settings) -> None:
    from beiandesk.adapters.pdf_forms import ReportlabFormRenderer

    deps.form_renderer = ReportlabFormRenderer()
    deps.photo = OpenCVPhotoInspector(max_bytes=settings.max_verification_bytes)
    from beiandesk.adapters.thumbnails import OpenCVThumbnailer

    deps.thumbnails = OpenCVThumbnailer()  # previews for the pages (issue 12)
    rdap = RdapLookup(base_url=settings.rdap_url)
    whois = WhoisClient(host=settings.whois_host, port=settings.whois_port)
    deps.domain_lookup = RegistryLookup(rdap=rdap, whois=None if settings.rdap_url else whois)
    # The sandbox that hosts the demo home pages: the gateway's when it is one, else our own
    # mount (no gateway at all, or the authority desk) — the same pages ``serve --demo`` uses.
    sandbox = (
        settings.gateway_url
        if settings.gateway_url not in (None, "", "desk")
        else settings.public_url.rstrip("/") + "/sandbox"
    )
    rewrite = demo_site_rewrite(sandbox) if settings.demo and sandbox else None
    deps.site_probe = HttpSiteProbe(allow_private=settings.probe_allow_private, rewrite=rewrite)
    from beiandesk.adapters.webhooks import HttpWebhookSender

    # Private receivers only when the operator said so (either setting) or in the demo.
    deps.webhook_sender = HttpWebhookSender(
        allow_private=settings.webhook_allow_private
        or settings.probe_allow_private
        or settings.demo
    )
    inventory_url = settings.inventory_url or (
        f"{sandbox.rstrip('/')}/inventory" if settings.demo and sandbox else None
    )
    if inventory_url:
        from beiandesk.adapters.inventory import HttpInventory

        deps.inventory = HttpInventory(inventory_url, token=settings.inventory_token)
    if settings.gateway_url and settings.gateway_url != "desk":
        deps.gateway = HttpAuthorityGateway(settings.gateway_url)
    secret = signing.shared_secret(settings)
    clock = SystemClock()

    def verify(body: bytes, timestamp: str | None, signature: str | None) -> bool:
        if signature and signature.lstrip().startswith("t="):  # X-Beiandesk-Signature
            return signing.verify_header(body, signature, secret, clock.now())
        return signing.verify(body, timestamp, signature, secret, clock.now())

    deps.verify_callback = verify
