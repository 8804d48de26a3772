"""A console address that does not exist is an HTML page in the console's look, not raw problem
JSON (issue 12); ``/api/`` keeps answering RFC 9457 problems."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_console_http import console_client


@pytest.fixture
def web(app: Any, seeded: Any) -> Iterator[TestClient]:
    with console_client(app) as c:
        yield c


@pytest.mark.parametrize("path", ["/no-such-page", "/changes/1/nothing-here", "/static/missing.css",
                                  "/websites/abc/x/y"])
def test_unknown_console_address_is_an_html_404(web, path: str) -> None:
    r = web.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "找不到该页面" in r.text and "回到首页" in r.text
    assert '"code"' not in r.text


def test_a_wrong_method_on_a_console_page_is_html_too(web) -> None:
    r = web.delete("/login", headers={"Accept": "text/html"})
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    assert "GET" in r.headers.get("allow", "")


def test_api_addresses_keep_problem_json(web) -> None:
    r = web.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found"
    r = web.get("/no-such-page", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
