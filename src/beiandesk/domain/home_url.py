"""The home-page address of a website: ``http(s)://`` on one of the website's own domains.

Source: api.md §Flow rules made precise ("``home_url`` must be ``http(s)://`` on one of the
website's domains (or a subdomain): ``home_url_invalid``"); the 管局 checks the footer on the
filed domain's home page (product.md §Scenario rules), so an address on another host, or a
scheme a browser does not open as a web page (``ftp://``, ``file://``), can never pass.
IDN hosts compare in their A-label form, so ``https://云帆科技.中国/`` matches the filed
``xn--9kqs09aildfw4a.xn--fiqs8s``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from beiandesk.domain.domains import to_ascii, to_unicode
from beiandesk.domain.problems import Problem, error

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def home_url_host(url: str) -> str | None:
    """The A-label host of an ``http(s)://`` URL without credentials, or None."""
    url = (url or "").strip()
    if not url or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return to_ascii(host)


def on_domains(host: str, domains: Iterable[str]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one (label-wise, not by suffix text:
    ``evilmingyuan-notes.cn`` is not under ``mingyuan-notes.cn``)."""
    for d in domains:
        a = to_ascii(d)
        if a and (host == a or host.endswith("." + a)):
            return True
    return False


def check_home_url(
    url: str, domains: Iterable[str], field: str = "proposed.home_url"
) -> list[Problem]:
    """``home_url_invalid`` unless ``url`` is http(s) on one of ``domains`` (or a subdomain).

    No problem when the website has no valid domain: ``domain_required`` already says so and
    there is nothing to compare with.
    """
    filed = [d for d in domains if to_ascii(d)]
    if not filed:
        return []
    shown = "、".join(to_unicode(to_ascii(d) or d) for d in filed)
    if not (url or "").strip():
        return [
            error("home_url_invalid", f"请填写网站首页地址，如 https://www.{filed[0]}/。", field)
        ]
    host = home_url_host(url)
    if host is None:
        return [
            error(
                "home_url_invalid",
                f"首页地址“{url.strip()[:200]}”无效：须是以 http:// 或 https:// 开头的网址，"
                f"如 https://www.{filed[0]}/。",
                field,
            )
        ]
    if not on_domains(host, filed):
        return [
            error(
                "home_url_invalid",
                f"首页地址的域名“{to_unicode(host)}”不是本网站的域名（{shown}）或其子域名：管局只核查已备案域名上的首页。",
                field,
            )
        ]
    return []
