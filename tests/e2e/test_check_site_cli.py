"""``beiandesk check-site`` as an operator runs it: a real process against pages on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

NUMBER = "粤ICP备20260001号-1"
PAGES = {
    "/": f'<html><head><meta charset="gbk"></head><body><p>明远技术笔记</p><footer>'
         f'<a href="https://beian.miit.gov.cn/">{NUMBER}</a></footer></body></html>'.encode("gbk"),
    "/wrong": '<html><body><a href="http://www.miitbeian.gov.cn/">粤ICP备20260001号-2</a>'
              "</body></html>".encode(),
    "/subject": '<html><body><a href="https://beian.miit.gov.cn/">粤ICP备20260001号</a>'
                "</body></html>".encode(),
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    script = shutil.which("beiandesk", path=os.path.dirname(sys.executable))
    cmd = [script] if script else [sys.executable, "-c",
                                   "from beiandesk.entrypoints.cli import main; main()"]
    env = {**os.environ, "BEIANDESK_PROBE_ALLOW_PRIVATE": "false"}  # the CLI ignores it
    return subprocess.run([*cmd, "check-site", *args], capture_output=True, text=True, check=False,
                          timeout=60, env=env, stdin=subprocess.DEVNULL)


def test_clean_gbk_page_on_loopback(base: str) -> None:
    out = run(base + "/", "--filing-number", NUMBER, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] is True and result["problems"] == []


def test_problems_exit_1(base: str) -> None:
    out = run(base + "/wrong", "--filing-number", "粤ICP备２０２６０００１号－１", "--json")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert result["ok"] is False
    assert [p["code"] for p in result["problems"]] == ["footer_filing_number_mismatch",
                                                       "footer_link_missing"]
    assert all(p["severity"] == "error" and p["message"] for p in result["problems"])


def test_subject_number_only_is_ok_with_a_warning(base: str) -> None:
    out = run(base + "/subject", "--filing-number", NUMBER, "--json")
    assert out.returncode == 0
    result = json.loads(out.stdout)
    assert result["ok"] is True
    assert [(p["code"], p["severity"]) for p in result["problems"]] == [
        ("footer_filing_number_subject_only", "warning")]


def test_unreachable_site_exit_1() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        out = run(f"http://127.0.0.1:{s.getsockname()[1]}/", "--filing-number", NUMBER, "--json")
    assert out.returncode == 1
    (problem,) = json.loads(out.stdout)["problems"]
    assert problem["code"] == "site_unreachable" and problem["reason"] == "connect"


def test_saved_page_as_file_url(tmp_path: Path) -> None:
    page = tmp_path / "首页.html"
    page.write_bytes(PAGES["/"])
    out = run(page.as_uri(), "--filing-number", NUMBER, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    out = run((tmp_path / "missing.html").as_uri(), "--filing-number", NUMBER, "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["problems"][0]["code"] == "site_unreachable"


def test_human_output(base: str) -> None:
    out = run(base + "/wrong", "--filing-number", NUMBER)
    assert out.returncode == 1
    assert "footer_filing_number_mismatch" in out.stdout


@pytest.mark.parametrize("args", [
    ("not a url", "--filing-number", NUMBER),
    ("ftp://127.0.0.1/", "--filing-number", NUMBER),
    ("www.example.cn", "--filing-number", NUMBER),
    ("http://127.0.0.1:9/", "--filing-number", "ICP-123"),
    ("http://127.0.0.1:9/",),
])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    out = run(*args, "--json")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.strip()
