"""Run a coroutine on an event loop of its own, in a thread of its own: in the full suite the
e2e Playwright fixture keeps a loop running in the main thread, where ``asyncio.run`` refuses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any


def run_in_own_loop(
    make_coro: Callable[[], Coroutine[Any, Any, Any]],
    timeout: float = 30,
    new_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> Any:
    """``asyncio.run(make_coro())`` in a new thread (on a loop ``new_loop()`` makes, if given:
    uvloop's, a counting one); its result, or its exception re-raised here."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with asyncio.Runner(loop_factory=new_loop) as runner:
                result.append(runner.run(make_coro()))
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)

    th = threading.Thread(target=run)
    th.start()
    th.join(timeout)
    assert not th.is_alive(), "the loop did not finish in time"
    if errors:
        raise errors[0]
    return result[0]
