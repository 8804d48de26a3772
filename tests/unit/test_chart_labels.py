"""The 运营报表 bar charts (helper J's walk-through): with 14 days the x-axis labelled days 12
and 13 side by side, which at 375 px (and even at 1280 px) ran together as 「12/112/2」. Labels
keep at least the regular spacing; the last bar (today) is always labelled."""

from __future__ import annotations

import re

from beiandesk.entrypoints.web.charts import bar_chart


def _labelled(svg: str, points: list[tuple[str, float]]) -> list[int]:
    texts = re.findall(r'class="axis">([^<]+)</text>', svg)
    names = [p[0] for p in points]
    return [names.index(t) for t in texts if t in names]


def test_axis_labels_never_touch_and_today_is_labelled() -> None:
    for n in (5, 7, 13, 14, 30):
        points = [(f"d{i}", float(i % 3)) for i in range(n)]
        idx = _labelled(str(bar_chart(points, title="t")), points)
        assert idx[-1] == n - 1 and idx[0] == 0
        every = max(1, round(n / 6))
        gaps = [b - a for a, b in zip(idx, idx[1:])]
        assert min(gaps) >= every, (n, idx)
