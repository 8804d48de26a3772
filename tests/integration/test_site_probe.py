"""HttpSiteProbe against a real HTTP server on 127.0.0.1 (free port, short time-outs)."""

from __future__ import annotations

import functools
import gzip
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from beiandesk.adapters.site_probe import HttpSiteProbe, is_forbidden_address
from tests.local_http import QuietServer

NUMBER = "粤ICP备20260001号-1"
FOOTER = f'<footer><a href="https://beian.miit.gov.cn/" target="_blank">{NUMBER}</a></footer>'
# Enough Chinese prose for a charset detector to have something to work with.
PROSE = "明远技术笔记记录服务器运维、数据库调优和前端工程的实践经验，欢迎交流。" * 8


def html(body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head>{head}<title>明远技术笔记</title></head>"
            f"<body>{body}</body></html>")


OK_PAGE = html(f"<p>{PROSE}</p>{FOOTER}", '<meta charset="utf-8">').encode()

# path → (status, headers, body); callables get the handler for dynamic answers.
ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/ok": (200, {"Content-Type": "text/html; charset=utf-8"}, OK_PAGE),
    "/gbk-meta": (200, {"Content-Type": "text/html"},
                  html(f"<p>{PROSE}</p>{FOOTER}", '<meta charset="gbk">').encode("gbk")),
    "/gb2312-http-equiv": (200, {"Content-Type": "text/html"}, html(
        f"<p>{PROSE}</p>{FOOTER}",
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk")),
    "/gbk-header": (200, {"Content-Type": "text/html; charset=GBK"},
                    html(f"<p>{PROSE}</p>{FOOTER}").encode("gbk")),
    "/gb18030-detect": (200, {"Content-Type": "text/html"},
                        html(f"<p>{PROSE}</p>{FOOTER}").encode("gb18030")),
    "/latin1-header-gbk-meta": (200, {"Content-Type": "text/html; charset=ISO-8859-1"}, html(
        f"<p>{PROSE}</p>{FOOTER}", '<meta charset="gbk">').encode("gbk")),
    "/header-lies": (200, {"Content-Type": "text/html; charset=utf-8"}, html(
        f"<p>{PROSE}</p>{FOOTER}", '<meta charset="gb2312">').encode("gbk")),
    "/utf8-bom": (200, {"Content-Type": "text/html"},
                  b"\xef\xbb\xbf" + html(f"<p>{PROSE}</p>{FOOTER}").encode()),
    "/gzip": (200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
              gzip.compress(OK_PAGE)),
    "/wrong-number": (200, {"Content-Type": "text/html; charset=utf-8"},
                      OK_PAGE.replace("号-1".encode(), "号-2".encode())),
    "/obsolete-link": (200, {"Content-Type": "text/html; charset=utf-8"},
                       OK_PAGE.replace(b"https://beian.miit.gov.cn/", b"http://www.miitbeian.gov.cn/")),
    "/r1": (302, {"Location": "/r2"}, b""),
    "/r2": (301, {"Location": "r3"}, b""),
    "/r3": (307, {"Location": "/ok"}, b""),
    "/loop": (302, {"Location": "/loop"}, b""),
    "/refresh": (200, {"Content-Type": "text/html"}, html(
        "<p>跳转中…</p>", '<meta http-equiv="refresh" content="0; url=/ok">').encode()),
    "/self-refresh": (200, {"Content-Type": "text/html; charset=utf-8"}, html(
        f"<p>{PROSE}</p>{FOOTER}", '<meta http-equiv="refresh" content="0">').encode()),
    "/slow-refresh": (200, {"Content-Type": "text/html; charset=utf-8"}, html(
        f"<p>{PROSE}</p>{FOOTER}", '<meta http-equiv="refresh" content="300; url=/404">').encode()),
    "/404": (404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"),
    "/500": (500, {"Content-Type": "text/html"}, b"<h1>Internal Server Error</h1>"),
    "/image": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
    "/no-content-type": (200, {}, OK_PAGE),
    "/big-footer-first": (200, {"Content-Type": "text/html; charset=utf-8"},
                          html(FOOTER + "<p>" + "x" * 5_000_000 + "</p>").encode()),
    "/big-footer-last": (200, {"Content-Type": "text/html; charset=utf-8"},
                         html("<p>" + "x" * 5_000_000 + "</p>" + FOOTER).encode()),
}


@functools.cache
def bomb() -> bytes:
    """100 MB of zeros gzip to ~100 KB: a decompression bomb (built once, on first use)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * 1_000_000
    return z.compress(FOOTER.encode()) + b"".join(z.compress(zeros) for _ in range(100)) + z.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.seen_hosts.append(self.headers.get("Host"))  # type: ignore[attr-defined]
        if path == "/to-private-ip":
            target = f"http://127.0.0.2:{self.server.server_port}/ok"
            return self._send(302, {"Location": target}, b"")
        if path == "/to-private-name":
            return self._send(302, {"Location": "http://intranet.test/ok"}, b"")
        if path == "/slow":
            time.sleep(2)
        if path == "/trickle":
            return self._trickle()
        if path == "/bomb":
            gz = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
            return self._send(200, gz, bomb())
        status, headers, body = ROUTES.get(path, ROUTES["/404"])
        self._send(status, headers, body)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the probe stops reading at its byte cap

    def _trickle(self) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"<p>.</p>")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[QuietServer]:
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.seen_hosts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture()
def base(server: QuietServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def operator(**kw: object) -> HttpSiteProbe:
    return HttpSiteProbe(allow_private=True, timeout_s=2, **kw)  # type: ignore[arg-type]


def codes(problems: list) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize("path", ["/ok", "/gbk-meta", "/gb2312-http-equiv", "/gbk-header",
                                  "/gb18030-detect", "/latin1-header-gbk-meta", "/header-lies",
                                  "/utf8-bom", "/gzip", "/no-content-type", "/self-refresh",
                                  "/slow-refresh"])
def test_clean_pages_pass(base: str, path: str) -> None:
    assert operator().probe(base + path, NUMBER) == []


@pytest.mark.parametrize(("path", "codec"), [("/gbk-meta", "gb18030"), ("/gbk-header", "gb18030"),
                                             ("/gb18030-detect", "gb18030"), ("/ok", "utf-8")])
def test_charset_is_reported(base: str, path: str, codec: str) -> None:
    page = operator().fetch(base + path)
    assert page.encoding == codec
    assert "明远技术笔记" in page.text


def test_redirect_chain_is_followed_and_final_page_judged(base: str) -> None:
    page = operator().fetch(base + "/r1")
    assert page.url.endswith("/ok") and page.status == 200
    assert len(page.redirects) == 3
    assert operator().probe(base + "/r1", NUMBER) == []


def test_meta_refresh_is_followed(base: str) -> None:
    page = operator().fetch(base + "/refresh")
    assert page.url.endswith("/ok")


def test_too_many_redirects(base: str) -> None:
    (p,) = operator().probe(base + "/loop", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "too_many_redirects")
    assert operator(max_redirects=3).probe(base + "/r1", NUMBER) == []
    assert codes(operator(max_redirects=2).probe(base + "/r1", NUMBER)) == ["site_unreachable"]


def test_footer_problems_from_a_live_page(base: str) -> None:
    assert codes(operator().probe(base + "/wrong-number", NUMBER)) == [
        "footer_filing_number_mismatch"]
    assert codes(operator().probe(base + "/obsolete-link", NUMBER)) == ["footer_link_missing"]


@pytest.mark.parametrize(("path", "reason"), [("/404", "http_status"), ("/500", "http_status"),
                                              ("/image", "not_html")])
def test_unusable_answers_are_unreachable(base: str, path: str, reason: str) -> None:
    (p,) = operator().probe(base + path, NUMBER)
    assert (p.code, p.severity, p.extra["reason"]) == ("site_unreachable", "error", reason)


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        (p,) = operator().probe(f"http://127.0.0.1:{port}/", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "connect")


def test_slow_server_times_out(base: str) -> None:
    started = time.monotonic()
    (p,) = HttpSiteProbe(allow_private=True, timeout_s=0.3).probe(base + "/slow", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "timeout")
    assert time.monotonic() - started < 1.5


def test_trickling_server_hits_the_total_deadline(base: str) -> None:
    started = time.monotonic()
    (p,) = HttpSiteProbe(allow_private=True, timeout_s=0.3).probe(base + "/trickle", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "timeout")
    assert time.monotonic() - started < 2.5


def test_big_page_is_cut_at_the_cap_and_judged(base: str) -> None:
    probe = operator(max_bytes=1_000_000)
    page = probe.fetch(base + "/big-footer-first")
    assert page.truncated and len(page.text) <= 1_000_000
    assert probe.probe(base + "/big-footer-first", NUMBER) == []
    # The footer is past the cap: what was read has no number and no link.
    problems = probe.probe(base + "/big-footer-last", NUMBER)
    assert codes(problems) == ["footer_filing_number_missing", "footer_link_missing"]
    assert all(p.extra["truncated"] and "只检查了" in p.message for p in problems)


def test_decompression_bomb_is_bounded(base: str) -> None:
    started = time.monotonic()
    page = operator(max_bytes=500_000).fetch(base + "/bomb")
    assert page.truncated and len(page.text) <= 500_000
    assert time.monotonic() - started < 3


# --- SSRF -------------------------------------------------------------------------------------


def test_server_probe_refuses_loopback(base: str) -> None:
    (p,) = HttpSiteProbe(allow_private=False, timeout_s=1).probe(base + "/ok", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "address_forbidden")
    assert "127.0.0.1" in p.message


def _public_loopback(ip: object) -> bool:
    """Treat 127.0.0.1 as the 'public' test site; every other special address stays forbidden."""
    return str(ip) != "127.0.0.1" and is_forbidden_address(ip)  # type: ignore[arg-type]


def _resolver(port: int):
    table = {"site.test": ["127.0.0.1"], "intranet.test": ["10.20.30.40"],
             "127.0.0.1": ["127.0.0.1"], "127.0.0.2": ["127.0.0.2"]}

    def resolve(host: str, _port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


@pytest.mark.parametrize("path", ["/to-private-ip", "/to-private-name"])
def test_redirect_to_a_private_address_is_refused(server: QuietServer, path: str) -> None:
    probe = HttpSiteProbe(allow_private=False, timeout_s=1, resolver=_resolver(server.server_port),
                          forbidden=_public_loopback)
    (p,) = probe.probe(f"http://site.test:{server.server_port}{path}", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "address_forbidden")


def test_connection_is_pinned_to_the_checked_address(server: QuietServer) -> None:
    probe = HttpSiteProbe(allow_private=False, timeout_s=1, resolver=_resolver(server.server_port),
                          forbidden=_public_loopback)
    before = len(server.seen_hosts)  # type: ignore[attr-defined]
    assert probe.probe(f"http://site.test:{server.server_port}/ok", NUMBER) == []
    # Reached through the resolved IP, with the site's own name in Host.
    assert server.seen_hosts[before:] == [f"site.test:{server.server_port}"]  # type: ignore[attr-defined]


def test_dns_failure(server: QuietServer) -> None:
    probe = operator(resolver=_resolver(server.server_port))
    (p,) = probe.probe("http://no-such-site.test/", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "dns")


def test_url_without_scheme_is_taken_as_http(server: QuietServer) -> None:
    assert operator().probe(f"127.0.0.1:{server.server_port}/ok", NUMBER) == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "http:///nohost", "file:///etc/hostname", ""])
def test_bad_urls(url: str) -> None:
    (p,) = operator().probe(url, NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "bad_url")


def test_rewrite_maps_public_url_to_the_sandbox(base: str) -> None:
    public = "https://www.mingyuan-notes.cn"
    probe = operator(rewrite=lambda url: url.replace(public, base + "/r1#"))
    assert probe.probe("https://www.mingyuan-notes.cn/", NUMBER) == []


def test_invalid_filing_number_is_a_caller_error(base: str) -> None:
    with pytest.raises(ValueError):
        operator().probe(base + "/ok", "ICP")


# --- TLS with a pinned address ----------------------------------------------------------------


def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a leaf certificate for ``site.test``."""
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "beiandesk test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site.test")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(2)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("site.test")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = tmp / "ca.pem", tmp / "leaf.pem", tmp / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, ssl.SSLContext]]:
    ca, leaf, key = _certificates(tmp_path_factory.mktemp("tls"))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(leaf, key)
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.seen_hosts = []  # type: ignore[attr-defined]
    srv.socket = server_ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_port, ssl.create_default_context(cafile=str(ca))
    srv.shutdown()
    srv.server_close()


def _tls_probe(port: int, client_ctx: ssl.SSLContext) -> HttpSiteProbe:
    table = {"site.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    return HttpSiteProbe(allow_private=False, timeout_s=2, verify=client_ctx,
                         resolver=lambda host, _port: table[host], forbidden=_public_loopback)


def test_https_pinned_to_the_ip_verifies_the_certificate_name(tls_server: tuple) -> None:
    port, client_ctx = tls_server
    assert _tls_probe(port, client_ctx).probe(f"https://site.test:{port}/ok", NUMBER) == []


def test_https_certificate_for_another_name_is_unreachable(tls_server: tuple) -> None:
    port, client_ctx = tls_server
    (p,) = _tls_probe(port, client_ctx).probe(f"https://other.test:{port}/ok", NUMBER)
    assert (p.code, p.extra["reason"]) == ("site_unreachable", "tls")
    assert "other.test" in p.message
