"""Server-rendered SVG charts for dashboards (no JS library): bars with a target line, a trend line, counts.

Every label goes through markupsafe escaping (Markup.format); numbers are formatted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

OK, SHORT, TARGET, GRID = "#2e7d32", "#e65100", "#c62828", "#dee2e6"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def bar_chart(rows: Sequence[dict[str, Any]], key: str, target: float, title: str, target_label: str,
              chart_id: str) -> Markup:
    """Horizontal bars (one per street, rate 0–1) coloured by whether they reach `target`, with a dashed target line."""
    left, right, bar_h, gap, top = 118, 64, 16, 6, 34
    width = 560
    plot = width - left - right
    height = top + len(rows) * (bar_h + gap) + 26
    parts = [Markup('<svg class="ws-chart" id="{}" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
                    'xmlns="http://www.w3.org/2000/svg">').format(chart_id, width, height, title),
             Markup('<text x="4" y="16" class="ws-chart-title">{}</text>').format(title)]
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x = left + plot * tick
        parts.append(Markup('<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="{3}"/>'
                            '<text x="{0:.1f}" y="{4}" class="ws-chart-tick" text-anchor="middle">{5}%</text>')
                     .format(x, top - 4, height - 20, GRID, height - 6, int(tick * 100)))
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        rate = r.get(key)
        w = 0 if rate is None else plot * max(0.0, min(1.0, rate))
        color = OK if rate is not None and rate >= target - 1e-9 else SHORT
        parts.append(Markup('<g class="ws-bar" data-street="{0}" data-rate="{1}"><title>{2} {3}</title>'
                            '<text x="{4}" y="{5:.1f}" class="ws-chart-label" text-anchor="end">{2}</text>'
                            '<rect x="{6}" y="{7}" width="{8:.1f}" height="{9}" fill="{10}" rx="2"/>'
                            '<text x="{11:.1f}" y="{5:.1f}" class="ws-chart-value">{3}</text></g>')
                     .format(r.get("code", ""), "" if rate is None else f"{rate:.4f}", r.get("name", ""), _pct(rate),
                             left - 6, y + bar_h - 4, left, y, w, bar_h, color, left + w + 4))
    tx = left + plot * target
    parts.append(Markup('<line class="ws-target" x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="{3}" '
                        'stroke-width="2" stroke-dasharray="5 3"/>'
                        '<text x="{0:.1f}" y="{4}" class="ws-chart-target" text-anchor="middle" fill="{3}">{5}</text>')
                 .format(tx, top - 8, height - 20, TARGET, top - 10, target_label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def tick_indices(count: int, plot_w: float, label_px: float = 52.0) -> list[int]:
    """Which of `count` evenly spaced x labels to draw so that none overlaps the next (the last one always
    drawn, then every k-th going back): k is the fewest points that hold one label's width."""
    if count <= 0:
        return []
    gap = plot_w / max(1, count - 1)
    step = max(1, -(-int(label_px) // max(1, int(gap)))) if gap < label_px else 1
    return sorted(range(count - 1, -1, -step))


def trend_chart(points: Sequence[dict[str, Any]], series: Sequence[tuple[str, str, str, float]], title: str,
                chart_id: str) -> Markup:
    """A line per series (key, label, colour, target) over months; each target drawn as a dashed line."""
    left, right, top, bottom, width, height = 44, 120, 30, 34, 560, 230
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(points) - 1)
    parts = [Markup('<svg class="ws-chart" id="{}" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
                    'xmlns="http://www.w3.org/2000/svg">').format(chart_id, width, height, title),
             Markup('<text x="4" y="16" class="ws-chart-title">{}</text>').format(title)]

    def y_of(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, v)))

    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(Markup('<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="{3}"/>'
                            '<text x="{4}" y="{5:.1f}" class="ws-chart-tick" text-anchor="end">{6}%</text>')
                     .format(left, y_of(tick), left + plot_w, GRID, left - 4, y_of(tick) + 4, int(tick * 100)))
    shown = set(tick_indices(len(points), plot_w))
    for i, p in enumerate(points):
        if i in shown:
            parts.append(Markup('<text x="{:.1f}" y="{}" class="ws-chart-tick" text-anchor="middle">{}</text>')
                         .format(left + plot_w * i / n, height - 14, p["month"]))
    for k, (key, label, color, target) in enumerate(series):
        pts = [(left + plot_w * i / n, y_of(p[key])) for i, p in enumerate(points) if p.get(key) is not None]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(Markup('<polyline class="ws-trend-line" data-series="{}" points="{}" fill="none" stroke="{}" '
                                'stroke-width="2.2"/>').format(key, path, color))
            for x, y in pts:
                parts.append(Markup('<circle cx="{:.1f}" cy="{:.1f}" r="2.6" fill="{}"/>').format(x, y, color))
        parts.append(Markup('<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="{3}" stroke-dasharray="5 3" '
                            'opacity=".7"/>').format(left, y_of(target), left + plot_w, color))
        ly = top + 14 + k * 34
        last = points[-1].get(key) if points else None
        parts.append(Markup('<rect x="{0}" y="{1}" width="10" height="10" fill="{2}"/>'
                            '<text x="{3}" y="{4}" class="ws-chart-label">{5}</text>'
                            '<text x="{3}" y="{6}" class="ws-chart-tick">{7} → {8}</text>')
                     .format(left + plot_w + 10, ly - 9, color, left + plot_w + 24, ly, label, ly + 14,
                             _pct(last), _pct(target)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def count_bars(counts: Sequence[tuple[str, str, int, str]], title: str, chart_id: str) -> Markup:
    """Horizontal bars of counts: (key, label, count, colour)."""
    left, right, bar_h, gap, top, width = 150, 50, 16, 6, 28, 460
    plot = width - left - right
    most = max([c for _, _, c, _ in counts] + [1])
    height = top + len(counts) * (bar_h + gap) + 6
    parts = [Markup('<svg class="ws-chart" id="{}" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
                    'xmlns="http://www.w3.org/2000/svg">').format(chart_id, width, height, title),
             Markup('<text x="4" y="16" class="ws-chart-title">{}</text>').format(title)]
    for i, (key, label, count, color) in enumerate(counts):
        y = top + i * (bar_h + gap)
        w = plot * count / most
        parts.append(Markup('<g class="ws-count" data-key="{0}" data-count="{1}"><text x="{2}" y="{3}" '
                            'class="ws-chart-label" text-anchor="end">{4}</text><rect x="{5}" y="{6}" width="{7:.1f}" '
                            'height="{8}" fill="{9}" rx="2"/><text x="{10:.1f}" y="{3}" class="ws-chart-value">{1}'
                            '</text></g>').format(key, count, left - 6, y + bar_h - 4, label, left, y, w, bar_h, color,
                                                  left + w + 4))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


__all__ = ["bar_chart", "count_bars", "escape", "trend_chart"]
