"""Fixtures for the console's browser tests: a real demo server and Debian's chromium.

The server is the one ``serve --demo`` runs (API, console, mounted sandbox, in-process worker),
on a free 127.0.0.1 port, built in this process so the demo passwords can use cheap argon2
parameters. Chromium is ``/usr/bin/chromium`` driven by Playwright (never ``playwright
install``). Without it the browser tests skip, unless ``BEIANDESK_REQUIRE_BROWSER=1`` (CI),
where they fail. Screenshots of each step go to ``test-artifacts/console/<test>/``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("BEIANDESK_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "beiandesk-demo"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 740}
#: How long a step driven by the worker and the sandbox (hand-over, SMS, decision) may take.
FLOW_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    base: str
    app: Any


@pytest.fixture(scope="session")
def live_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``serve --demo`` in a thread: worker, sandbox and all, on a free loopback port."""
    import uvicorn

    from beiandesk import bootstrap
    from beiandesk.adapters.security import Passwords
    from beiandesk.config import Settings
    from beiandesk.entrypoints.cli.core import demo_settings
    from beiandesk.entrypoints.server import build_server_app
    from beiandesk.services.seed import seed_demo

    port = free_port()
    var = tmp_path_factory.mktemp("console-live")
    settings = demo_settings(Settings(_env_file=None, var_dir=var, database_url=None,  # type: ignore[call-arg]
                                      secret_key="console-e2e-secret-key-0123456789abcdef",
                                      data_key="console-e2e-data-key-0123456789abcdef",
                                      poll_interval_s=1.0, log_level="WARNING"), "127.0.0.1", port)
    built = bootstrap.build(settings, with_jobs=True, passwords=Passwords(time_cost=1, memory_cost=1024))
    seed_demo(built.deps)
    server = uvicorn.Server(uvicorn.Config(build_server_app(built), host="127.0.0.1", port=port,
                                           log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True, name="console-live")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("console test server did not start")
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", built)
    server.should_exit = True
    thread.join(15)
    built.engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"BEIANDESK_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered full-page screenshots of one test's steps."""

    def __init__(self, name: str) -> None:
        self.dir = ARTIFACTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()
        self.n = 0

    def __call__(self, page: Any, step: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.dir / f"{self.n:02d}-{step}.png"), full_page=True)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(re.sub(r"[^\w-]+", "_", request.node.name))


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    """A fresh context (its own cookies) with Chinese locale; fails on any page script error."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.script_errors = errors
    return page


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def wait_until(check: Callable[[], Any], timeout: float = FLOW_TIMEOUT_S, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout}s (last: {last!r})")


def reload_until(page: Any, url: str, text: str, timeout: float = FLOW_TIMEOUT_S) -> None:
    """Reload ``url`` until ``text`` is on it (the worker and the sandbox move the order)."""
    def seen() -> bool:
        page.goto(url)
        return text in page.locator("main").inner_text()
    wait_until(seen, timeout, interval=0.5)


def sms_codes(base: str, ref: str) -> list[dict[str, Any]]:
    """The sandbox phone network's messages for one authority order (api.md §sandbox)."""
    data = httpx.get(f"{base}/sandbox/messages", timeout=10).json()
    items = data.get("items", data) if isinstance(data, dict) else data
    return [m for m in items if m.get("ref") == ref]


def sample_files(tmp: Path) -> dict[str, Path]:
    """A passing verification photo (tests/photo_samples) and a scanned-ID-like PNG."""
    import cv2
    import numpy as np

    from tests.photo_samples import good_photo

    photo = tmp / "verification.jpg"
    photo.write_bytes(cv2.imencode(".jpg", good_photo())[1].tobytes())
    card = np.full((320, 500, 3), 236, np.uint8)
    cv2.rectangle(card, (20, 20), (480, 300), (90, 90, 90), 3)
    cv2.rectangle(card, (340, 70), (450, 210), (160, 160, 160), -1)
    scan = tmp / "id-card.png"
    scan.write_bytes(cv2.imencode(".png", card)[1].tobytes())
    return {"photo": photo, "scan": scan}


def drop_file(page: Any, zone: Any, path: Path, mime: str) -> None:
    """Drag a file onto a drop zone, as a person dragging it from their desktop would."""
    import base64

    zone.evaluate(
        """(el, [b64, name, mime]) => {
             const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
             const dt = new DataTransfer();
             dt.items.add(new File([bytes], name, {type: mime}));
             for (const type of ["dragenter", "dragover", "drop"]) {
               el.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
             }
           }""",
        [base64.b64encode(path.read_bytes()).decode(), path.name, mime],
    )
