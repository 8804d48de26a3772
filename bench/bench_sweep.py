"""Compliance sweep at scale: N filed open websites served by one loopback server for many host names.

    python bench/bench_sweep.py [N=10000] [CONCURRENCY=32]

Prints sites/s and peak RSS for the sweep alone (the server runs in the same process, on its
own asyncio thread; its share of the CPU is included, so the figure is conservative). Target
(issue 11): ≥ 500 sites/s with bounded concurrency and memory.
"""

from __future__ import annotations

import resource
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

def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    var = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    settings = Settings(_env_file=None, var_dir=var, secret_key="bench-secret-key-0123456789abcdef",
                        data_key="bench-data-key-0123456789abcdef")
    app = bootstrap.build(settings)
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        # One site in 20 shows a wrong number: the sweep has something to find.
        pages.update(fill_websites(app.deps, n, server.port, lambda i, number: footer_page(
            number if i % 20 else f"{SWEEP_SUBJECT}-{i + 1}")))
        app.deps.site_probe = HttpSiteProbe(allow_private=True, resolver=loopback_resolver)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        summary = sweep.run(app.deps, concurrency, keep="failing")
        dt = time.perf_counter() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    checked, failing = summary.checked, summary.failing
    print(f"sweep: {checked} sites in {dt:.2f} s = {checked / dt:.0f} sites/s "
          f"(concurrency {concurrency}); {failing} with problems; server answered {server.requests}; "
          f"peak RSS {rss1 / 1024:.0f} MB (before the sweep {rss0 / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
