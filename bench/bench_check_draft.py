"""Benchmark: ``check-draft``'s engine per draft, warm (target ≤ 20 ms per draft).

Runs ``draft_to_input`` + ``run_precheck`` on every sample draft under tests/drafts/ —
the work ``beiandesk check-draft`` does after reading the file — and prints cold (first call:
data files, PSL snapshot, IDNA tables) and warm figures. Process start-up and the CLI's own
imports are not the engine and are reported separately.

    /work/venv/bin/python bench/bench_check_draft.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

DRAFTS = Path(__file__).resolve().parents[1] / "tests" / "drafts"
TARGET_MS = 20.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--cli", action="store_true", help="also time whole `beiandesk check-draft` processes"
    )
    args = parser.parse_args()

    drafts = [
        (p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(DRAFTS.glob("*.json"))
    ]
    t0 = time.perf_counter()
    from beiandesk.domain.precheck import run_precheck
    from beiandesk.domain.precheck_draft import draft_to_input

    import_ms = (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    run_precheck(draft_to_input(drafts[0][1]))
    cold_ms = (time.perf_counter() - t0) * 1000

    per_draft: dict[str, list[float]] = {name: [] for name, _ in drafts}
    for _ in range(args.rounds):
        for name, draft in drafts:
            t = time.perf_counter()
            run_precheck(draft_to_input(draft))
            per_draft[name].append((time.perf_counter() - t) * 1000)

    print(
        f"engine import: {import_ms:.1f} ms; first draft (cold: data, PSL, IDNA): {cold_ms:.1f} ms"
    )
    print(f"warm, {args.rounds} rounds x {len(drafts)} drafts (median / p95 / max, ms):")
    worst = 0.0
    for name, samples in per_draft.items():
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        worst = max(worst, p95)
        print(f"  {name:40s} {statistics.median(samples):6.3f} / {p95:6.3f} / {samples[-1]:6.3f}")
    verdict = "OK" if worst <= TARGET_MS else "OVER TARGET"
    print(f"worst p95 {worst:.3f} ms vs target {TARGET_MS:.0f} ms: {verdict}")

    if args.cli:
        exe = Path(sys.executable).with_name("beiandesk")
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(
                [str(exe), "check-draft", str(DRAFTS / "clean_personal.json"), "--json"],
                capture_output=True,
                check=False,
            )
            runs.append((time.perf_counter() - t) * 1000)
        print(
            f"whole CLI process (start-up + imports + engine), median of 5: {statistics.median(runs):.0f} ms"
        )


if __name__ == "__main__":
    main()
