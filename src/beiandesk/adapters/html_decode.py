"""Reading an HTML body as a browser would: its charset, and an immediate meta refresh.

Charset order: a BOM, then the HTTP header, then ``<meta charset>``/``http-equiv``; undeclared,
UTF-8 when the bytes are valid UTF-8, else GB18030 when they are valid GB18030 (the zh-CN
browser default), and only then ``charset_normalizer``'s guess. GB2312/GBK are decoded as
their superset GB18030 and Latin-1 as windows-1252, as browsers do (WHATWG Encoding). A
declared charset that does not read the bytes is skipped (a server's default header over a GBK
page is common on Chinese hosting).
"""

from __future__ import annotations

import codecs
import re

META_REFRESH_MAX_S = 5
#: How much of the page to scan for ``<meta charset>`` and ``<meta http-equiv=refresh>``.
HEAD_SCAN_BYTES = 16 * 1024
#: How much of the page the charset detector samples (it is slow on megabytes).
DETECT_SAMPLE_BYTES = 64 * 1024
#: Undecodable bytes tolerated before a declared charset is judged wrong (or 0.1 % of the body).
MAX_BAD_CHARS = 8

_GB = {
    "gb2312",
    "gbk",
    "x-gbk",
    "gb_2312-80",
    "gb_2312",
    "cp936",
    "ms936",
    "windows-936",
    "csgb2312",
    "euc-cn",
    "euccn",
    "936",
}
_LATIN1 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB:
        return "gb18030"
    if label in _LATIN1:
        return "windows-1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decodes(body: bytes, codec: str, strict: bool = False) -> bool:
    """Whether ``codec`` reads ``body`` with at most a few bad bytes (a stray byte, or a
    multi-byte character cut in two by the size cap, must not discard the declared charset);
    ``strict`` (a guess, not a declaration) allows only the cut last character."""
    try:
        text = body.decode(codec, errors="replace")
    except LookupError:
        return False
    allowed = 1 if strict else max(MAX_BAD_CHARS, len(body) // 1000)
    return text.count("\ufffd") <= allowed


def decode_body(body: bytes, content_type: str) -> tuple[str, str]:
    """``(text, codec)`` of an HTML body (see the module doc for the order).

    A Latin-1 header is weak evidence (Java servers send it by default for pages that are really
    GBK or UTF-8), so the meta tag and the detector come before it.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace").lstrip("\ufeff"), codec
    m = re.search(r"charset\s*=\s*([^;\s]+)", content_type, re.IGNORECASE)
    header = _codec(m.group(1) if m else None)
    meta_match = _META_CHARSET.search(body[:HEAD_SCAN_BYTES])
    meta = _codec(meta_match.group(1).decode("ascii", "ignore") if meta_match else None)
    strong = [c for c in (header if header != "windows-1252" else None, meta) if c]
    # Undeclared: UTF-8 if the bytes are UTF-8 (GBK text almost never is), else GB18030 — the
    # fallback a zh-CN browser uses for legacy pages (WHATWG), where a detector guessing from a
    # short footer may say Big5.
    for codec in [*strong, "utf-8", "gb18030"]:
        if _decodes(body, codec, strict=codec not in strong):
            return body.decode(codec, errors="replace"), codec
    codec = _detect(body) or header or meta or "utf-8"
    return body.decode(codec, errors="replace"), codec


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:DETECT_SAMPLE_BYTES]).best()
    return _codec(best.encoding) if best else None


# --- meta refresh -----------------------------------------------------------------------------

_HIDDEN_BLOCKS = re.compile(
    r"<!--.*?-->|<noscript\b.*?</noscript\s*>|<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL
)
_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_REFRESH = re.compile(r"http-equiv\s*=\s*[\"']?refresh", re.IGNORECASE)
_CONTENT = re.compile(r"content\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.IGNORECASE)
_REFRESH_URL = re.compile(
    r"^\s*(\d+)(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?[\"']?([^\"'\s]*)", re.IGNORECASE
)


def meta_refresh_target(text: str) -> str | None:
    """The URL of an immediate ``<meta http-equiv="refresh">`` (≤ META_REFRESH_MAX_S)."""
    head = _HIDDEN_BLOCKS.sub("", text[: HEAD_SCAN_BYTES * 4])
    for tag in _META_TAG.findall(head):
        content = _CONTENT.search(tag)
        if not (_REFRESH.search(tag) and content):
            continue
        m = _REFRESH_URL.match(content.group(1).strip("\"'"))
        if m and m.group(2) and int(m.group(1)) <= META_REFRESH_MAX_S:
            return m.group(2)
    return None
