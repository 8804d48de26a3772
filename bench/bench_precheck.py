"""Pre-check endpoint latency with external look-ups answered from the cache (target p95 ≤ 200 ms).

Starts ``beiandesk serve --demo`` (SQLite), opens a change on each open demo website, warms the
registry (RDAP) and home-page caches with one pre-check each, then times N more pre-checks.

    python bench/bench_precheck.py [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.live import LiveServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with LiveServer(Path(tmp) / "var", f"sqlite:///{tmp}/bench.db") as server:
            targets = []
            for user in ("demo-personal", "demo-enterprise"):
                client = server.client(user)
                for site in client.get("/api/v1/websites").json():
                    if site["status"] == "open":
                        cid = client.post(f"/api/v1/websites/{site['id']}/changes").json()["id"]
                        t0 = time.perf_counter()
                        client.get(f"/api/v1/changes/{cid}/precheck").raise_for_status()
                        print(f"cold pre-check (live RDAP + home page via sandbox): {1000 * (time.perf_counter() - t0):.0f} ms")
                        targets.append((client, cid))
            times = []
            for i in range(args.requests):
                client, cid = targets[i % len(targets)]
                t0 = time.perf_counter()
                client.get(f"/api/v1/changes/{cid}/precheck").raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"warm pre-check over HTTP, {len(times)} requests: median {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms (target p95 ≤ 200 ms)")


if __name__ == "__main__":
    main()
