"""The RFC 3912 client against a real TCP WHOIS server on 127.0.0.1 (free port)."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest

from beiandesk.adapters.whois import WhoisClient, WhoisError, query

CNNIC = """Domain Name: mingyuan-notes.cn
ROID: 20240302s10001s56781234-cn
Domain Status: ok
Registrant: 李明
Sponsoring Registrar: 阿里云计算有限公司（万网）
Registration Time: 2024-03-02 12:00:00
Expiration Time: 2028-03-02 12:00:00
DNSSEC: unsigned
"""

THIN = """   Domain Name: YUNFANDEV.COM
   Registrar WHOIS Server: {referral}
   Creation Date: 2023-01-15T03:04:05Z
   Registry Expiry Date: 2028-01-15T04:00:00Z
   Registrar: DNSPod, Inc.
   Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited
>>> Last update of whois database: 2026-11-27T06:00:00Z <<<
"""

THICK = """Domain Name: yunfandev.com
Registrar Registration Expiration Date: 2028-01-15T04:00:00Z
Registrar: DNSPod, Inc.
Registrant Name: REDACTED FOR PRIVACY
Registrant Organization: 上海云帆信息科技有限公司
"""

IANA_TOP = """% IANA WHOIS server
domain:       TOP
refer:        whois.nic.top.test
"""

TOP = """Domain Name: yunfan.top
Registry Expiry Date: 2027-08-01T09:00:00Z
Registrar: Xin Net Technology Corporation
"""


class WhoisHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(1024).decode("ascii", "replace").strip()
        self.server.queries.append(line)  # type: ignore[attr-defined]
        answers = self.server.answers  # type: ignore[attr-defined]
        answer = answers.get(line, f'No match for "{line.upper()}".\n')
        if isinstance(answer, list):  # successive answers, the last one repeated
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if answer == "SLOW":
            time.sleep(2)
            return
        if answer == "HUGE":
            try:
                for _ in range(1000):
                    self.wfile.write(b"Domain Status: ok\n" * 100)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.wfile.write(answer.encode("utf-8"))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), WhoisHandler)
    srv.queries = []  # type: ignore[attr-defined]
    srv.answers = {  # type: ignore[attr-defined]
        "mingyuan-notes.cn": CNNIC,
        "yunfandev.com": THIN.format(referral="127.0.0.1"),
        "xn--fiq228c.cn": CNNIC.replace("mingyuan-notes.cn", "xn--fiq228c.cn"),
        "slow.cn": "SLOW",
        "huge.cn": "HUGE",
        "top": IANA_TOP,
        "yunfan.top": TOP,
    }
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def port(server: Server) -> int:
    return server.server_address[1]


def test_query_reads_until_close(server: Server) -> None:
    text = query("127.0.0.1", "mingyuan-notes.cn", port=port(server), timeout_s=2)
    assert "Expiration Time: 2028-03-02 12:00:00" in text
    assert "李明" in text  # UTF-8 decoded


def test_lookup_cn(server: Server) -> None:
    client = WhoisClient(host="127.0.0.1", port=port(server), timeout_s=2)
    facts = client.lookup("Mingyuan-Notes.CN.")
    assert facts.error is None
    assert facts.expires_at == date(2028, 3, 2)
    assert facts.registrar == "阿里云计算有限公司（万网）"
    assert facts.source == "whois:127.0.0.1"


def test_idn_is_sent_as_a_label(server: Server) -> None:
    facts = WhoisClient(host="127.0.0.1", port=port(server), timeout_s=2).lookup("中文.cn")
    assert facts.error is None
    assert "xn--fiq228c.cn" in server.queries  # type: ignore[attr-defined]


def test_not_registered_is_an_error_fact(server: Server) -> None:
    facts = WhoisClient(host="127.0.0.1", port=port(server), timeout_s=2).lookup("nosuch.cn")
    assert facts.error and "未注册" in facts.error


def test_referral_to_the_registrar_adds_the_holder(server: Server) -> None:
    # First connection: the registry's thin record, referring to "localhost" (this same test
    # server); second connection: the registrar's thick record.
    server.answers["yunfandev.com"] = [THIN.format(referral="localhost"), THICK]  # type: ignore[attr-defined]
    client = WhoisClient(servers={"com": "127.0.0.1"}, port=port(server), timeout_s=2)
    facts = client.lookup("yunfandev.com")
    assert facts.registrar == "DNSPod, Inc."
    assert facts.expires_at == date(2028, 1, 15)
    assert facts.holder == "上海云帆信息科技有限公司"
    assert facts.source == "whois:127.0.0.1+localhost"


def test_forced_host_does_not_follow_referrals(server: Server) -> None:
    server.answers["yunfandev.com"] = [THIN.format(referral="localhost"), THICK]  # type: ignore[attr-defined]
    facts = WhoisClient(host="127.0.0.1", port=port(server), timeout_s=2).lookup("yunfandev.com")
    assert facts.holder is None and facts.source == "whois:127.0.0.1"


def test_unknown_tld_asks_iana_for_the_server(server: Server,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("beiandesk.adapters.whois.IANA_WHOIS", "127.0.0.1")
    client = WhoisClient(port=port(server), timeout_s=2, servers={}, follow_referral=False)
    client.servers.pop("top", None)
    with pytest.raises(WhoisError):  # the referred server does not exist on this machine
        client.lookup("yunfan.top")
    assert server.queries[-1] == "top"  # type: ignore[attr-defined]
    assert client.server_for("yunfan.top") == "whois.nic.top.test"


def test_slow_server_times_out(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(WhoisError, match="超时"):
        WhoisClient(host="127.0.0.1", port=port(server), timeout_s=0.3).lookup("slow.cn")
    assert time.monotonic() - started < 1.5


def test_size_cap(server: Server) -> None:
    text = query("127.0.0.1", "huge.cn", port=port(server), timeout_s=2, max_bytes=10_000)
    assert 0 < len(text.encode()) <= 10_000


def test_connection_refused() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
        with pytest.raises(WhoisError, match="无法连接"):
            WhoisClient(host="127.0.0.1", port=closed_port, timeout_s=1).lookup("mingyuan-notes.cn")
