"""A real beiandesk server in a subprocess, an SMTP sink, and an HTTP driver for e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """aiosmtpd on 127.0.0.1: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(m["Subject"]) for m in self.messages]

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class LiveServer:
    def __init__(self, var_dir: Path, database_url: str, *, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ("serve", "--demo")) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.var_dir = var_dir
        self.env = {**os.environ, "BEIANDESK_VAR_DIR": str(var_dir), "BEIANDESK_DATABASE_URL": database_url,
                    "BEIANDESK_POLL_INTERVAL_S": "1", "BEIANDESK_SECRET_KEY": "e2e-secret-key-0123456789",
                    "BEIANDESK_DATA_KEY": "e2e-data-key-0123456789", "BEIANDESK_LOG_LEVEL": "WARNING",
                    **(env or {})}
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.log = var_dir.parent / f"server-{self.port}.log"

    def start(self) -> LiveServer:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "beiandesk", *self.args, "--port", str(self.port)]
        self._logfile = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self._logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def start_worker(self) -> LiveServer:
        """Start ``beiandesk worker`` (no HTTP port to wait for)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._logfile = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "beiandesk", *self.args], env=self.env,
                                     stdout=self._logfile, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_logfile", None):
            self._logfile.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, username: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=self.base, timeout=30)
        if username:
            r = c.post("/api/v1/auth/token", data={"username": username, "password": "beiandesk-demo"})
            r.raise_for_status()
            c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return c


def wait_for(check: Callable[[], Any], timeout: float = 30, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")
