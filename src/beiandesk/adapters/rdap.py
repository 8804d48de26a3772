"""RDAP (RFC 9082/9083) domain look-ups: expiry, registration, registrar, registrant, status.

Which server answers for a TLD comes from the IANA bootstrap registry (RFC 9224), read through
``whoisit``'s bootstrap parser from data we **package** (``data/rdap_bootstrap.json``): the
IANA ``dns.json`` of 2022-07-06 restricted to the suffixes MIIT approves for filing, plus
whoisit's own overrides (e.g. ``.co``). Nothing is fetched from IANA at run time. ``.cn`` and
``.中国`` have no RDAP service in the bootstrap; ``RegistryLookup`` falls back to WHOIS for them.

``base_url`` bypasses the bootstrap and asks ``{base_url}/domain/{name}`` directly: the demo
sandbox serves RDAP JSON at ``/sandbox/rdap/domain/{name}``. The sandbox may add a
beiandesk-specific member ``"beiandesk_facts": {"registrar_domestic": bool,
"real_name_verified": bool, "holder": str}``; real registries never say whether a holder passed
real-name verification, so real look-ups leave ``real_name_verified`` unknown (``None``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any

import httpx

from beiandesk.adapters.whois import ascii_domain, parse_date
from beiandesk.domain.model import DomainFacts

DEFAULT_TIMEOUT_S = 10.0
#: RDAP answers are a few KB; refuse anything absurd.
MAX_RESPONSE_BYTES = 1024 * 1024
_ACCEPT = "application/rdap+json, application/json;q=0.9"
_RELATED_RELS = ("related", "registration")


class RdapError(Exception):
    """No usable RDAP answer (no service for the TLD, network, HTTP error, bad JSON)."""


@lru_cache(maxsize=1)
def _bootstrap() -> Any:
    """whoisit's bootstrap loaded from the packaged file, once (lazily, not at import)."""
    from whoisit.bootstrap import BaseBootstrap

    boot = BaseBootstrap()
    text = resources.files("beiandesk").joinpath("data", "rdap_bootstrap.json").read_text("utf-8")
    boot.load_bootstrap_data(text, overrides=True)
    return boot


def endpoints_for(domain: str) -> list[str]:
    """RDAP base URLs for the TLD of ``domain`` (empty when the TLD has none)."""
    from whoisit.errors import UnsupportedError

    tld = ascii_domain(domain).rsplit(".", 1)[-1]
    try:
        urls, _ = _bootstrap().get_dns_endpoints(tld)
    except UnsupportedError:
        return []
    return list(urls)


class RdapLookup:
    def __init__(
        self,
        base_url: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        follow_related: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout_s = timeout_s
        self.follow_related = follow_related

    def lookup(self, domain: str) -> DomainFacts:
        """Facts of ``domain``. Raises ``RdapError`` when no server gave a usable answer; a
        domain the registry does not know comes back as ``DomainFacts(error=…)``."""
        name = ascii_domain(domain)
        bases = [self.base_url] if self.base_url else endpoints_for(name)
        if not bases:
            raise RdapError(f"域名后缀 .{name.rsplit('.', 1)[-1]} 没有可用的 RDAP 服务")
        errors: list[str] = []
        with httpx.Client(
            timeout=self.timeout_s, follow_redirects=True, headers={"Accept": _ACCEPT}
        ) as client:
            for base in bases:
                url = f"{base.rstrip('/')}/domain/{name}"
                try:
                    return self._lookup_at(client, url)
                except RdapError as exc:
                    errors.append(str(exc))
        raise RdapError("；".join(errors))

    def _lookup_at(self, client: httpx.Client, url: str) -> DomainFacts:
        data = _get_json(client, url)
        if data is None:
            return DomainFacts(
                error="RDAP 显示该域名未注册（注册局没有这条记录）", source=f"rdap:{url}"
            )
        facts = parse_rdap(data)
        if self.follow_related and not facts.holder:
            facts = self._with_registrar_record(client, data, facts)
        return replace(facts, source=f"rdap:{url}")

    def _with_registrar_record(
        self, client: httpx.Client, data: dict[str, Any], facts: DomainFacts
    ) -> DomainFacts:
        """A thin registry (Verisign) links to the registrar's record, which names the holder."""
        for link in data.get("links") or ():
            if not isinstance(link, dict) or link.get("rel") not in _RELATED_RELS:
                continue
            href, kind = str(link.get("href") or ""), str(link.get("type") or "")
            if not href.startswith(("https://", "http://")) or kind.startswith("text/html"):
                continue
            try:
                related = _get_json(client, href)
            except RdapError:
                return facts  # the registry's record is enough; the registrar's only adds detail
            if related:
                extra = parse_rdap(related)
                return replace(
                    facts,
                    holder=facts.holder or extra.holder,
                    registrar=facts.registrar or extra.registrar,
                )
        return facts


def _get_json(client: httpx.Client, url: str) -> dict[str, Any] | None:
    """The JSON object at ``url``; ``None`` for 404 (the object does not exist)."""
    try:
        response = client.get(url)
    except httpx.TimeoutException as exc:
        raise RdapError(f"RDAP 服务器超时：{url}") from exc
    except httpx.HTTPError as exc:
        raise RdapError(f"无法连接 RDAP 服务器：{url}（{type(exc).__name__}）") from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise RdapError(f"RDAP 服务器返回 HTTP {response.status_code}：{url}")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise RdapError(f"RDAP 响应过大：{url}")
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        raise RdapError(f"RDAP 响应不是 JSON：{url}") from exc
    if not isinstance(data, dict):
        raise RdapError(f"RDAP 响应格式不对：{url}")
    return data


# --- parser -----------------------------------------------------------------------------------


def _vcard(entity: dict[str, Any], prop: str) -> str:
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return ""
    for item in card[1]:
        if isinstance(item, list) and len(item) >= 4 and str(item[0]).lower() == prop:
            value = item[3]
            if isinstance(value, list):  # "org" may be structured: [name, unit, ...]
                value = " ".join(str(v) for v in value if v)
            return str(value or "").strip()
    return ""


def _entities(data: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Entities with ``role``, top level first, then nested (breadth-first)."""
    out, queue = [], list(data.get("entities") or ())
    while queue:
        entity = queue.pop(0)
        if not isinstance(entity, dict):
            continue
        if role in (entity.get("roles") or ()):
            out.append(entity)
        queue.extend(entity.get("entities") or ())
    return out


_REDACTED_MARKERS = ("redacted", "privacy", "not disclosed", "withheld", "data protected")


def _name(entity: dict[str, Any]) -> str:
    for prop in ("org", "fn"):
        value = _vcard(entity, prop)
        if value and not any(m in value.lower() for m in _REDACTED_MARKERS):
            return value
    return ""


def _event(data: dict[str, Any], action: str) -> Any:
    for event in data.get("events") or ():
        if isinstance(event, dict) and event.get("eventAction") == action:
            return parse_date(str(event.get("eventDate") or ""))
    return None


def parse_rdap(data: dict[str, Any]) -> DomainFacts:
    """``DomainFacts`` from an RDAP domain object (plus the sandbox's ``beiandesk_facts``)."""
    registrar = next((n for e in _entities(data, "registrar") if (n := _name(e))), "")
    holder = next((n for e in _entities(data, "registrant") if (n := _name(e))), None)
    status = tuple(str(s) for s in data.get("status") or () if s)
    facts = DomainFacts(
        registrar=registrar,
        holder=holder,
        expires_at=_event(data, "expiration"),
        registered_at=_event(data, "registration"),
        status=status,
    )
    extension = data.get("beiandesk_facts")
    if isinstance(extension, dict):
        facts = _apply_extension(facts, extension)
    return facts


def _apply_extension(facts: DomainFacts, ext: dict[str, Any]) -> DomainFacts:
    def flag(key: str) -> bool | None:
        value = ext.get(key)
        return value if isinstance(value, bool) else None

    return replace(
        facts,
        registrar=str(ext.get("registrar") or facts.registrar),
        registrar_domestic=flag("registrar_domestic"),
        real_name_verified=flag("real_name_verified"),
        holder=str(ext["holder"]) if ext.get("holder") else facts.holder,
    )
