"""WHOIS (RFC 3912): a small TCP client and a tolerant parser of the formats registries use.

RFC 3912: connect to port 43, send the query followed by CRLF, read until the server closes
the connection. Responses are free text; every registry has its own keys. The parser knows the
shapes met in practice for the domains filed in China:

* CNNIC (.cn, .中国): ``Domain Name``, ``ROID``, ``Domain Status``, ``Registrant``,
  ``Sponsoring Registrar``, ``Registration Time``, ``Expiration Time: 2028-03-02 12:00:00``;
* Verisign and other ICANN gTLD registries (thin): ``Registry Expiry Date: …Z``,
  ``Registrar: …``, ``Registrar WHOIS Server: …`` (a referral to the registrar's thick record);
* registrars (thick): ``Registrar Registration Expiration Date``, ``Registrant Organization``,
  ``Registrant Name``;
* older/ccTLD styles: ``Expiry Date``, ``Expiration Date``, ``Expires On``, ``paid-till``
  (.ru), ``Registered on``/``Expiry date`` under indented section headings (Nominet).

Real-name verification is never in WHOIS, so ``real_name_verified`` stays ``None`` (unknown)
and the domain rules warn.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import replace
from datetime import date

import idna

from beiandesk.domain.model import DomainFacts

WHOIS_PORT = 43
#: A registry record is a few KB; cap what we read so a hostile server cannot fill memory.
MAX_RESPONSE_BYTES = 256 * 1024
DEFAULT_TIMEOUT_S = 10.0
IANA_WHOIS = "whois.iana.org"

#: Registry WHOIS servers of the TLDs most filed in China; others are found through IANA.
DEFAULT_SERVERS: dict[str, str] = {
    "cn": "whois.cnnic.cn",
    "xn--fiqs8s": "whois.cnnic.cn",  # .中国
    "xn--fiqz9s": "whois.cnnic.cn",  # .中國
    "com": "whois.verisign-grs.com",
    "net": "whois.verisign-grs.com",
    "cc": "ccwhois.verisign-grs.com",
    "tv": "tvwhois.verisign-grs.com",
    "org": "whois.pir.org",
    "xn--55qx5d": "whois.ngtld.cn",  # .公司 (CNNIC)
    "xn--io0a7i": "whois.ngtld.cn",  # .网络 (CNNIC)
}


class WhoisError(Exception):
    """The query could not be answered (network, time-out, empty answer)."""


# --- client -----------------------------------------------------------------------------------


def query(
    host: str,
    name: str,
    port: int = WHOIS_PORT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> str:
    """One RFC 3912 exchange: ``name`` CRLF, then read until close (or the byte cap)."""
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(name.encode("ascii") + b"\r\n")
            while size < max_bytes:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(min(65536, max_bytes - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError
    except TimeoutError as exc:
        raise WhoisError(f"WHOIS 服务器 {host} 超时（{timeout_s:g} 秒）") from exc
    except OSError as exc:
        raise WhoisError(f"无法连接 WHOIS 服务器 {host}:{port}（{exc.strerror or exc}）") from exc
    return _decode(b"".join(chunks))


def _decode(data: bytes) -> str:
    # CNNIC and ICANN registries answer in UTF-8; a few old servers still use GB18030.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def ascii_domain(domain: str) -> str:
    """The A-label form (``中文.cn`` → ``xn--fiq228c.cn``), lower case, no trailing dot."""
    domain = domain.strip().rstrip(".").lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


class WhoisClient:
    """Registry WHOIS, with one referral hop to the registrar's (thick) server.

    ``host`` forces one server for every TLD (the demo sandbox, tests); ``servers`` overrides
    the per-TLD table; ``port`` applies to every server (43 in the real world).
    """

    def __init__(
        self,
        host: str | None = None,
        port: int = WHOIS_PORT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        servers: dict[str, str] | None = None,
        follow_referral: bool = True,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.servers = {**DEFAULT_SERVERS, **(servers or {})}
        self.follow_referral = follow_referral and host is None
        self.max_bytes = max_bytes

    def _ask(self, host: str, name: str) -> str:
        return query(host, name, self.port, self.timeout_s, self.max_bytes)

    def server_for(self, domain: str) -> str:
        if self.host:
            return self.host
        tld = domain.rsplit(".", 1)[-1]
        if tld in self.servers:
            return self.servers[tld]
        refer = re.search(
            r"^(?:refer|whois):\s*(\S+)", self._ask(IANA_WHOIS, tld), re.MULTILINE | re.IGNORECASE
        )
        if not refer:
            raise WhoisError(f"找不到 .{tld} 的 WHOIS 服务器")
        return refer.group(1)

    def lookup(self, domain: str) -> DomainFacts:
        """Facts of ``domain``; raises ``WhoisError`` when no server answered."""
        name = ascii_domain(domain)
        server = self.server_for(name)
        text = self._ask(server, name)
        facts = parse_whois(text)
        source = f"whois:{server}"
        referral = _referral(text)
        if self.follow_referral and facts.error is None and referral and referral != server:
            try:
                thick = parse_whois(self._ask(referral, name))
            except WhoisError:
                thick = None  # the registry's record is enough; the registrar's only adds detail
            if thick is not None and thick.error is None:
                facts = _merge(facts, thick)
                source += f"+{referral}"
        return replace(facts, source=source)


def _referral(text: str) -> str | None:
    m = re.search(
        r"^\s*Registrar WHOIS Server:\s*(?:whois://)?([\w.-]+)", text, re.MULTILINE | re.IGNORECASE
    )
    return m.group(1).lower() if m else None


def _merge(registry: DomainFacts, thick: DomainFacts) -> DomainFacts:
    """The registry's dates and registrar win; the registrar's record adds the registrant."""
    return replace(
        registry,
        registrar=registry.registrar or thick.registrar,
        holder=registry.holder or thick.holder,
        expires_at=registry.expires_at or thick.expires_at,
        registered_at=registry.registered_at or thick.registered_at,
        status=registry.status or thick.status,
    )


# --- parser -----------------------------------------------------------------------------------

_NOT_FOUND = re.compile(
    r"^[\s%]*(no match|not found|no data found|no entries found|no found|domain not found|"
    r"the queried object does not exist|no matching record|status:\s*(free|available)|"
    r"object does not exist)",
    re.IGNORECASE | re.MULTILINE,
)
_RATE_LIMIT = re.compile(
    r"query rate|rate limit|limit exceeded|too many (queries|requests)|"
    r"interval is too short",
    re.IGNORECASE,
)
_REDACTED = re.compile(
    r"redacted|privacy|private person|not disclosed|data protected|withheld|"
    r"gdpr|"
    r"statutory masking|hidden upon user request|^n/?a$|^none$",
    re.IGNORECASE,
)

# Comment and legal-notice lines (RIPE-style "%", Verisign's ">>> Last update" and NOTICE).
_SKIP_PREFIXES = ("%", "#", ">>>", "NOTICE", "TERMS OF USE", "URL of the ICANN")
_MAX_KEY_LEN = 48

_EXPIRY_KEYS = (
    "registry expiry date",
    "expiration time",
    "registrar registration expiration date",
    "expiry date",
    "expiration date",
    "expires on",
    "expire date",
    "expires",
    "paid-till",
    "expire",
    "renewal date",
    "valid until",
)
_CREATED_KEYS = (
    "creation date",
    "registration time",
    "created on",
    "created",
    "registered on",
    "domain registration date",
    "registration date",
    "registered",
)
_REGISTRAR_KEYS = ("sponsoring registrar", "registrar", "registrar name", "registrar organization")
_HOLDER_KEYS = (
    "registrant",
    "registrant organization",
    "registrant name",
    "org",
    "person",
    "registrant organisation",
)
_STATUS_KEYS = ("domain status", "status", "state")


def _fields(text: str) -> dict[str, list[str]]:
    """``key → values`` from ``Key: value`` lines. A heading with an empty value takes the
    indented lines under it that are not themselves ``key: value`` (Nominet's
    ``Registrant:`` / ``Registrar:`` blocks)."""
    out: dict[str, list[str]] = {}
    heading: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(_SKIP_PREFIXES):
            heading = None
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and 0 < len(key) <= _MAX_KEY_LEN and not key.startswith("http"):
            if value.strip():
                out.setdefault(key, []).append(value.strip())
            else:
                heading = key
        elif heading and raw[:1].isspace():
            out.setdefault(heading, []).append(line)
    return out


def _first(fields: dict[str, list[str]], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        for value in fields.get(key, ()):
            if value:
                return value
    return None


def _first_date(fields: dict[str, list[str]], keys: tuple[str, ...]) -> date | None:
    for key in keys:
        for value in fields.get(key, ()):
            parsed = parse_date(value)
            if parsed:
                return parsed
    return None


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}


def parse_date(value: str | None) -> date | None:
    """The date part of the many shapes registries print (time and zone are dropped: the rules
    count days, and a few hours do not change a 90-day margin)."""
    if not value:
        return None
    v = value.strip()
    m = re.search(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", v)
    if m:
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"(\d{1,2})[-/. ]([A-Za-z]{3})[A-Za-z]*[-/. ](\d{4})", v)
    if m and m[2].lower() in _MONTHS:
        return _safe_date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    m = re.search(r"([A-Za-z]{3})[A-Za-z]*\.? (\d{1,2}),? (\d{4})", v)
    if m and m[1].lower() in _MONTHS:
        return _safe_date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    m = re.search(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", v)  # dd.mm.yyyy
    if m:
        return _safe_date(int(m[3]), int(m[2]), int(m[1]))
    return None


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _status(fields: dict[str, list[str]]) -> tuple[str, ...]:
    out: list[str] = []
    for key in _STATUS_KEYS:
        for value in fields.get(key, ()):
            # "clientTransferProhibited https://icann.org/epp#clientTransferProhibited"; .ru
            # lists several states comma-separated.
            for part in re.split(r",\s*", value.split(" http")[0].strip()):
                if part and part not in out:
                    out.append(part)
        if out:
            break
    return tuple(out)


def _holder(fields: dict[str, list[str]]) -> str | None:
    value = _first(fields, _HOLDER_KEYS)
    if value is None or _REDACTED.search(value):
        # A redacted organisation may sit next to a published name, and vice versa.
        for key in _HOLDER_KEYS:
            for v in fields.get(key, ()):
                if not _REDACTED.search(v):
                    return v
        return None
    return value


def parse_whois(text: str) -> DomainFacts:
    """``DomainFacts`` from a WHOIS answer; ``error`` (in Chinese) when it says nothing useful."""
    if not text.strip():
        return DomainFacts(error="WHOIS 服务器返回了空结果")
    fields = _fields(text)
    if _NOT_FOUND.search(text) and not _first(fields, _EXPIRY_KEYS):
        return DomainFacts(error="WHOIS 显示该域名未注册（未查到注册记录）")
    if _RATE_LIMIT.search(text) and not fields.get("domain name"):
        return DomainFacts(error="WHOIS 服务器限制了查询频率，请稍后再试")
    facts = DomainFacts(
        registrar=(_first(fields, _REGISTRAR_KEYS) or "").split("[Tag")[0].strip(),
        holder=_holder(fields),
        expires_at=_first_date(fields, _EXPIRY_KEYS),
        registered_at=_first_date(fields, _CREATED_KEYS),
        status=_status(fields),
    )
    if not (facts.registrar or facts.expires_at or facts.status):
        return replace(facts, error="无法从 WHOIS 结果中读出注册信息")
    return facts
