"""The home-page footer rule: the filing number shown as text and linked to the MIIT system.

Sources: product.md ("The home page footer must show the website's filing number (e.g.
``粤ICP备20260001号-1``), linked to ``https://beian.miit.gov.cn``; otherwise the 管局 rejects");
《非经营性互联网信息服务备案管理办法》 art. 13 (the number at the bottom of the home page, linked to
the MIIT filing system); filing-rules-research.md §24 (the old host ``miitbeian.gov.cn`` is
obsolete — Aliyun sent SMS reminders about it) and the number format (``<省简称>ICP备<digits>号``
for the subject, ``-<n>`` per website; digit count not fixed).

Decisions (documented in the module so reviewers can change them in one place):

* Only **visible text** counts: text inside ``<script>``, ``<style>``, ``<noscript>``,
  ``<template>``, ``<title>``, ``<iframe>``, comments, attributes (``title``, ``alt``,
  ``value``) and elements hidden with the ``hidden`` attribute or an inline
  ``display:none``/``visibility:hidden`` does not. The 管局 looks at the rendered page; we
  cannot run JavaScript, so a footer written only by script is reported missing (the applicant
  fixes that by putting it in the HTML).
* The number is matched after normalising full-width characters (NFKC), dash variants,
  NBSP/ideographic spaces and zero-width characters; spaces may separate its parts
  (``粤ICP备 20260001号 - 1``), ``icp`` may be lower case and ``号`` may be left out.
* Showing the **subject** number (``粤ICP备20260001号``) when the website number
  (``…号-1``) is expected is accepted with a warning ``footer_filing_number_subject_only``:
  providers' own guides say the subject number is enough ("主体备案号即可") and many filed sites
  show only it. Another number (other digits, another ``-n``, another province, or an ICP-like
  text without a province) is ``footer_filing_number_mismatch``; no ICP number at all is
  ``footer_filing_number_missing``. When the expected number is itself a subject number, any
  website number of that subject is accepted.
* The link may be anywhere on the page (most footers wrap the number; the 管局 is not seen to
  require more): an ``<a>``/``<area>`` ``href`` (or a script link: ``javascript:``/``onclick``
  opening the URL) whose host is exactly ``beian.miit.gov.cn`` or ``www.beian.miit.gov.cn``
  (both serve the MIIT filing system and real footers use both, e.g.
  ``https://www.beian.miit.gov.cn/#/Integrated/index``), http or https, any path.
  ``miitbeian.gov.cn`` does not count.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from html.parser import HTMLParser

from beiandesk.domain.problems import Problem, error, warning

#: ICP abbreviations of the 31 provincial 管局 as they appear in filing numbers (蜀 for 四川,
#: 陇 for 甘肃, 陕 for 陕西: see data/provinces.csv). Kept here, not read from the CSV, so this
#: rule has no file I/O and no coupling to the province table's layout.
ICP_PROVINCE_ABBREVIATIONS: tuple[str, ...] = tuple(
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝蜀黔滇藏陕陇青宁新"
)

#: The MIIT filing system the footer must link to, and the obsolete host that no longer counts.
MIIT_HOST = "beian.miit.gov.cn"
#: Hosts a footer link may name: the MIIT system answers on both.
MIIT_HOSTS = frozenset({MIIT_HOST, "www." + MIIT_HOST})
MIIT_URL = "https://beian.miit.gov.cn"
OBSOLETE_MIIT_HOST = "miitbeian.gov.cn"

_PROV = "".join(ICP_PROVINCE_ABBREVIATIONS)
# 号 is optional and may also follow the website sequence ("粤ICP备20260001-1号" is seen in the
# wild). Digits of the main number are contiguous so that a year after the number ("号 2024")
# cannot be swallowed.
_NUMBER_RE = re.compile(
    rf"(?P<prov>[{_PROV}])\s*ICP\s*备\s*(?P<main>\d+)\s*(?:号\s*)?(?:-\s*(?P<seq>\d+)(?:\s*号)?)?",
    re.IGNORECASE,
)
# Any "ICP备<digits>" at all, to tell a malformed number (mismatch) from none (missing).
_LOOSE_RE = re.compile(r"(?P<pre>\S?)\s*ICP\s*备\s*(?P<main>\d+)", re.IGNORECASE)

# Character classes, not str.translate tables: translate walks a non-ASCII text character by
# character through a dict (~40 µs for a short footer, six times a check); a regex scan that finds
# nothing is a few µs.
_ZERO_WIDTH_RE = re.compile("[\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff]")
_DASHES_RE = re.compile("[‐‑‒–—―−﹘﹣－⁃]")

# Subtrees whose text a browser does not show as page content. Not <head>: html.parser does not
# close an unclosed <head> when <body> starts, so sloppy pages would lose their whole body.
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "title", "iframe"})
# Elements that never contain anything (the set BeautifulSoup's HTML builders use).
_VOID_TAGS = frozenset(
    "area base br col embed hr img input keygen link menuitem meta param source track wbr "
    "basefont bgsound command frame image isindex nextid spacer".split()
)
_SCRIPT_URL_RE = re.compile(r"(?:https?:)?//[^\s'\"<>)]+", re.IGNORECASE)
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass(frozen=True)
class FilingNumber:
    province: str
    main: str
    seq: str | None  # website sequence ("-1"); None for a subject number

    @property
    def subject(self) -> str:
        return f"{self.province}ICP备{self.main}号"

    def __str__(self) -> str:
        return self.subject + (f"-{self.seq}" if self.seq else "")


def normalize_text(text: str) -> str:
    """Full-width → half-width (NFKC), dash variants → ``-``, zero-width characters removed.

    NFKC also turns NBSP and the ideographic space into ordinary spaces, which the number
    pattern then tolerates between the parts of a number.
    """
    text = _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFKC", text))
    return _DASHES_RE.sub("-", text)


def _from_match(m: re.Match[str]) -> FilingNumber:
    seq = m.group("seq")
    return FilingNumber(m.group("prov"), m.group("main"), str(int(seq)) if seq else None)


def parse_filing_number(value: str) -> FilingNumber | None:
    """The filing number in ``value`` when the whole (normalised) value is one, else None."""
    m = _NUMBER_RE.fullmatch(normalize_text(value).strip())
    return _from_match(m) if m else None


def _find(text: str, normalized: bool = False) -> list[FilingNumber]:
    seen: dict[str, FilingNumber] = {}
    for m in _NUMBER_RE.finditer(text if normalized else normalize_text(text)):
        number = _from_match(m)
        seen.setdefault(str(number), number)
    return list(seen.values())


def find_filing_numbers(text: str) -> list[str]:
    """Every ICP filing number in ``text``, canonical form (``粤ICP备20260001号-1``), in order."""
    return [str(n) for n in _find(text)]


def _malformed_numbers(normalized: str) -> list[str]:
    """ICP-like texts without a valid province abbreviation (e.g. ``ICP备20260001号``) in an
    already normalised text."""
    out = []
    for m in _LOOSE_RE.finditer(normalized):
        pre = m.group("pre")
        if pre not in ICP_PROVINCE_ABBREVIATIONS:
            prefix = pre if "\u4e00" <= pre <= "\u9fff" else ""
            out.append(f"{prefix}ICP备{m.group('main')}号")
    return out


# --- HTML: visible text and links -------------------------------------------------------------


class _VisibleText(HTMLParser):
    """One pass over the page collecting its visible text and the hrefs of its visible links.

    The tree ``BeautifulSoup(html, "html.parser")`` would build, without building it (that tree
    was ~0.3 ms of a sweep's ~1.3 ms per site): the same tokenizer (``html.parser``), the same
    nesting — a void element (``<br>``) or ``<x/>`` opens nothing, an end tag closes the nearest
    open element of its name and everything opened inside it, a stray end tag is ignored — and
    the same text pieces (text between two pieces of markup is one piece; comments, doctype and
    CDATA are not text). No recursion and no tree: deep unclosed ``<div>``s cost nothing extra.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.hrefs: list[str] = []
        self._data: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (name, hidden: itself or an ancestor)
        self._open_names: dict[str, int] = {}

    def _hidden_here(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def _flush(self) -> None:
        if self._data:
            if not self._hidden_here():
                self.texts.append("".join(self._data))
            self._data.clear()

    def handle_data(self, data: str) -> None:
        self._data.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        values = dict(attrs)
        hidden = self._hidden_here() or _hidden(tag, values)
        if not hidden:
            self.hrefs.extend(_link_targets(tag, values))
        if tag not in _VOID_TAGS:
            self._open.append((tag, hidden))
            self._open_names[tag] = self._open_names.get(tag, 0) + 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        if not self._open_names.get(tag):
            return  # nothing of that name is open: ignored
        while self._open:
            name, _ = self._open.pop()
            self._open_names[name] -= 1
            if name == tag:
                return

    def handle_comment(self, data: str) -> None:
        self._flush()

    def handle_decl(self, decl: str) -> None:
        self._flush()

    def handle_pi(self, data: str) -> None:
        self._flush()

    def unknown_decl(self, data: str) -> None:
        self._flush()


def _hidden(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag in _INVISIBLE_TAGS or "hidden" in attrs:
        return True
    style = attrs.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE_RE.search(style))


def _visible_parts(html: str) -> tuple[str, list[str]]:
    """The page's visible text (pieces joined by spaces) and the hrefs of its visible links."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    parser._flush()
    return " ".join(parser.texts), parser.hrefs


def _link_targets(tag: str, attrs: dict[str, str | None]) -> list[str]:
    """Where clicking ``tag`` goes: an ``<a>``/``<area>`` ``href``, and URLs opened by script
    in a ``javascript:`` href or an ``onclick`` (``window.open('https://beian.miit.gov.cn')``
    works for the visitor, so it counts as a link)."""
    out: list[str] = []
    href = attrs.get("href") if tag in ("a", "area") else None
    if isinstance(href, str):
        if href.strip().lower().startswith("javascript:"):
            out.extend(_SCRIPT_URL_RE.findall(href))
        else:
            out.append(href)
    onclick = attrs.get("onclick")
    if isinstance(onclick, str):
        out.extend(_SCRIPT_URL_RE.findall(onclick))
    return out


def _link_host(href: str) -> str | None:
    # Browsers drop tabs/newlines inside URLs and surrounding spaces.
    href = re.sub(r"[\t\n\r]", "", href).strip()
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "") or not host:
        return None
    return host.rstrip(".").lower()


def has_miit_link(hrefs: list[str]) -> bool:
    return any(_link_host(h) in MIIT_HOSTS for h in hrefs)


def _has_obsolete_link(hrefs: list[str]) -> bool:
    return any((_link_host(h) or "").removeprefix("www.") == OBSOLETE_MIIT_HOST for h in hrefs)


# --- the rule ---------------------------------------------------------------------------------


def check_footer(html: str, filing_number: str, field: str = "proposed.home_url") -> list[Problem]:
    """Problems of a home page's footer against the website's filing number (see module doc).

    Raises ``ValueError`` when ``filing_number`` itself is not a filing number: that is a
    caller's mistake, not something the page can be blamed for.
    """
    expected = parse_filing_number(filing_number)
    if expected is None:
        raise ValueError(f"not a filing number: {filing_number!r}")
    text, hrefs = _visible_parts(html)
    text = normalize_text(text)
    problems = _number_problems(expected, _find(text, True), _malformed_numbers(text), field)
    if not has_miit_link(hrefs):
        problems.append(_link_missing(hrefs, expected, field))
    return problems


def _number_problems(
    expected: FilingNumber, found: list[FilingNumber], malformed: list[str], field: str
) -> list[Problem]:
    if any(n == expected for n in found):
        return []
    same_subject = [n for n in found if n.subject == expected.subject]
    if expected.seq is None and same_subject:
        return []  # a website number of the expected subject contains the subject number
    if any(n.seq is None for n in same_subject):
        return [
            warning(
                "footer_filing_number_subject_only",
                f"首页展示的是主体备案号“{expected.subject}”，没有带网站序号。多数管局接受主体备案号，"
                f"但建议改为展示本网站的备案号“{expected}”。",
                field,
                found=[str(n) for n in found],
                expected=str(expected),
            )
        ]
    shown = [str(n) for n in found] or malformed
    if shown:
        return [
            error(
                "footer_filing_number_mismatch",
                f"首页展示的备案号“{'、'.join(shown)}”与本网站的备案号“{expected}”不一致。"
                f"请把首页底部的备案号改为“{expected}”，否则管局会驳回。",
                field,
                found=shown,
                expected=str(expected),
            )
        ]
    return [
        error(
            "footer_filing_number_missing",
            f"首页的可见文字中找不到备案号。请在首页底部以文字形式展示“{expected}”，并链接到 "
            f"{MIIT_URL}（只写在图片、注释、脚本或标签属性里不算）。",
            field,
            expected=str(expected),
        )
    ]


def _link_missing(hrefs: list[str], expected: FilingNumber, field: str) -> Problem:
    hint = ""
    if _has_obsolete_link(hrefs):
        hint = f"页面上的链接指向旧地址 {OBSOLETE_MIIT_HOST}，该地址已停用，不再有效。"
    return error(
        "footer_link_missing",
        f"首页没有指向 {MIIT_URL} 的链接。{hint}请把页脚的备案号“{expected}”链接到 {MIIT_URL}"
        f"（工信部备案管理系统）。",
        field,
    )
