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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beiandesk import bootstrap  # noqa: E402
from beiandesk.adapters.site_probe import HttpSiteProbe  # noqa: E402
from beiandesk.config import Settings  # noqa: E402
from beiandesk.domain.model import Principal, Resource, Subject, SubjectKind, Website, WebsiteInfo, WebsiteStatus  # noqa: E402
from beiandesk.services import sweep  # noqa: E402
from tests.many_sites import ManySites, footer_page, loopback_resolver  # noqa: E402

SUBJECT = "京ICP备20269999号"


def fill(deps, n: int, port: int) -> dict[str, str]:  # noqa: ANN001
    now = datetime.now(UTC)
    p = Principal("测试", "resident_id", "110101199003077777", "13800000000", "t@example.cn")
    pages = {}
    with deps.uow() as uow:
        subject = uow.subjects.add(Subject(0, None, SubjectKind.enterprise, "巡检测试有限公司", "北京", "uscc",
                                           "91110000MA00000000", SUBJECT, p), now)
        batch = []
        for i in range(1, n + 1):
            host = f"site{i}.sweep.test"
            number = f"{SUBJECT}-{i}"
            # One site in 20 shows a wrong number: the sweep has something to find.
            pages[host] = footer_page(number if i % 20 else f"{SUBJECT}-{i + 1}")
            info = WebsiteInfo(f"巡检网站{i}", (host,), f"http://{host}:{port}/", p, ("企业官网",), Resource())
            batch.append(Website(0, subject.id, number, WebsiteStatus.open, info))
        uow.websites.add_many(batch, now)
        uow.commit()
    return pages


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    var = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    settings = Settings(_env_file=None, var_dir=var, secret_key="bench-secret-key-0123456789abcdef",
                        data_key="bench-data-key-0123456789abcdef")
    app = bootstrap.build(settings)
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        pages.update(fill(app.deps, n, server.port))
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
