"""The worker: huey consumer threads plus a ticker, running the use cases of services/jobs.

huey carries "deliver outbox row N" messages (enqueued right after the commit that wrote the
row) and a once-a-minute safety tick. A ticker thread runs the sub-minute duties — picking up
due outbox rows (retries, rows whose message was lost), polling the authority, reminders — so
nothing waits for huey's minute-granular periodic tasks.

An entry point like the API: ``beiandesk worker`` runs it alone, ``serve`` in-process unless
``--no-worker``. The huey glue (queue, consumer) is the adapter ``beiandesk.adapters.jobs``.
"""

from __future__ import annotations

import logging
import threading
import time

from huey import crontab
from huey.consumer import Consumer

from beiandesk.adapters.jobs import QuietConsumer as _QuietConsumer
from beiandesk.adapters.jobs import build_huey
from beiandesk.config import Settings
from beiandesk.services import jobs
from beiandesk.services.deps import Deps

log = logging.getLogger("beiandesk.adapters.jobs")  # the logger name operators already filter on


class JobRunner:
    def __init__(self, settings: Settings, deps: Deps) -> None:
        self.settings, self.deps = settings, deps
        self.huey = build_huey(settings)
        self._deliver = self.huey.task(name="deliver")(self._deliver_fn)
        self.huey.periodic_task(crontab(minute="*"), name="tick")(self._tick_fn)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumer: Consumer | None = None
        self._last_poll = 0.0

    def _deliver_fn(self, item_id: int) -> str:
        return jobs.deliver(self.deps, item_id)

    def _tick_fn(self) -> dict[str, int]:
        return jobs.tick(self.deps, self.enqueue)

    def enqueue(self, item_id: int) -> None:
        try:
            self._deliver(item_id)
        except Exception:  # noqa: BLE001 - the ticker picks the row up from our table anyway
            log.warning("could not enqueue outbox %s; the ticker will pick it up", item_id)

    def wake(self, ids: list[int]) -> None:
        for item_id in ids:
            self.enqueue(item_id)

    def start(self) -> None:
        # Beat first, then take back what an earlier process on this host left claimed.
        try:
            jobs.heartbeat(self.deps)
            jobs.reclaim(self.deps, at_start=True)
        except Exception:  # noqa: BLE001 - the ticker tries again
            log.exception("reclaiming dead outbox claims at start-up failed")
        hb = threading.Thread(target=self._heartbeat, name="beiandesk-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)
        self._consumer = _QuietConsumer(
            self.huey,
            workers=self.settings.worker_threads,
            worker_type="thread",
            periodic=True,
            check_worker_health=False,
            initial_delay=0.05,
            max_delay=0.5,
        )
        self._consumer.start()
        t = threading.Thread(target=self._ticker, name="beiandesk-ticker", daemon=True)
        t.start()
        self._threads.append(t)

    def _heartbeat(self) -> None:
        """Tell other nodes this worker lives (its claims are not taken over while it beats)."""
        while not self._stop.wait(jobs.HEARTBEAT_S):
            try:
                jobs.heartbeat(self.deps)
            except Exception:  # noqa: BLE001 - a missed beat is retried; 45 s of them hand claims over
                log.warning("worker heartbeat failed", exc_info=True)

    def _ticker(self) -> None:
        while not self._stop.wait(1.0):
            try:
                jobs.reclaim(self.deps)
                for item_id in jobs.due_outbox(self.deps):
                    self.enqueue(item_id)
                if (
                    self.deps.gateway is not None
                    and time.monotonic() - self._last_poll >= self.settings.poll_interval_s
                ):
                    self._last_poll = time.monotonic()
                    jobs.authority.poll(self.deps)
                jobs.remind(self.deps)
                jobs.remind_sms(self.deps)
            except Exception:  # noqa: BLE001 - a bad round must not kill the ticker
                log.exception("worker tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
        for t in self._threads:
            t.join(timeout=5)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
