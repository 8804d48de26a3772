"""Small server-rendered SVG charts (no front-end build): bars with labelled axes."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

W, H = 640, 200
PAD_L, PAD_R, PAD_T, PAD_B = 44, 8, 16, 40


def bar_chart(
    points: list[tuple[str, float]], *, title: str, unit: str = "", css: str = "chart"
) -> Markup:
    """``points`` are (label, value); the chart scales to the largest value and stays readable
    at 375 px (it is drawn in a viewBox and shrinks with the page)."""
    top = max((v for _, v in points), default=0) or 1
    n = max(1, len(points))
    slot = (W - PAD_L - PAD_R) / n
    bar = max(2.0, slot * 0.66)
    inner_h = H - PAD_T - PAD_B
    parts = [
        f'<svg class="{escape(css)}" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for frac in (0, 1) if top <= 2 else (0, 0.5, 1):
        y = PAD_T + inner_h * (1 - frac)
        parts.append(
            f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">{_num(top * frac)}</text>'
        )
    every = max(1, round(n / 6))
    for i, (label, value) in enumerate(points):
        x = PAD_L + i * slot + (slot - bar) / 2
        h = inner_h * (value / top)
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_T + inner_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(label)}：{_num(value)}{escape(unit)}</title></rect>"
        )
        # regular labels, but none too close to the last one (today), which is always drawn
        if (i % every == 0 and n - 1 - i >= every) or i == n - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{H - PAD_B + 22}" text-anchor="middle" class="axis">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 or v >= 10 else f"{v:.1f}"
