"""The probe's pure parts: address policy, charset choice, meta refresh (no network)."""

from __future__ import annotations

import ipaddress
import zlib

import pytest

from beiandesk.adapters.html_decode import decode_body, meta_refresh_target
from beiandesk.adapters.site_probe import _BoundedDecoder, is_forbidden_address

FORBIDDEN = ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1",
             "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1",
             "255.255.255.255", "192.0.2.10", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
             "ff02::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
             "2002:7f00:1::", "2002:a00:1::", "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1",
             "2001:db8::1"]
ALLOWED = ["119.29.100.21", "101.34.56.78", "8.8.8.8", "2400:da00::6666", "::ffff:119.29.100.21",
           "2002:771d:6415::", "64:ff9b::8.8.8.8"]


@pytest.mark.parametrize("ip", FORBIDDEN)
def test_forbidden_addresses(ip: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize("ip", ALLOWED)
def test_public_addresses(ip: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(ip))


TEXT = "<p>粤ICP备20260001号-1 明远技术笔记</p>"


@pytest.mark.parametrize(("body", "content_type", "codec"), [
    (TEXT.encode("gbk"), "text/html; charset=gbk", "gb18030"),
    (TEXT.encode("gbk"), "text/html; charset=GB2312", "gb18030"),
    (TEXT.encode("gbk"), 'text/html; charset="gbk"', "gb18030"),
    (b'<meta charset="gb2312">' + TEXT.encode("gbk"), "text/html", "gb18030"),
    (b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=GBK'>" + TEXT.encode("gbk"),
     "text/html", "gb18030"),
    (TEXT.encode(), "text/html; charset=utf-8", "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode(), "text/html; charset=gbk", "utf-8"),  # BOM wins
    (b'<meta charset="utf-8">' + TEXT.encode(), "text/html; charset=ISO-8859-1", "utf-8"),
    (b'<meta charset="gbk">' + TEXT.encode("gbk"), "text/html; charset=utf-8", "gb18030"),
    (b'<meta charset="no-such-charset">' + TEXT.encode(), "text/html", "utf-8"),
])
def test_charset_choice(body: bytes, content_type: str, codec: str) -> None:
    text, chosen = decode_body(body, content_type)
    assert chosen == codec
    assert "粤ICP备20260001号-1" in text


def test_short_undeclared_gbk_is_read_as_a_zh_cn_browser_would() -> None:
    body = '<a href="https://beian.miit.gov.cn">粤ICP备20260001号-1</a>'.encode("gbk")
    text, codec = decode_body(body, "text/html")
    assert codec == "gb18030" and "粤ICP备20260001号-1" in text


def test_declared_big5_is_respected() -> None:
    body = '<meta charset="big5"><p>網站備案</p>'.encode("big5")
    text, codec = decode_body(body, "text/html")
    assert codec == "big5" and "網站備案" in text


def test_a_cut_character_does_not_discard_the_declared_charset() -> None:
    body = ("明远" * 1000).encode()[:-1]  # the size cap cut the last character in two
    text, codec = decode_body(body, "text/html; charset=utf-8")
    assert codec == "utf-8" and text.startswith("明远明远")


def test_gb18030_four_byte_characters() -> None:
    body = '<meta charset="gb18030"><p>𠀀 粤ICP备20260001号</p>'.encode("gb18030")
    text, _ = decode_body(body, "text/html")
    assert "𠀀" in text


@pytest.mark.parametrize(("html", "target"), [
    ('<meta http-equiv="refresh" content="0; url=/home">', "/home"),
    ("<meta content='0;URL=https://www.example.cn/index.html' http-equiv='Refresh'>",
     "https://www.example.cn/index.html"),
    ('<meta http-equiv=refresh content="3;url=\'/a\'">', "/a"),
    ('<meta http-equiv="refresh" content="600; url=/later">', None),  # not immediate
    ('<meta http-equiv="refresh" content="5">', None),  # reload, no target
    ('<noscript><meta http-equiv="refresh" content="0; url=/nojs"></noscript>', None),
    ('<!-- <meta http-equiv="refresh" content="0; url=/old"> -->', None),
    ('<meta name="viewport" content="0; url=/x">', None),
])
def test_meta_refresh(html: str, target: str | None) -> None:
    assert meta_refresh_target(f"<html><head>{html}</head><body></body></html>") == target


def test_bounded_decoder_never_exceeds_the_limit() -> None:
    bomb = zlib.compress(b"\0" * 10_000_000)
    out = _BoundedDecoder("deflate").feed(bomb, 1000)
    assert len(out) == 1000


def test_raw_deflate_is_accepted() -> None:
    z = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = z.compress(b"hello world") + z.flush()
    assert _BoundedDecoder("deflate").feed(raw, 100) == b"hello world"
