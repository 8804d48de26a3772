"""``/docs`` and ``/redoc`` work without internet: every script, style sheet and icon they load is
served by beiandesk itself (issue 12: Swagger UI came from a CDN, so /docs was blank offline)."""

from __future__ import annotations

import re

import pytest


def _assets(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(client, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assets = _assets(html)
    assert assets, html
    assert not re.search(r"https?://(?!testserver)", html.replace("http://www.w3.org", "")), \
        [a for a in assets if a.startswith("http")]
    for url in assets:
        got = client.get(url)
        assert got.status_code == 200, url
        assert len(got.content) > 100 or url.endswith("openapi.json"), url
    assert "/openapi.json" in html


def test_swagger_ui_bundle_is_the_real_thing(client) -> None:
    html = client.get("/docs").text
    js = next(a for a in _assets(html) if a.endswith(".js"))
    body = client.get(js).text
    assert "SwaggerUIBundle" in body and len(body) > 500_000
