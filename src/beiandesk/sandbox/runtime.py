"""The running sandbox: its service, and two background threads (ticker, callback deliverer).

Threads rather than asyncio tasks so that the same object works standalone, mounted inside
beiandesk (a mounted sub-app's lifespan never runs), and under a test client: whoever hosts the
sandbox calls ``start()`` once at start-up and ``stop()`` at shut-down. Both are idempotent.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from beiandesk.signing import shared_secret
from beiandesk.sandbox.callbacks import CallbackDeliverer
from beiandesk.sandbox.model import ClockFn, as_clock
from beiandesk.sandbox.service import SandboxService, SmsTiming
from beiandesk.sandbox.store import SandboxStore

if TYPE_CHECKING:
    from beiandesk.config import Settings

log = logging.getLogger("beiandesk.sandbox")

#: How often the ticker applies due transitions (codes due, windows run out), in seconds:
#: well under the shortest window a test or a demo would set.
TICK_INTERVAL_S = 0.5
#: The deliverer wakes at least this often for retries that have come due.
DELIVER_INTERVAL_S = 0.5


class Sandbox:
    def __init__(
        self,
        store: SandboxStore,
        service: SandboxService,
        deliverer: CallbackDeliverer,
        *,
        tick_interval_s: float = TICK_INTERVAL_S,
    ) -> None:
        self.store = store
        self.service = service
        self.deliverer = deliverer
        self.tick_interval_s = tick_interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        service.on_callback = self._wake.set

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def start(self) -> None:
        with self._lock:
            if self._threads:
                return
            self._stop.clear()
            self._threads = [
                threading.Thread(target=self._tick_loop, name="sandbox-ticker", daemon=True),
                threading.Thread(target=self._deliver_loop, name="sandbox-callbacks", daemon=True),
            ]
            for t in self._threads:
                t.start()

    def stop(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, []
            self._stop.set()
            self._wake.set()
        for t in threads:
            t.join(timeout=10)
        self.deliverer.close()

    def close(self) -> None:
        """Stop the threads and close the database file."""
        self.stop()
        self.store.close()

    def tick(self) -> None:
        """One pass of both loops, for tests that drive time by hand."""
        self.service.tick()
        self.deliverer.deliver_due()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.tick_interval_s):
            try:
                self.service.tick()
            except Exception:  # keep ticking: one bad pass must not stop the clock
                log.exception("sandbox tick failed")

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the pass: a wake during it triggers another pass
            try:
                self.deliverer.deliver_due()
            except Exception:
                log.exception("sandbox callback delivery failed")
            self._wake.wait(DELIVER_INTERVAL_S)


def build_sandbox(
    settings: Settings,
    *,
    clock: ClockFn | Any | None = None,
    public_url: str | None = None,
    db_path: Path | None = None,
) -> Sandbox:
    """Wire a sandbox from settings: its file, SMS timing, clock, callback secret.

    ``public_url`` is where people reach the sandbox (its verify page link in the SMS);
    default ``settings.public_url + "/sandbox"``.
    """
    store = SandboxStore(db_path or settings.resolved_sandbox_db())
    timing = SmsTiming(delay_s=settings.sandbox_sms_delay_s, window_s=settings.sandbox_sms_window_s)
    url = public_url or settings.public_url.rstrip("/") + "/sandbox"
    service = SandboxService(store, timing=timing, clock=as_clock(clock), public_url=url)
    deliverer = CallbackDeliverer(store, shared_secret(settings))
    return Sandbox(store, service, deliverer)
