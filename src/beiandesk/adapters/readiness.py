"""Does each outside party answer? The database, the file store and the authority gateway.

Used by ``/readyz`` (a load balancer's health check): each check is bounded by a time-out and
reports ``{"ok": bool, "ms": float, "error"?: str}``; nothing here raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpx
from sqlalchemy import Engine, text

_POOL = ThreadPoolExecutor(max_workers=6, thread_name_prefix="beiandesk-readyz")


def database(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()

    return check


def file_store(store: Any) -> Callable[[], None]:
    return store.ping


def gateway(base_url: str, timeout_s: float) -> Callable[[], None]:
    """Any HTTP answer below 500 from ``{base}/healthz`` means the gateway is there."""

    def check() -> None:
        r = httpx.get(base_url.rstrip("/") + "/healthz", timeout=timeout_s)
        if r.status_code >= 500:
            raise RuntimeError(f"HTTP {r.status_code}")

    return check


def run(
    checks: dict[str, Callable[[], None] | None], timeout_s: float = 2.0
) -> dict[str, dict[str, Any]]:
    """Run the checks at once; ``None`` means "not configured" (reported, never a failure)."""
    started = time.perf_counter()
    futures = {name: _POOL.submit(_timed, fn) for name, fn in checks.items() if fn is not None}
    out: dict[str, dict[str, Any]] = {}
    for name, fn in checks.items():
        if fn is None:
            out[name] = {"ok": True, "configured": False}
            continue
        left = max(0.05, timeout_s - (time.perf_counter() - started))
        try:
            out[name] = futures[name].result(timeout=left)
        except FutureTimeout:
            out[name] = {"ok": False, "error": f"no answer within {timeout_s:g} s"}
    return out


def _timed(fn: Callable[[], None]) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a check reports, it never raises
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {str(exc)[:200]}",
            "ms": round((time.perf_counter() - t0) * 1000, 1),
        }
    return {"ok": True, "ms": round((time.perf_counter() - t0) * 1000, 1)}
