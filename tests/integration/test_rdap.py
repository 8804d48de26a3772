"""RDAP look-ups against a real HTTP server on 127.0.0.1 serving RDAP JSON, and the packaged
bootstrap (no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from beiandesk.adapters.rdap import RdapError, RdapLookup, endpoints_for, parse_rdap
from tests.local_http import QuietServer


def vcard(fn: str, org: str | None = None) -> list[Any]:
    props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", fn]]
    if org is not None:
        props.append(["org", {"type": "work"}, "text", org])
    return ["vcard", props]


def verisign_like(name: str, port: int) -> dict[str, Any]:
    """A thin-registry answer: registrar with a nested abuse contact, a link to the registrar."""
    return {
        "objectClassName": "domain",
        "handle": "2745112345_DOMAIN_COM-VRSN",
        "ldhName": name.upper(),
        "links": [
            {"value": f"https://rdap.verisign.com/com/v1/domain/{name}", "rel": "self",
             "href": f"https://rdap.verisign.com/com/v1/domain/{name}",
             "type": "application/rdap+json"},
            {"value": "https://www.dnspod.cn", "rel": "about", "href": "https://www.dnspod.cn",
             "type": "text/html"},
            {"value": f"http://127.0.0.1:{port}/registrar/domain/{name}", "rel": "related",
             "href": f"http://127.0.0.1:{port}/registrar/domain/{name}",
             "type": "application/rdap+json"},
        ],
        "status": ["client delete prohibited", "client transfer prohibited"],
        "entities": [{
            "objectClassName": "entity", "handle": "1697", "roles": ["registrar"],
            "publicIds": [{"type": "IANA Registrar ID", "identifier": "1697"}],
            "vcardArray": vcard("DNSPod, Inc."),
            "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                          "vcardArray": vcard("Abuse Desk")}],
        }],
        "events": [
            {"eventAction": "registration", "eventDate": "2023-01-15T03:04:05Z"},
            {"eventAction": "expiration", "eventDate": "2028-01-15T04:00:00Z"},
            {"eventAction": "last update of RDAP database", "eventDate": "2026-11-27T06:00:00Z"},
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": "F1G1NS1.DNSPOD.NET"}],
        "secureDNS": {"delegationSigned": False},
        "rdapConformance": ["rdap_level_0", "icann_rdap_technical_implementation_guide_0"],
    }


REGISTRAR_RECORD = {
    "objectClassName": "domain", "ldhName": "yunfandev.com",
    "entities": [
        {"roles": ["registrant"],
         "vcardArray": vcard("REDACTED FOR PRIVACY", "上海云帆信息科技有限公司")},
        {"roles": ["technical"], "vcardArray": vcard("REDACTED FOR PRIVACY")},
    ],
}

SANDBOX = {
    "objectClassName": "domain", "ldhName": "mingyuan-notes.cn", "status": ["active"],
    "entities": [{"roles": ["registrar"], "vcardArray": vcard("阿里云计算有限公司（万网）")},
                 {"roles": ["registrant"], "vcardArray": vcard("李明")}],
    "events": [{"eventAction": "registration", "eventDate": "2024-03-02T04:00:00Z"},
               {"eventAction": "expiration", "eventDate": "2029-03-02T04:00:00Z"}],
    "beiandesk_facts": {"registrar_domestic": True, "real_name_verified": True, "holder": "李明"},
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        port = self.server.server_port  # type: ignore[attr-defined]
        routes: dict[str, tuple[int, Any]] = {
            "/rdap/domain/mingyuan-notes.cn": (200, SANDBOX),
            "/rdap/domain/yunfandev.com": (200, verisign_like("yunfandev.com", port)),
            "/registrar/domain/yunfandev.com": (200, REGISTRAR_RECORD),
            "/rdap/domain/broken.cn": (200, "not json {"),
            "/rdap/domain/list.cn": (200, []),
            "/rdap/domain/error.cn": (503, {"errorCode": 503}),
        }
        if self.path == "/rdap/domain/slow.cn":
            time.sleep(2)
        status, payload = routes.get(self.path, (404, {"errorCode": 404, "title": "Not Found"}))
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/rdap+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    srv = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}/rdap/"
    srv.shutdown()
    srv.server_close()


def test_sandbox_answer_with_beiandesk_extension(base: str) -> None:
    facts = RdapLookup(base_url=base, timeout_s=2).lookup("mingyuan-notes.cn")
    assert facts.error is None
    assert facts.registrar == "阿里云计算有限公司（万网）"
    assert facts.holder == "李明"
    assert (facts.registrar_domestic, facts.real_name_verified) == (True, True)
    assert facts.expires_at == date(2029, 3, 2) and facts.registered_at == date(2024, 3, 2)
    assert facts.status == ("active",)
    assert facts.source.startswith("rdap:http://127.0.0.1:")


def test_thin_registry_then_registrar_record(base: str) -> None:
    facts = RdapLookup(base_url=base, timeout_s=2).lookup("YunfanDev.com")
    assert facts.registrar == "DNSPod, Inc."  # not the nested abuse contact
    assert facts.expires_at == date(2028, 1, 15)
    assert facts.status == ("client delete prohibited", "client transfer prohibited")
    assert facts.holder == "上海云帆信息科技有限公司"  # org from the registrar's record
    assert facts.real_name_verified is None  # real RDAP never says


def test_related_link_can_be_skipped(base: str) -> None:
    facts = RdapLookup(base_url=base, timeout_s=2, follow_related=False).lookup("yunfandev.com")
    assert facts.holder is None and facts.registrar == "DNSPod, Inc."


def test_404_means_not_registered(base: str) -> None:
    facts = RdapLookup(base_url=base, timeout_s=2).lookup("nosuch.cn")
    assert facts.error and "未注册" in facts.error


@pytest.mark.parametrize("name", ["broken.cn", "list.cn", "error.cn"])
def test_bad_answers_raise(base: str, name: str) -> None:
    with pytest.raises(RdapError):
        RdapLookup(base_url=base, timeout_s=2).lookup(name)


def test_timeout(base: str) -> None:
    started = time.monotonic()
    with pytest.raises(RdapError, match="超时"):
        RdapLookup(base_url=base, timeout_s=0.3).lookup("slow.cn")
    assert time.monotonic() - started < 1.5


def test_connection_refused() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/rdap"
        with pytest.raises(RdapError, match="无法连接"):
            RdapLookup(base_url=url, timeout_s=1).lookup("mingyuan-notes.cn")


# --- packaged bootstrap: no network ---------------------------------------------------------


@pytest.mark.parametrize(("domain", "endpoint"), [
    ("example.com", "https://rdap.verisign.com/com/v1/"),
    ("example.net", "https://rdap.verisign.com/net/v1/"),
    ("example.top", "https://rdap.zdnsgtld.com/top/"),
    ("example.xyz", "https://rdap.centralnic.com/xyz/"),
    ("示例.公司", "https://restwhois.ngtld.cn/"),
    ("example.co", "https://rdap.registry.co/co/"),  # from whoisit's overrides
])
def test_bootstrap_endpoints(domain: str, endpoint: str) -> None:
    assert endpoints_for(domain) == [endpoint]


def test_cn_has_no_rdap_and_nothing_is_fetched() -> None:
    assert endpoints_for("mingyuan-notes.cn") == []
    assert endpoints_for("yunfan-tech.com.cn") == []
    with pytest.raises(RdapError, match="没有可用的 RDAP 服务"):
        RdapLookup(timeout_s=0.1).lookup("mingyuan-notes.cn")


def test_parse_rdap_ignores_redacted_and_junk() -> None:
    facts = parse_rdap({
        "entities": [{"roles": ["registrant"], "vcardArray": vcard("REDACTED FOR PRIVACY")},
                     "junk", {"roles": ["registrar"], "vcardArray": ["vcard"]}],
        "events": [{"eventAction": "expiration", "eventDate": "not a date"}],
        "status": ["active", None],
        "beiandesk_facts": {"registrar_domestic": "yes"},
    })
    assert facts.holder is None and facts.registrar == "" and facts.expires_at is None
    assert facts.status == ("active",)
    assert facts.registrar_domestic is None  # only real booleans count
