"""Domain rules (pure): syntax, IDN, registrable domain, suffix, edits.

Sources: product.md §Rules ("Domain rules"); filing-rules-research.md §(b) rules 1–2 (a website
change may only delete domains) and 16 (only the registrable domain is filed). IDN handling
follows IDNA 2008 with UTS #46 mapping (the ``idna`` package), so ``例子.中国``,
``xn--fsqu00a.xn--fiqs8s`` and ``例子.中国.`` are the same domain. Registry facts (WHOIS/RDAP)
and the combined ``check_domains`` are in :mod:`beiandesk.domain.domain_facts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import idna

from beiandesk.domain.model import Subject, SubjectKind
from beiandesk.domain.problems import Problem, error, warning
from beiandesk.domain.provinces import find_province, read_data_csv, suffix_exclusions

#: RFC 1035: 253 characters for a name, 63 per label.
MAX_DOMAIN_LENGTH = 253
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
#: Ideographic and full-width full stops typed by Chinese input methods.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@lru_cache(
    maxsize=8192
)  # pure, and IDNA/UTS 46 mapping is costly: every edit re-checks the same names
def to_ascii(domain: str) -> str | None:
    """The lower-case A-label (punycode) form of ``domain``, or None when it is not a host name.

    Trailing dots, surrounding spaces, case and full-width dots are normalised away.
    """
    d = (domain or "").strip().translate(_DOTS).rstrip(".")
    if not d or len(d) > MAX_DOMAIN_LENGTH * 4:
        return None
    lower = d.lower()
    if lower.isascii() and all(_LABEL_RE.match(x) and x[2:4] != "--" for x in lower.split(".")):
        # Plain LDH labels (no A-labels, no "--" in 3rd/4th place): UTS 46 maps them to their
        # lower case and IDNA 2008 accepts them as they are, so the costly pass is skipped.
        ascii_form = lower
    else:
        try:
            ascii_form = idna.encode(d, uts46=True).decode("ascii").lower()
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    labels = ascii_form.split(".")
    if len(ascii_form) > MAX_DOMAIN_LENGTH or len(labels) < 2:
        return None
    if not all(_LABEL_RE.match(x) for x in labels):
        return None
    if labels[-1].isdigit():  # an IPv4 address, not a domain
        return None
    return ascii_form


@lru_cache(maxsize=8192)
def to_unicode(ascii_domain: str) -> str:
    """The U-label (display) form; the input if it cannot be decoded."""
    try:
        return idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        return ascii_domain


def normalize_domain(domain: str) -> str:
    """A comparison key: the A-label form, or the trimmed lower-case text when not a domain."""
    return to_ascii(domain) or (domain or "").strip().translate(_DOTS).rstrip(".").lower()


def check_domain_syntax(domain: str, field: str) -> list[Problem]:
    """A host name: LDH labels of 1–63, ≤253 in all, at least two labels; IDN allowed (UTS #46)."""
    if to_ascii(domain) is None:
        return [
            error(
                "domain_invalid",
                f"域名「{(domain or '').strip()}」格式不正确：请只填写域名本身（如 example.cn），"
                "不要带 http://、路径、端口或空格。",
                field,
            )
        ]
    return []


def check_domains_edit(
    current: Sequence[str], proposed: Sequence[str], field: str = "proposed.domains"
) -> list[Problem]:
    """In a 网站变更, domains may only be removed, and at least one must remain.

    Research §(b) rules 1–2 (Tencent 常见问题/变更信息 [S3]; Huawei [S7]); product.md: "In a
    website change, domains may only be removed, never added or edited; at least one must
    remain." A new domain goes through 新增网站 instead. Domains compare in normalised form
    (case, trailing dot, Unicode vs punycode), so re-spelling a filed domain is not an addition.
    """
    out: list[Problem] = []
    filed = {normalize_domain(d) for d in current}
    for i, domain in enumerate(proposed):
        f = f"{field}[{i}]"
        syntax = check_domain_syntax(domain, f)
        if syntax:
            out += syntax
            continue
        if normalize_domain(domain) not in filed:
            out.append(
                error(
                    "domain_add_not_allowed",
                    f"网站变更只能删除域名，不能新增或修改：「{domain.strip()}」不是该网站已备案的域名。"
                    "请删去它；如需新增域名，请在变更完成后办理「新增网站」。",
                    f,
                )
            )
    if not [d for d in proposed if (d or "").strip()]:
        out.append(error("domain_required", "网站至少需要保留一个已备案的域名。", field))
    return out


# --- registrable domain and fileable suffix -------------------------------------------------


@dataclass(frozen=True)
class Suffix:
    ascii: str  # A-label form without the leading dot: "com.cn", "xn--fiqs8s"
    text: str  # as listed: ".中国"
    only_provinces: frozenset[str]
    holder_kind: str  # "" or "government"


@lru_cache(maxsize=1)
def fileable_suffixes() -> dict[str, Suffix]:
    """``data/suffixes.csv`` (Tencent 243/18905, 2020-07-24 [S17]) keyed by A-label suffix."""
    out = {}
    for row in read_data_csv("suffixes.csv"):
        text = row["suffix"]
        ascii_form = idna.encode(text.lstrip("."), uts46=True).decode("ascii").lower()
        only = frozenset(x for x in row.get("only_provinces", "").split("|") if x)
        out[ascii_form] = Suffix(ascii_form, text, only, row.get("holder_kind", ""))
    return out


@lru_cache(maxsize=1)
def _psl() -> Any:
    """The Public Suffix List snapshot bundled with tldextract: never fetched, never cached
    on disk (``suffix_list_urls=()``, ``cache_dir=None``). Built lazily, once."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def public_suffix(ascii_domain: str) -> str:
    """The longest suffix under which names are registered: the PSL's, or a longer one on the
    fileable list (the PSL lacks 政务.cn and 公益.cn, which CNNIC registers under)."""
    psl = _psl()(ascii_domain).suffix
    labels = ascii_domain.split(".")
    for i in range(1, len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in fileable_suffixes():
            return candidate if len(candidate) > len(psl) else psl
    return psl


def registrable_domain(domain: str) -> str | None:
    """The registrable domain (one label under the public suffix), A-label form, or None."""
    ascii_domain = to_ascii(domain)
    if ascii_domain is None:
        return None
    suffix = public_suffix(ascii_domain)
    if not suffix or ascii_domain == suffix:
        return None
    head = ascii_domain[: -len(suffix) - 1]
    return f"{head.rsplit('.', 1)[-1]}.{suffix}"


def fileable_suffix(ascii_domain: str) -> Suffix | None:
    """The longest suffix of ``ascii_domain`` on the fileable list."""
    labels = ascii_domain.split(".")
    for i in range(1, len(labels)):
        found = fileable_suffixes().get(".".join(labels[i:]))
        if found:
            return found
    return None


def check_domain_form(domain: str, field: str) -> list[Problem]:
    """Syntax, then "only the registrable domain is filed" (research §(b) 16 [S17])."""
    problems = check_domain_syntax(domain, field)
    if problems:
        return problems
    ascii_domain = to_ascii(domain) or ""
    reg = registrable_domain(domain)
    if reg is None:
        return [
            error(
                "domain_invalid",
                f"「{domain.strip()}」是域名后缀而不是可注册的域名，请填写完整的主域名。",
                field,
            )
        ]
    if reg != ascii_domain:
        return [
            error(
                "domain_invalid",
                f"只需备案主域名：请把「{domain.strip()}」改为「{to_unicode(reg)}」（子域名随主域名备案，无需单独填写）。",
                field,
            )
        ]
    return []


def check_suffix(domain: str, field: str, subject: Subject) -> list[Problem]:
    """The suffix must be on the MIIT-approved list (data/suffixes.csv), not refused by the
    subject's province (province_rules.json ``suffix_exclusions``, e.g. 北京 refuses .asia), and
    .gov.cn/.政务/.mil.cn belong to 党政机关 (research §(b) 23 [S19]): a person can never file
    them; an organisation whose credit code is not a 机构编制 one (first character ``1``,
    GB 32100) gets a warning to check."""
    ascii_domain = to_ascii(domain) or ""
    found = fileable_suffix(ascii_domain)
    known = find_province(subject.province)
    province = known.name if known else subject.province.strip()
    excluded = suffix_exclusions(province)
    refused = found is not None and (
        f".{found.ascii}" in excluded
        or found.text.lower() in excluded
        or bool(found.only_provinces and province not in found.only_provinces)
    )
    if found is None or refused:
        shown = (
            found.text if found else "." + to_unicode(public_suffix(ascii_domain) or ascii_domain)
        )
        where = f"{province}管局" if refused else "工信部"
        return [
            error(
                "domain_suffix_not_fileable",
                f"域名后缀「{shown}」不在{where}可备案的域名后缀范围内：请改用可备案后缀（如 .cn、.com、.中国）的域名。",
                field,
            )
        ]
    if found.holder_kind == "government":
        return _government_suffix(found, field, subject)
    return []


def _government_suffix(found: Suffix, field: str, subject: Subject) -> list[Problem]:
    msg = f"「{found.text}」域名只能由党政机关等政务部门备案使用"
    if subject.kind == SubjectKind.personal:
        return [error("domain_suffix_not_fileable", msg + "，个人不能备案此类域名。", field)]
    if not subject.id_number.strip().upper().startswith("1"):
        return [
            warning(
                "domain_suffix_not_fileable", msg + "：请确认主体为机构编制部门登记的单位。", field
            )
        ]
    return []
