"""Compliance sweep at scale: N filed open websites served by one loopback server for many host names.

    python bench/bench_sweep.py [N=10000] [CONCURRENCY=32]

Prints sites/s and peak RSS of the sweep; the server answering for every siteN.sweep.test runs
in its own process (plain asyncio), so it is not the bottleneck and does not share the sweep's GIL. Target
(issue 11): ≥ 500 sites/s with bounded concurrency and memory.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beiandesk import bootstrap  # noqa: E402
from beiandesk.adapters.site_probe import HttpSiteProbe  # noqa: E402
from beiandesk.config import Settings  # noqa: E402
from beiandesk.services import sweep  # noqa: E402
from tests.many_sites import SWEEP_SUBJECT, ManySites, fill_websites, footer_page, loopback_resolver  # noqa: E402

def _page(host: str) -> str | None:
    """siteN.sweep.test's page: its own number, but one site in 20 shows the next one's."""
    if not host.startswith("site"):
        return None
    i = int(host[4:].split(".", 1)[0])
    return footer_page(f"{SWEEP_SUBJECT}-{i if i % 20 else i + 1}")


def _serve(port_out) -> None:  # noqa: ANN001
    """The loopback server in its own process: it does not share the sweep's GIL."""
    with ManySites(_page) as server:
        port_out.put(server.port)
        threading.Event().wait()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    var = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    settings = Settings(_env_file=None, var_dir=var, secret_key="bench-secret-key-0123456789abcdef",
                        data_key="bench-data-key-0123456789abcdef")
    app = bootstrap.build(settings)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    try:
        fill_websites(app.deps, n, port, lambda i, number: None)
        app.deps.site_probe = HttpSiteProbe(allow_private=True, resolver=loopback_resolver)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        summary = sweep.run(app.deps, concurrency, keep="failing")
        dt = time.perf_counter() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        server.kill()
    checked, failing = summary.checked, summary.failing
    print(f"sweep: {checked} sites in {dt:.2f} s = {checked / dt:.0f} sites/s "
          f"(concurrency {concurrency}); {failing} with problems; "
          f"peak RSS {rss1 / 1024:.0f} MB (before the sweep {rss0 / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
