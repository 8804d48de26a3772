"""Compliance sweep: the footer and reachability check run over every filed open website.

The same probe the pre-check uses, so the provider finds a missing or unlinked filing number
before the 管局 does (product.md §Beyond the anchors).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from beiandesk.domain.model import WebsiteStatus
from beiandesk.domain.problems import Problem, error
from beiandesk.services.deps import Deps


@dataclass
class SweepResult:
    website_id: int
    filing_number: str
    name: str
    home_url: str
    problems: list[Problem]

    def to_dict(self) -> dict:
        return {"website_id": self.website_id, "filing_number": self.filing_number, "name": self.name,
                "home_url": self.home_url, "ok": not any(p.is_error for p in self.problems),
                "problems": [p.to_dict() for p in self.problems]}


def sweep(d: Deps, concurrency: int = 8, progress: Callable[[int, int], None] | None = None) -> list[SweepResult]:
    with d.uow(readonly=True) as uow:
        sites = [w for w in uow.websites.list() if w.status == WebsiteStatus.open]
    total = len(sites)
    if progress:
        progress(0, total)
    if d.site_probe is None or not sites:
        return []
    done = 0

    def check(site) -> SweepResult:  # noqa: ANN001
        try:
            problems = d.site_probe.probe(site.info.home_url, site.filing_number)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the sweep
            problems = [error("site_check_failed", f"无法检查该网站：{type(exc).__name__}。请核对首页地址与备案号。",
                              field="home_url")]
        return SweepResult(site.id, site.filing_number, site.info.name, site.info.home_url, problems)

    results: list[SweepResult] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for result in pool.map(check, sites):
            results.append(result)
            done += 1
            if progress:
                progress(done, total)
    return results
