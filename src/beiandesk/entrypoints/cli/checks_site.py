"""``beiandesk check-site URL --filing-number N [--json]``: fetch a home page, judge its footer.

An operator's tool (api.md): it may fetch any address, loopback and private ones included,
unlike the server's own probe (``BEIANDESK_PROBE_ALLOW_PRIVATE``), and a saved page given as a
``file://`` URL. Exit 0 when ok, 1 when an
error-severity problem was found (the site is unreachable, the number is missing or wrong, the
link is missing), 2 for a malformed URL or filing number or a missing option.
"""

from __future__ import annotations

import httpx
import typer

from beiandesk.domain.footer import parse_filing_number
from beiandesk.entrypoints.cli._output import emit, usage_error


def _valid_url(url: str) -> bool:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        return False
    if parsed.scheme == "file":  # a saved page: file:///path/to/index.html
        return bool(parsed.path.strip("/"))
    return parsed.scheme in ("http", "https") and bool(parsed.host) and " " not in url.strip()


def check_site(
    url: str = typer.Argument(..., help="网站首页地址，如 https://www.example.cn/"),
    filing_number: str = typer.Option(
        ..., "--filing-number", help="网站备案号，如 粤ICP备20260001号-1"
    ),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象 {ok, problems}"),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="每一步网络操作的超时（秒）"),
) -> None:
    """访问网站首页，检查页脚备案号和指向 beian.miit.gov.cn 的链接。"""
    if not _valid_url(url):
        raise usage_error(
            f"网址无效：{url!r}（需要完整的 http:// 或 https:// 网址，或 file:// 本地网页）"
        )
    expected = parse_filing_number(filing_number)
    if expected is None:
        raise usage_error(f"备案号格式不正确：{filing_number!r}（应形如 粤ICP备20260001号-1）")
    # The operator's own tool: no address restriction (api.md); bootstrap builds it, as it
    # builds the server's probe (with settings.probe_allow_private).
    from beiandesk import bootstrap

    probe = bootstrap.operator_site_probe(timeout)
    problems = probe.probe(url.strip(), str(expected), field="home_url")
    emit(problems, as_json, extra={"url": url.strip(), "filing_number": str(expected)})


def register(app: typer.Typer) -> None:
    app.command("check-site")(check_site)
